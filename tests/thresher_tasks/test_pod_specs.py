"""Every pod a DAG would start is a valid Kubernetes Pod and follows the platform's rules."""

from __future__ import annotations

import copy

import pytest

from tests.conftest import REPO
from thresher_tasks.pod_specs import pod_problems, render_pods


@pytest.fixture(scope="module")
def kubernetes_dags(tmp_path_factory):
    """All DAGs, parsed as a Kubernetes deployment would parse them."""
    from airflow.dag_processing.dagbag import DagBag

    mp = pytest.MonkeyPatch()
    mp.setenv("THRESHER_EXECUTOR", "kubernetes")
    mp.setenv("THRESHER_STORAGE_ROOT", "s3a://thresher-lake/prod")
    mp.setenv("THRESHER_HOME", str(tmp_path_factory.mktemp("k8s-home")))
    try:
        bag = DagBag(dag_folder=str(REPO / "dags"))
    finally:
        mp.undo()
    assert bag.import_errors == {}
    return bag


@pytest.fixture(scope="module")
def pods(kubernetes_dags) -> dict[str, dict]:
    out = {}
    upstream = {
        "training_corpus": {
            "path": "s3a://thresher-lake/prod/gold/corpus_default",
            "corpus.mixture_version": 7,
        }
    }
    for dag_id, dag in kubernetes_dags.dags.items():
        rendered = render_pods(dag, xcom=upstream)
        out.update({f"{dag_id}.{task}": pod for task, pod in rendered.items()})
    assert out, "no DAG builds a pod in kubernetes mode"
    return out


def test_every_rendered_pod_is_valid(pods):
    problems = {name: pod_problems(pod) for name, pod in pods.items()}
    assert {k: v for k, v in problems.items() if v} == {}


def test_pods_carry_the_run_partition_and_identity(pods):
    pod = pods["pretraining.pretrain"]
    labels = pod["metadata"]["labels"]
    assert labels["dag_id"] == "pretraining" and labels["task_id"] == "pretrain"
    assert labels["run_id"].startswith("scheduled__2026-01-01")
    container = pod["spec"]["containers"][0]
    assert container["command"] == ["python", "-m", "models.pretrain.train"]
    args = container["args"]
    assert "{{" not in " ".join(args)  # templates rendered
    assert args[args.index("--corpus") + 1] == "s3a://thresher-lake/prod/gold/corpus_default"
    assert args[args.index("--tokenizer") + 1] == "tokenizers/default/v7"
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"


@pytest.fixture
def gpu_pod(pods) -> dict:
    return copy.deepcopy(pods["pretraining.pretrain"])


def test_a_literal_secret_is_rejected(gpu_pod):
    gpu_pod["spec"]["containers"][0]["env"].append(
        {"name": "MLFLOW_TRACKING_PASSWORD", "value": "hunter2"}
    )
    assert any("MLFLOW_TRACKING_PASSWORD is a literal" in p for p in pod_problems(gpu_pod))


def test_a_password_inside_a_uri_is_rejected(gpu_pod):
    gpu_pod["spec"]["containers"][0]["env"].append(
        {"name": "DATABASE", "value": "postgresql://mlflow:hunter2@db:5432/mlflow"}
    )
    assert any("password" in p for p in pod_problems(gpu_pod))


def test_a_missing_gpu_limit_is_rejected(gpu_pod):
    del gpu_pod["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"]
    assert any("no GPU limit" in p for p in pod_problems(gpu_pod))


def test_an_invalid_field_is_rejected_by_the_schema(gpu_pod):
    gpu_pod["spec"]["containers"][0]["gpus"] = 1  # not a Container field
    gpu_pod["spec"]["restartPolicy"] = 3  # wrong type
    problems = pod_problems(gpu_pod)
    assert any(p.startswith("schema:") for p in problems), problems


def test_root_and_privilege_escalation_are_rejected(gpu_pod):
    gpu_pod["spec"]["securityContext"]["runAsNonRoot"] = False
    gpu_pod["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = True
    problems = pod_problems(gpu_pod)
    assert any("runAsNonRoot" in p for p in problems)
    assert any("allowPrivilegeEscalation" in p for p in problems)


def test_a_bad_quantity_and_a_bad_label_are_rejected(gpu_pod):
    gpu_pod["spec"]["containers"][0]["resources"]["limits"]["memory"] = "lots"
    gpu_pod["metadata"]["labels"]["run_id"] = "manual__2026-01-01T00:00:00+00:00"
    problems = pod_problems(gpu_pod)
    assert any("memory='lots'" in p for p in problems)
    assert any("not a valid label value" in p for p in problems)
