"""Curation: raw files → bronze → dedup → quality → domains → QuaDMix mixture, gated.

One partition a day; the mixture is re-sampled over every curated day after each run. The
run's partition is the date of its data interval.

The tasks are ``thresher.jobs.CURATION``, walked in its declared order: one task per job,
waiting for the jobs it declares. A job that declares a Great Expectations gate validates its
output in its own task, before the task succeeds; a failed gate fails the task without a
retry, and nothing downstream runs. Where a task runs is this file's only decision: in the
worker's process with Spark ``local[*]`` (``spark_jobs.pipeline``, what ``thresher curate``
runs), or — when ``THRESHER_SPARK_MASTER`` names a cluster — through the apache-spark
provider's ``SparkSubmitOperator``, whose application runs the same job (and gate) by name.
Parsing this file imports no Spark, MLflow or pandas.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, get_current_context, task

from thresher import names, object_store
from thresher.config import Settings
from thresher.jobs import CURATION, Job
from thresher_tasks.dag_arguments import airflow_run_tags, dag_arguments, path_param

DAG_ID = "curation"
SETTINGS = Settings.from_env()  # environment only: no I/O at parse time
# A cluster master: Spark jobs are submitted to it; otherwise they run in the task's process.
ON_CLUSTER = not SETTINGS.spark.master.startswith("local")
RUN_KEY = DAG_ID + "/{{ run_id }}"


def _context():
    from thresher.jobs import JobContext
    from thresher.partitions import partition_from_context
    from thresher_tasks.secret_masking import settings_with_masked_secrets

    context = get_current_context()
    return context, partition_from_context(context), settings_with_masked_secrets(), JobContext


def _fail_tracking_run(context) -> None:
    """A task failed for good: the DAG run's MLflow run ends FAILED, not RUNNING."""
    from thresher import tracking

    run_key = f"{DAG_ID}/{context['dag_run'].run_id}"
    tracking.finish_run_by_key(Settings.from_env(), run_key, status="FAILED")


@task
def open_tracking_run() -> str:
    """Find or create this DAG run's MLflow run (a retry finds the same one)."""
    from thresher import tracking

    context, partition, settings, _ = _context()
    dag_run = context["dag_run"]
    return tracking.open_run(
        settings,
        run_key=f"{DAG_ID}/{dag_run.run_id}",
        run_name=f"{DAG_ID} {partition}",
        tags={"thresher.partition": partition.isoformat(), **airflow_run_tags(dag_run)},
    )


@task
def run_job(mlflow_run_id: str, job_name: str, upstream: list) -> dict:
    """One declared job and its gate, in this process (``spark_jobs.pipeline.run_gated``)."""
    from airflow.sdk.exceptions import AirflowFailException

    from spark_jobs import pipeline
    from spark_jobs.quality_gate import GateFailed

    context, partition, settings, job_context = _context()
    params = {name: context["params"].get(name) or None for name in CURATION.params}
    ctx = job_context(settings, partition, mlflow_run_id, params)
    try:
        return pipeline.run_gated(CURATION.job(job_name), ctx)
    except GateFailed as failed:  # a finding about the data, not a transient error: no retry
        raise AirflowFailException(f"GateFailed: {failed}") from failed


def submitted(job: Job):
    """The job as a spark-submit of ``thresher <job>`` (the job, then its gate) to the
    configured cluster."""
    from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

    from spark_jobs.submit import spark_submit_operator_arguments

    args = [job.name, "--date", "{{ ds }}", "--run-key", RUN_KEY]
    args += [f"--{p.replace('_', '-')}={{{{ params.{p} }}}}" for p in job.params]
    return SparkSubmitOperator(
        task_id=job.name,
        conn_id=SETTINGS.spark.connection_id,
        retries=SETTINGS.airflow.task_retries,
        **spark_submit_operator_arguments(SETTINGS, args),
    )


@dag(
    **dag_arguments(
        DAG_ID,
        SETTINGS,
        description="Ingest, deduplicate, score, classify and sample multilingual pages; "
        "a Great Expectations gate after every stage.",
        schedule="@daily",
        tags=["curation", "spark", "delta", "dedup", "quadmix"],
        doc_md=__doc__,
        params={
            "input_path": path_param(
                SETTINGS.input_path,
                "File or folder of HTML / Mallard / JSONL / WARC / Parquet input.",
            ),
            "source": Param(
                "",
                type="string",
                pattern=r"^$|" + names.LABEL_PATTERN,
                description="Source label stored with every document (letters, digits, . _ -); "
                "empty: the folder's name.",
            ),
        },
        # On S3 without a multi-driver log store, one Spark driver commits at a time.
        max_active_tasks=1 if object_store.single_writer(SETTINGS) else None,
        retry_exponential_backoff=True,
        on_failure_callback=_fail_tracking_run,
    )
)
def curation():
    mlflow_run_id = open_tracking_run()
    tasks = {}  # job name → its task
    for job in CURATION.jobs:
        upstream = [tasks[name] for name in job.after]
        if ON_CLUSTER:
            tasks[job.name] = submitted(job)
            [mlflow_run_id, *upstream] >> tasks[job.name]
        else:
            tasks[job.name] = run_job.override(task_id=job.name)(mlflow_run_id, job.name, upstream)


curation()
