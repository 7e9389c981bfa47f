"""POSO experiments: MovieLens-format events → baseline and POSO variants × seeds → summary.

Triggered by hand (no schedule). ``prepare_events`` is a Spark job (``spark_jobs.movielens``):
the dataset's events, users and items as Delta tables plus the Parquet export the trainers
read. One model task per (model, seed) in ``THRESHER_POSO_MODELS`` × 1..``THRESHER_POSO_SEEDS``
runs ``python -m models.poso.train`` — a GPU pod on Kubernetes, a local process otherwise —
each its own MLflow run (experiment ``THRESHER_POSO_EXPERIMENT``) tagged with this DAG run's
grid. ``summarise`` reads those runs back and logs the table and the plot of each variant's
gain on new vs regular users, with 95 % confidence intervals over seeds, to a summary run.
Outputs live under the checkpoint root, one folder per DAG run, so a retried task resumes
from its last epoch.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from thresher import names
from thresher.config import Settings
from thresher_tasks import Resources, model_task

DAG_ID = "poso"
SETTINGS = Settings.from_env()  # environment only: no I/O at parse time

GRID = "poso/{{ run_id }}"
RUN_FOLDER = "{{ run_id | replace(':', '-') | replace('+', '-') }}"
# The export prepare_events wrote (thresher.config.poso_events_export of the dataset).
EVENTS = "{{ ti.xcom_pull(task_ids='prepare_events')['export_path'] }}"


def training_arguments(model: str, seed: int) -> list[str]:
    poso = SETTINGS.poso
    return [
        "--events", EVENTS,
        "--model", model,
        "--seed", str(seed),
        "--output", f"poso/{RUN_FOLDER}/{model}_s{seed}",
        "--max-epochs", str(poso.max_epochs),
        "--patience", str(poso.patience),
        "--gate-scale", str(poso.gate_scale),
        "--date", "{{ ds }}",
        "--run-key", f"{GRID}/{model}/s{seed}",
        "--group", GRID,
        "--experiment", poso.experiment,
        # Local processes share the worker's cores (measured: 2 threads on 2 busy cores ran an
        # epoch 5-20x slower than 1); a pod has its own.
        *(["--threads", "1"] if SETTINGS.executor == "local" else []),
    ]  # fmt: skip


@dag(
    dag_id=DAG_ID,
    description="POSO cold-start experiments: baseline vs POSO(MLP/MMoE/MHA) over seeds.",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["thresher", "poso", "recsys", "gpu", "mlflow"],
    default_args={
        "owner": "thresher",
        "retries": SETTINGS.airflow.task_retries,
        "retry_delay": timedelta(seconds=SETTINGS.airflow.retry_delay_seconds),
    },
    params={
        "dataset": Param(
            SETTINGS.poso.dataset,
            type="string",
            pattern=names.LABEL_PATTERN,
            description="partition of silver.poso_* and of the export",
        ),
        "input_path": Param(
            SETTINGS.poso.input_path,
            type="string",
            pattern=r"^$|" + names.PATH_PATTERN,
            description="MovieLens-format folder; empty: ML-100K from recbole",
        ),
    },  # fmt: skip
    doc_md=__doc__,
)
def poso():
    @task
    def prepare_events(params=None) -> dict:
        """Spark: the MovieLens folder → silver.poso_events/users/items + Parquet export."""
        from spark_jobs import movielens
        from spark_jobs.session import get_spark
        from thresher.partitions import partition_from_context

        settings = Settings.from_env()
        partition = partition_from_context(get_current_context())
        spark = get_spark(settings, "thresher-poso-events")
        summary = movielens.run(
            spark, settings, partition, params["input_path"] or None, params["dataset"]
        )
        return {"export_path": summary["export_path"], "stages": summary["stages"]}

    @task
    def summarise() -> dict:
        """Every finished training run of this grid → table + plot in an MLflow summary run."""
        from models.poso import summary

        run_id = get_current_context()["run_id"]
        return summary.main(["--group", f"poso/{run_id}", "--experiment",
                             SETTINGS.poso.experiment])  # fmt: skip

    events = prepare_events()
    trained = [
        model_task(
            task_id=f"train_{model}_s{seed}",
            module="models.poso.train",
            settings=SETTINGS,
            arguments=training_arguments(model, seed),
            resources=Resources(gpus=1, cpu="4", memory="16Gi"),
        )
        for model in SETTINGS.poso.models
        for seed in range(1, SETTINGS.poso.seeds + 1)
    ]
    events >> trained >> summarise()


poso()
