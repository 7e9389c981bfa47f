"""Curation: raw files → bronze → dedup → quality → domain → QuaDMix mixture, gated.

One partition a day; the mixture is re-sampled over every curated day after each run.

The run's partition is the date of its data interval. Each task calls one stage entry point
in ``spark_jobs.stages`` (the same code ``thresher ingest|gate|stats`` runs) and imports it
inside the task, so parsing this file touches no Spark, MLflow or pandas.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from thresher import names
from thresher.config import Settings

DAG_ID = "curation"


SETTINGS = Settings.from_env()  # environment only: no I/O at parse time


def _run_context() -> tuple[Settings, object, dict]:
    from thresher.partitions import partition_from_context
    from thresher_tasks.secret_masking import settings_with_masked_secrets

    context = get_current_context()
    return settings_with_masked_secrets(), partition_from_context(context), context


def _fail_tracking_run(context) -> None:
    """A task failed for good: the DAG run's MLflow run ends FAILED, not RUNNING."""
    from thresher import tracking

    run_key = f"{DAG_ID}/{context['dag_run'].run_id}"
    tracking.finish_run_by_key(Settings.from_env(), run_key, status="FAILED")


@dag(
    dag_id=DAG_ID,
    description="Ingest, deduplicate, score, classify and sample multilingual pages; "
    "a Great Expectations gate after every stage.",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["thresher", "curation", "spark", "delta", "dedup", "quadmix"],
    default_args={
        "owner": "thresher",
        "retries": SETTINGS.airflow.task_retries,
        "retry_delay": timedelta(seconds=SETTINGS.airflow.retry_delay_seconds),
        "retry_exponential_backoff": True,
        "on_failure_callback": _fail_tracking_run,
    },
    params={
        "input_path": Param(
            SETTINGS.input_path,
            type="string",
            pattern=names.PATH_PATTERN,
            description="File or folder of HTML / Mallard / JSONL / WARC / Parquet input.",
        ),
        "source": Param(
            "",
            type="string",
            pattern=r"^$|" + names.LABEL_PATTERN,
            description="Source label stored with every document (letters, digits, . _ -); "
            "empty: the folder's name.",
        ),
    },
    doc_md=__doc__,
)
def curation():
    @task
    def open_tracking_run() -> str:
        """Find or create this DAG run's MLflow run (a retry finds the same one)."""
        from thresher import tracking

        settings, partition, context = _run_context()
        dag_run = context["dag_run"]
        return tracking.open_run(
            settings,
            run_key=f"{DAG_ID}/{dag_run.run_id}",
            run_name=f"{DAG_ID} {partition}",
            tags={
                "thresher.partition": partition.isoformat(),
                "thresher.via": "airflow",
                "airflow.dag_id": DAG_ID,
                "airflow.run_id": dag_run.run_id,
            },
        )

    @task
    def ingest(mlflow_run_id: str) -> dict:
        from spark_jobs.stages import ingest_stage

        settings, partition, context = _run_context()
        params = context["params"]
        return ingest_stage(
            settings, partition, mlflow_run_id, params["input_path"], params["source"] or None
        )

    # A failed gate is a finding about the data, not a transient error: no retries.
    @task(retries=0)
    def gate(mlflow_run_id: str, upstream: dict, name: str) -> dict:
        """Validate the stage's output with its Great Expectations suite (``name``)."""
        from spark_jobs.stages import gate_stage

        settings, partition, _ = _run_context()
        return gate_stage(settings, partition, mlflow_run_id, gate=name)

    def gate_after(task_id: str, name: str, mlflow_run_id, upstream):
        return gate.override(task_id=task_id)(mlflow_run_id, upstream, name=name)

    @task
    def dedup(mlflow_run_id: str, gate: dict) -> dict:
        from spark_jobs.stages import dedup_stage

        settings, partition, _ = _run_context()
        return dedup_stage(settings, partition, mlflow_run_id)

    @task
    def reference_classifier(mlflow_run_id: str, gate: dict) -> dict:
        """Train the configured classifier version once; later runs find it saved.

        Its negatives are a sample of bronze documents, so it waits for the first ingest.
        """
        from spark_jobs.stages import reference_classifier_stage

        settings, _, _ = _run_context()
        return reference_classifier_stage(settings, mlflow_run_id)

    @task
    def quality(mlflow_run_id: str, gate: dict, classifier: dict) -> dict:
        from spark_jobs.stages import quality_stage

        settings, partition, _ = _run_context()
        return quality_stage(settings, partition, mlflow_run_id)

    @task
    def domain_model(mlflow_run_id: str) -> dict:
        """Train the configured domain classifier version once (kmeans fits on first use)."""
        from spark_jobs.stages import domain_model_stage

        settings, _, _ = _run_context()
        return domain_model_stage(settings, mlflow_run_id)

    @task
    def domains(mlflow_run_id: str, gate: dict, model: dict) -> dict:
        from spark_jobs.stages import domain_stage

        settings, partition, _ = _run_context()
        return domain_stage(settings, partition, mlflow_run_id)

    @task
    def mixture(mlflow_run_id: str, scores_ok: dict, domains_ok: dict) -> dict:
        from spark_jobs.stages import mixture_stage

        settings, _, _ = _run_context()
        return mixture_stage(settings, mlflow_run_id)

    @task
    def stage_statistics(mlflow_run_id: str, gate: dict) -> dict:
        from spark_jobs.stages import stats_stage

        settings, partition, _ = _run_context()
        return stats_stage(settings, partition, mlflow_run_id)

    run_id = open_tracking_run()
    bronze_ok = gate_after("bronze_gate", "bronze_documents", run_id, ingest(run_id))
    deduplicated = gate_after("dedup_gate", "silver_dedup", run_id, dedup(run_id, bronze_ok))
    classifier = reference_classifier(run_id, bronze_ok)
    scored = quality(run_id, deduplicated, classifier)
    scores_ok = gate_after("quality_gate", "silver_quality_scores", run_id, scored)
    classified = domains(run_id, deduplicated, domain_model(run_id))
    domains_ok = gate_after("domains_gate", "silver_domains", run_id, classified)
    sampled = mixture(run_id, scores_ok, domains_ok)
    stage_statistics(run_id, gate_after("mixture_gate", "gold_mixture", run_id, sampled))


curation()
