"""MuRating: English raters → Bradley–Terry → multilingual rater → batch rating → selection.

Daily, for the run's partition (the data interval start). Spark tasks (``spark_jobs.murating``)
judge the parallel units in English and build pairs; model tasks (``models.murating``:
a GPU pod on Kubernetes, a local process otherwise) translate English documents without a
counterpart (only when ``THRESHER_MURATING_TRANSLATION_MODELS`` names models) and train the
rater, which registers itself in the MLflow model registry. The partition's kept documents are
then rated by the ``models.murating.rate`` model task (a GPU pod on Kubernetes, a local process
here) and its logits written by Spark into criterion ``murating`` of ``silver.quality_scores``
(version = the registry version), and ``gold.mixture_<selection_name>`` is selected. Training
writes under the checkpoint root, one folder per pair set and run, and resumes from its last
epoch when retried.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from thresher import names
from thresher.config import Settings
from thresher_tasks import Resources, model_task

DAG_ID = "murating"
SETTINGS = Settings.from_env()  # environment only: no I/O at parse time
MURATING = SETTINGS.murating

RUN_FOLDER = "{{ run_id | replace(':', '-') | replace('+', '-') }}"
PAIRS = "{{ ti.xcom_pull(task_ids='pairs')['pairs_path'] }}"
ENGLISH = "{{ ti.xcom_pull(task_ids='export_english')['path'] }}"
MODEL = "{{ ti.xcom_pull(task_ids='train_rater')['model_path'] }}"
# Batch rating runs in a GPU pod where model tasks run in pods; in Spark otherwise.
TRANSLATIONS = f"murating/{MURATING.pair_set}/translations/{RUN_FOLDER}"


@dag(
    dag_id=DAG_ID,
    description="MuRating: a multilingual quality rater trained on English judgments.",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["thresher", "quality", "murating", "gpu", "mlflow"],
    default_args={
        "owner": "thresher",
        "retries": SETTINGS.airflow.task_retries,
        "retry_delay": timedelta(seconds=SETTINGS.airflow.retry_delay_seconds),
    },
    params={
        "backend": Param(MURATING.backend, enum=["embedding_head", "finetune"]),
        "encoder_path": Param(
            MURATING.encoder_path,
            type="string",
            pattern=r"^$|" + names.PATH_PATTERN,
            description="finetune: a transformers checkpoint folder",
        ),
        "epochs": Param(MURATING.epochs, type="integer", minimum=1),
    },  # fmt: skip
    doc_md=__doc__,
)
def murating():
    @task
    def judgments() -> dict:
        """Spark: English raters + Bradley–Terry → silver.murating_documents."""
        from spark_jobs import murating as job
        from spark_jobs.session import get_spark
        from thresher.entrypoint import task_path

        settings = Settings.from_env()
        translations = ""
        if settings.murating.translation_models:
            run_id = get_current_context()["run_id"]
            folder = run_id.replace(":", "-").replace("+", "-")
            translations = str(task_path(TRANSLATIONS.replace(RUN_FOLDER, folder), settings))
        spark = get_spark(settings, "thresher-murating-judgments")
        return job.judgments(spark, settings, translations)

    @task
    def pairs() -> dict:
        """Spark: silver.murating_documents → silver.murating_pairs."""
        from spark_jobs import murating as job
        from spark_jobs.session import get_spark

        settings = Settings.from_env()
        return job.pairs(get_spark(settings, "thresher-murating-pairs"), settings)

    train = model_task(
        task_id="train_rater",
        module="models.murating.train",
        settings=SETTINGS,
        arguments=[
            "--pairs",
            PAIRS,
            "--pair-set",
            MURATING.pair_set,
            "--output",
            f"murating/{MURATING.pair_set}/{RUN_FOLDER}",
            "--backend",
            "{{ params.backend }}",
            "--encoder-path",
            "{{ params.encoder_path }}",
            "--epochs",
            "{{ params.epochs }}",
            "--max-chars",
            str(MURATING.max_chars),
            "--batch-size",
            str(MURATING.batch_size),
            "--learning-rate",
            str(MURATING.learning_rate),
            "--hidden",
            str(MURATING.hidden),
            "--margin",
            str(MURATING.margin),
            "--seed",
            str(MURATING.seed),
            "--run-key",
            "murating/{{ run_id }}",
            "--register-name",
            MURATING.model_name,
        ],  # fmt: skip
        resources=Resources(gpus=1, cpu="8", memory="32Gi", shared_memory="8Gi"),
    )

    @task
    def rate(scored: dict) -> dict:
        """Spark: the rater's logits (the rate_documents task) → silver.quality_scores."""
        from spark_jobs import murating as job
        from spark_jobs.session import get_spark
        from thresher.partitions import partition_from_context

        context = get_current_context()
        trained = context["ti"].xcom_pull(task_ids="train_rater")
        settings = Settings.from_env()
        spark = get_spark(settings, "thresher-murating-rate")
        version = str(trained.get("model_version") or trained["model_path"])
        return job.rate(spark, settings, partition_from_context(context), version,
                        scores_path=scored["scores_path"])  # fmt: skip

    @task
    def select(rated: dict) -> dict:
        """Spark: murating scores → gold.mixture_<selection_name>."""
        from spark_jobs import murating as job
        from spark_jobs.session import get_spark

        settings = Settings.from_env()
        return job.select(get_spark(settings, "thresher-murating-select"), settings,
                          rated["version"])  # fmt: skip

    judged = judgments()
    if MURATING.translation_models:

        @task
        def export_english() -> dict:
            """Spark: English kept documents of the partition → Parquet for translation."""
            from spark_jobs import murating as job
            from spark_jobs.session import get_spark
            from thresher.partitions import partition_from_context

            settings = Settings.from_env()
            partition = partition_from_context(get_current_context())
            return job.export_english(get_spark(settings, "thresher-murating-export"),
                                      settings, partition)  # fmt: skip

        translate = model_task(
            task_id="translate",
            module="models.murating.translate",
            settings=SETTINGS,
            arguments=[
                "--input",
                ENGLISH,
                "--output",
                TRANSLATIONS,
                *[a for m in MURATING.translation_models for a in ("--model", m)],
            ],  # fmt: skip
            resources=Resources(gpus=1, cpu="4", memory="16Gi"),
        )
        export_english() >> translate >> judged
    judged >> pairs() >> train
    scored = model_task(
        task_id="rate_documents",
        module="models.murating.rate",
        settings=SETTINGS,
        arguments=[
            "--model",
            MODEL,
            "--partition",
            "{{ ds }}",
            "--output",
            f"murating/{MURATING.pair_set}/scores/{{{{ ds }}}}",
        ],  # fmt: skip
        resources=Resources(gpus=1, cpu="4", memory="16Gi"),
    )
    train >> scored
    select(rate(scored.output))


murating()
