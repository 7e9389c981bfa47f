"""The lake on a real S3-compatible server (S3Proxy on loopback) against the same run on disk.

One curation run (``thresher curate``: every stage and gate, as the DAG orders them) writes its
lake to ``s3a://`` through Spark's S3A connector while the same run writes a local lake; the
tables are then read back through the project's ``deltalake`` readers (what model tasks use)
and must hold the same rows. Credentials reach both only through the environment.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.corpus import html_page, ntrex_documents
from thresher import object_store
from thresher.config import Settings
from thresher.quadmix import QuadMixParams
from thresher.tables import PARTITIONED_TABLES, QUARANTINE, mixture_table

pytestmark = pytest.mark.object_store

DAY = dt.date(2026, 11, 1)
BUCKET = "thresher-lake"
# Every table a curation run writes: its partition of each partitioned table, and the mixture.
TABLES = (*PARTITIONED_TABLES, mixture_table("default"))
# Small models, as the DAG tests use them.
SMALL = {
    "THRESHER_LANGUAGES": "en,de,fr,ja",
    "THRESHER_SPARK_MASTER": "local[2]",
    "THRESHER_SPARK_SHUFFLE_PARTITIONS": "2",
    "THRESHER_SPARK_DRIVER_MEMORY": "1g",
    "THRESHER_SPARK_CONF": "spark.ui.enabled=false",
    "THRESHER_DOMAIN_LABELS_PER_LANGUAGE": "12",
    "THRESHER_QUALITY_CLASSIFIER_FEATURES": "4096",
    "THRESHER_QUALITY_CLASSIFIER_MAX_ITER": "20",
}


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    from tests.object_store import s3_server

    try:
        with s3_server(tmp_path_factory.mktemp("s3proxy")) as server:
            server.create_bucket(BUCKET)
            yield server
    except RuntimeError as missing:  # no Java or Maven on this machine
        pytest.skip(str(missing))


def _clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any AWS or THRESHER setting of the developer's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "THRESHER_"))}
    return {**env, "PATH": f"{Path(sys.executable).parent}:{env['PATH']}", **extra}


def _thresher(env: dict[str, str], *args: str, log: Path) -> subprocess.Popen:
    out = log.open("w")
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "thresher"), *args],
        env=env,
        cwd=REPO,
        stdout=out,
        stderr=subprocess.STDOUT,
    )


def _content_hash(frame) -> str:
    """Order-free hash of a table's rows (floats to 9 significant digits).

    A gate's stored Great Expectations report names its batch by a fresh id each run: what
    is compared of it is each expectation's type, arguments' columns and outcome.
    """
    if "report" in frame.columns:
        frame = frame.assign(report=frame["report"].map(_expectation_outcomes))
    rows = sorted(
        json.dumps(
            {k: (f"{v:.9g}" if isinstance(v, float) else v) for k, v in row.items()},
            sort_keys=True,
            default=str,
        )
        for row in frame.to_dict(orient="records")
    )
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def _expectation_outcomes(report: str) -> str:
    results = json.loads(report)["results"]
    return json.dumps(
        sorted(
            (
                r["expectation_config"]["type"],
                str(r["expectation_config"]["kwargs"].get("column")),
                r["success"],
            )
            for r in results
        )
    )


def _read(path: str):
    from deltalake import DeltaTable

    options = object_store.deltalake_options() if object_store.is_object_store(path) else None
    return DeltaTable(path, storage_options=options).to_pandas()


def test_a_curation_run_on_s3_writes_the_tables_of_the_same_run_on_disk(
    s3, shared_data, tmp_path, monkeypatch
):
    pages = tmp_path / "pages"
    pages.mkdir()
    for code in ("eng-US", "deu", "fra", "jpn"):
        for i, text in enumerate(ntrex_documents(shared_data, code, 2)):
            (pages / f"{code}-{i}.html").write_text(html_page(code, text), "utf-8")
    (pages / "eng-US-0-copy.html").write_bytes((pages / "eng-US-0.html").read_bytes())
    (pages / "broken.html").write_bytes(b"\xff\xfe not utf-8")
    args = ("curate", "--date", DAY.isoformat(), "--input", str(pages), "--source", "news")
    # Two pages a language: a (language, domain) group's only page has r̄ = 1, which ω = 1 keeps,
    # so the mixture (a table compared below) is never empty by chance of the domains.
    params = tmp_path / "params.json"
    criteria = ("rules", "reference_classifier")
    params.write_text(QuadMixParams.uniform(criteria, ("*",), omega=1.0).to_json())
    small = {**SMALL, "THRESHER_MIXTURE_PARAMS_PATH": str(params)}

    local_home, s3_home = tmp_path / "local", tmp_path / "s3"
    s3_root = f"s3a://{BUCKET}/lake"
    runs = {
        "local": _thresher(
            _clean_env(THRESHER_HOME=str(local_home), **small), *args, log=tmp_path / "local.log"
        ),
        "s3": _thresher(
            _clean_env(
                THRESHER_HOME=str(s3_home),
                THRESHER_STORAGE_ROOT=s3_root,
                **small,
                **s3.environment(),
            ),
            *args,
            log=tmp_path / "s3.log",
        ),
    }
    for name, process in runs.items():
        assert process.wait(timeout=900) == 0, (tmp_path / f"{name}.log").read_text()[-4000:]

    # Nothing of the run went to local disk but MLflow's store; the secret went nowhere.
    assert not (s3_home / "lake").exists()
    s3_log = (tmp_path / "s3.log").read_text()
    assert s3.secret_key not in s3_log and s3.access_key not in s3_log
    client = _mlflow(s3_home)
    (run,) = client.search_runs([client.get_experiment_by_name("thresher-curation").experiment_id])
    assert run.data.params["config.storage_root"] == s3_root
    assert run.info.status == "FINISHED"
    recorded = json.dumps([run.data.params, run.data.tags])
    assert s3.secret_key not in recorded and s3.access_key not in recorded

    # The same tables, read through deltalake with the endpoint and keys from the environment.
    for key, value in s3.environment().items():
        monkeypatch.setenv(key, value)
    local = Settings(home=local_home)
    remote = Settings(home=s3_home, storage_root=s3_root)
    counts = {}
    for spec in TABLES:
        on_disk, on_s3 = _read(spec.path(local)), _read(spec.path(remote))
        counts[spec.qualified_name] = len(on_s3)
        assert len(on_s3) == len(on_disk), spec.qualified_name
        assert _content_hash(on_s3) == _content_hash(on_disk), spec.qualified_name
    assert counts["bronze.documents"] == 9 and counts[QUARANTINE.qualified_name] == 1
    assert counts["silver.quality_scores"] > 0 and counts["gold.mixture_default"] > 0

    # What a rating pod reads: the partition's documents dedup kept (the copy is not among them).
    from models.murating.rate import kept_documents

    kept = kept_documents(remote, DAY)
    assert len(kept) == 8 and set(kept["language"]) == {"en", "de", "fr", "ja"}


def _mlflow(home: Path):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=f"sqlite:///{home / 'mlflow.db'}")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"AWS_SECRET_ACCESS_KEY": "not-the-secret"}, "access denied: check AWS_ACCESS_KEY_ID"),
        ({"THRESHER_STORAGE_ROOT": "s3a://no-such-bucket/lake"}, "does not exist at http://"),
    ],
    ids=["wrong-credential", "missing-bucket"],
)
def test_a_wrong_credential_or_a_missing_bucket_fails_with_one_line(s3, tmp_path, change, expected):
    env = _clean_env(
        THRESHER_HOME=str(tmp_path),
        THRESHER_STORAGE_ROOT=f"s3a://{BUCKET}/lake",
        **s3.environment(),
    )
    env.update(change)
    thresher = str(Path(sys.executable).parent / "thresher")
    result = subprocess.run(
        [thresher, "stats", "--date", DAY.isoformat()],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("thresher: stats: lake s3a://"), result.stderr
    assert expected in lines[0]
    assert s3.secret_key not in result.stderr + result.stdout
    assert not (tmp_path / "mlflow.db").exists()  # failed before any run was opened
