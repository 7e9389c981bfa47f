"""Language-mix study (MuBench, PAPERS.md): language ratio × parallel share → accuracy and MLC.

Triggered by hand (no schedule)::

    pool ─┬─ train_tokenizer ─┐
          └─ open_experiment ─┴─ cell[0 … G-1] ─ results

- ``pool`` (Spark, ``spark_jobs.language_mix``): the mixture's English and second-language
  documents and the English–second-language parallel pairs of ``silver.murating_documents``,
  as ``gold.language_mix_pool_<mixture>``.
- ``train_tokenizer``: one byte-level BPE for every cell, so their losses compare.
- ``open_experiment`` opens the parent MLflow run and logs the grid.
- ``cell``: one mapped model task per (english_share, parallel_share) of
  ``THRESHER_LANGUAGE_MIX_ENGLISH_SHARES`` × ``THRESHER_LANGUAGE_MIX_PARALLEL_SHARES`` (fixed
  when this file is parsed): a GPU pod on Kubernetes, a local process otherwise, at most as
  many at once as the ``language_mix`` pool setting allows. Each draws its corpus, pretrains a
  small LLaMA-architecture model and scores it on aligned items (``models.mubench``).
- ``results``: the table of accuracy per language, MLC and Rel-MLC against English and
  validation loss per language over the two knobs, logged to the parent run.

Outputs live under ``language_mix/<mixture>/<language>/<pool fingerprint>-<training key>/``
below the checkpoint root, so re-running the DAG returns the finished cells at once and
resumes an interrupted one from its last checkpoint.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task

from thresher.config import Settings
from thresher_tasks import Resources, model_task
from thresher_tasks.dag_arguments import dag_arguments, mixture_param, open_parent_run
from thresher_tasks.experiments import xcom
from thresher_tasks.model_task import tokenizer_task

DAG_ID = "language_mix"
SETTINGS = Settings.from_env()  # environment only: no I/O at parse time
MIX = SETTINGS.language_mix

POOL = xcom("pool", "path")
EXPERIMENT_DIR = xcom("pool", "experiment_dir")
PARENT_RUN = xcom("open_experiment", "run_id")


def cell_arguments(english_share: float, parallel_share: float) -> list[str]:
    return [
        "--pool",
        POOL,
        "--experiment-dir",
        EXPERIMENT_DIR,
        "--english-share",
        f"{english_share:g}",
        "--parallel-share",
        f"{parallel_share:g}",
        "--language",
        "{{ params.language }}",
        "--size",
        MIX.size,
        "--max-steps",
        str(MIX.max_steps),
        "--sequence-length",
        str(MIX.sequence_length),
        "--batch-size",
        str(MIX.batch_size),
        "--learning-rate",
        str(MIX.learning_rate),
        "--seed",
        str(MIX.seed),
        "--items",
        MIX.items,
        "--eval-limit",
        str(MIX.eval_limit),
        "--variant",
        MIX.variant,
        "--parent-run-id",
        PARENT_RUN,
        "--experiment",
        MIX.experiment,
    ]


@dag(
    **dag_arguments(
        DAG_ID,
        SETTINGS,
        description="MuBench study: English ratio × parallel share → small LMs → accuracy and MLC.",
        tags=["mubench", "pretraining", "gpu", "mlflow"],
        doc_md=__doc__,
        params={
            "mixture": mixture_param(
                SETTINGS, "the curated mixture whose documents the cells draw from"
            ),
            "language": Param(
                MIX.language,
                type="string",
                pattern=r"^[a-z]{2,3}$",
                description="the language paired with English (ISO 639-1)",
            ),
        },
    )
)
def language_mix():
    @task
    def pool(params=None) -> dict:
        """Spark: mixture documents + murating parallel pairs → gold.language_mix_pool_<m>."""
        from spark_jobs import language_mix as job
        from spark_jobs.session import get_spark
        from thresher import language_mix

        settings = Settings.from_env()
        spark = get_spark(settings, "thresher-language-mix-pool")
        summary = job.build(spark, settings, params["mixture"], params["language"])
        training = language_mix.CellTraining.from_settings(settings, params["language"])
        folder = language_mix.experiment_dir(params["mixture"], summary["fingerprint"], training)
        return {**summary, "experiment_dir": folder}

    @task
    def open_experiment(pool: dict) -> dict:
        """The parent MLflow run of this DAG run, with the grid of cells."""
        from thresher import language_mix

        folder = pool["experiment_dir"].rsplit("/", 1)[-1]
        return open_parent_run(language_mix.open_experiment_run, DAG_ID, folder, pool=pool)

    @task
    def results(cells, experiment: dict, params=None) -> dict:
        """The table of accuracy, MLC and loss over the two knobs, on the parent run."""
        from thresher import language_mix

        return language_mix.close_experiment_run(
            Settings.from_env(), experiment["run_id"], list(cells), params["language"]
        )

    found = pool()
    tokenizer = tokenizer_task(SETTINGS, POOL, f"{EXPERIMENT_DIR}/tokenizer", str(MIX.vocab_size))
    experiment = open_experiment(found)
    cells = model_task(
        task_id="cell",
        module="models.language_mix.cell",
        settings=SETTINGS,
        expand_arguments=[cell_arguments(e, p) for e, p in MIX.grid],
        resources=Resources(gpus=1, cpu="4", memory="16Gi"),
        pool=MIX.pool,
    )
    found >> tokenizer
    [tokenizer, experiment] >> cells
    results(cells.output, experiment)


language_mix()
