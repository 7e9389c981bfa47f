"""POSO experiments: MovieLens-format events → baseline and POSO variants × seeds → summary.

Triggered by hand (no schedule)::

    prepare_events ─ open_experiment ─ train_<model>_s<seed> … ─ summarise

- ``prepare_events`` (Spark, ``spark_jobs.movielens``): the dataset's events, users and items
  as Delta tables, with the held-out-user / time split, plus the Parquet export the trainers
  read.
- ``open_experiment``: this DAG run's parent MLflow run (experiment
  ``THRESHER_POSO_EXPERIMENT``) with the grid and the events' counts per split and group.
- one model task per cell of ``models.poso.grid`` (``THRESHER_POSO_MODELS`` × seeds
  1..``THRESHER_POSO_SEEDS``, the grid ``make bench-poso`` runs too): ``python -m
  models.poso.train`` — a GPU pod on Kubernetes, a local process otherwise — a child run of
  the parent.
- ``summarise``: the children's results → the table, each POSO variant's paired difference to
  its plain twin on new, regular and all users with 95 % intervals, and the comparison plot,
  on the parent run (``models.poso.experiment``).

Outputs live under the checkpoint root, one folder per DAG run, so a retried task resumes
from its last epoch.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, get_current_context, task

from models.poso import grid
from thresher import names
from thresher.config import Settings
from thresher_tasks import Resources, model_task
from thresher_tasks.dag_arguments import RUN_FOLDER, dag_arguments, open_parent_run, path_param
from thresher_tasks.experiments import xcom

DAG_ID = "poso"
SETTINGS = Settings.from_env()  # environment only: no I/O at parse time

# The export prepare_events wrote (thresher.config.poso_events_export of the dataset).
EVENTS = xcom("prepare_events", "export_path")
PARENT_RUN = xcom("open_experiment", "run_id")


def training_arguments(cell: grid.Cell) -> list[str]:
    return grid.training_arguments(
        cell,
        SETTINGS.poso,
        events=EVENTS,
        output=f"poso/{RUN_FOLDER}/{cell.name}",
        run_key=f"{DAG_ID}/{{{{ run_id }}}}/{cell.model}/s{cell.seed}",
        parent_run_id=PARENT_RUN,
        date="{{ ds }}",
        # Local processes share the worker's cores (measured: 2 threads on 2 busy cores ran an
        # epoch 5-20x slower than 1); a pod has its own.
        threads=1 if SETTINGS.executor == "local" else None,
    )


@dag(
    **dag_arguments(
        DAG_ID,
        SETTINGS,
        description="POSO cold-start experiments: baseline vs POSO(MLP/MMoE/MHA) over seeds.",
        tags=["poso", "recsys", "gpu", "mlflow"],
        doc_md=__doc__,
        params={
            "dataset": Param(
                SETTINGS.poso.dataset,
                type="string",
                pattern=names.LABEL_PATTERN,
                description="partition of silver.poso_* and of the export",
            ),
            "input_path": path_param(
                SETTINGS.poso.input_path,
                "MovieLens-format folder; empty: ML-100K from recbole",
                optional=True,
            ),
        },
    )
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
        return {key: summary[key] for key in ("dataset", "export_path", "stages", "splits")}

    @task
    def open_experiment(events: dict) -> dict:
        """The parent MLflow run of this DAG run: the grid and the events' split counts."""
        from models.poso import experiment

        return open_parent_run(experiment.open_experiment_run, DAG_ID, events=events)

    @task
    def summarise(opened: dict) -> dict:
        """The children's results → table, paired differences and plot on the parent run."""
        from models.poso import experiment

        closed = experiment.close_experiment_run(Settings.from_env(), opened["run_id"])
        return {
            "run_id": closed["run_id"],
            "runs": closed["runs"],
            "verdicts": closed["summary"]["verdicts"],
        }

    events = prepare_events()
    opened = open_experiment(events)
    trained = [
        model_task(
            task_id=f"train_{cell.name}",
            module="models.poso.train",
            settings=SETTINGS,
            arguments=training_arguments(cell),
            resources=Resources(gpus=1, cpu="4", memory="16Gi"),
        )
        for cell in grid.cells(SETTINGS.poso)
    ]
    opened >> trained >> summarise(opened)


poso()
