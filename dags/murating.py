"""MuRating: English raters → Bradley–Terry → multilingual rater → the champion rates the day.

Daily, for the run's partition (the data interval start):

1. ``judgments`` and ``pairs`` (Spark, ``spark_jobs.murating``): the parallel units (plus
   translated English documents when ``THRESHER_MURATING_TRANSLATION_MODELS`` names models,
   and a pairwise LLM judge's judgments when ``THRESHER_MURATING_JUDGE_MODEL`` names one)
   are judged in English and become ``silver.murating_pairs``; ``pairs`` returns the pairs'
   fingerprint.
2. ``training_decision`` (a branch): training runs only when its inputs — the pairs' and the
   training settings' fingerprint — match no registered version, when the newest version is
   older than ``murating.retrain_days``, or when the run's ``force_training`` param is set.
   Otherwise ``keep_champion`` runs and the training tasks show as skipped.
3. ``train_rater`` → ``promote`` (model tasks, ``models.murating``): a new registry version
   of ``murating.model_name``, tagged with its inputs; it takes the ``champion`` alias only
   if its held-out pairwise accuracy is not below the champion's (logged either way).
4. ``rate_documents`` (model task) scores the partition's kept documents with the champion,
   ``rate`` (Spark) writes them as ``murating@<champion version>`` to ``silver.quality_scores``,
   and ``select`` rebuilds ``gold.mixture_<selection_name>`` over every rated date.

When a promotion changes the champion, dates rated by the old one are stale and ``select``
fails naming the backfill: DAG ``murating_rerate`` (``dags/murating_rerate.py``) re-rates them.
Model tasks are GPU pods on Kubernetes and local processes here; they read their settings
from one JSON document (``THRESHER_SETTINGS``).
"""

from __future__ import annotations

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import Param, dag, get_current_context, task

from thresher.config import MURATING_BACKENDS, Settings
from thresher_tasks import Resources, model_task
from thresher_tasks.dag_arguments import RUN_FOLDER, dag_arguments, path_param

DAG_ID = "murating"
SETTINGS = Settings.from_env()  # environment only: no I/O at parse time
MURATING = SETTINGS.murating

PAIRS = "{{ ti.xcom_pull(task_ids='pairs')['pairs_path'] }}"
ENGLISH = "{{ ti.xcom_pull(task_ids='export_english')['path'] }}"
CANDIDATE = "{{ ti.xcom_pull(task_ids='train_rater')['model_version'] }}"
TRANSLATIONS = f"murating/{MURATING.pair_set}/translations/{RUN_FOLDER}"
JUDGMENTS = f"murating/{MURATING.pair_set}/judgments/{RUN_FOLDER}"
SCORES = f"murating/{MURATING.pair_set}/scores/{{{{ ds }}}}"
# What the training tasks are told to override; the branch decides on the same values.
TRAINING_PARAMS = ("backend", "encoder_path", "epochs")


def run_folder() -> str:
    return get_current_context()["run_id"].replace(":", "-").replace("+", "-")


@dag(
    **dag_arguments(
        DAG_ID,
        SETTINGS,
        description="MuRating: a multilingual quality rater trained on English judgments; "
        "the champion version rates each day.",
        schedule="@daily",
        tags=["quality", "murating", "gpu", "mlflow"],
        doc_md=__doc__,
        params={
            "backend": Param(MURATING.backend, enum=list(MURATING_BACKENDS)),
            "encoder_path": path_param(
                MURATING.encoder_path, "finetune: a transformers checkpoint folder", optional=True
            ),
            "epochs": Param(MURATING.epochs, type="integer", minimum=1),
            "force_training": Param(
                False, type="boolean", description="train a new version even if nothing changed"
            ),
        },
    )
)
def murating():
    @task
    def judgments() -> dict:
        """Spark: English raters (+ judge) + Bradley–Terry → silver.murating_documents."""
        from spark_jobs import murating as job
        from spark_jobs.session import get_spark
        from thresher.entrypoint import task_path

        settings = Settings.from_env()
        folder = run_folder()
        translations = judged = ""
        if settings.murating.translation_models:
            translations = str(task_path(TRANSLATIONS.replace(RUN_FOLDER, folder), settings))
        if settings.murating.judge_model:
            judged = get_current_context()["ti"].xcom_pull(task_ids="judge_english")
            judged = judged["judgments_path"]
        spark = get_spark(settings, "thresher-murating-judgments")
        return job.judgments(spark, settings, translations, judged)

    @task
    def pairs() -> dict:
        """Spark: silver.murating_documents → silver.murating_pairs and their fingerprint."""
        from spark_jobs import murating as job
        from spark_jobs.session import get_spark

        settings = Settings.from_env()
        return job.pairs(get_spark(settings, "thresher-murating-pairs"), settings)

    @task.branch
    def training_decision(built: dict) -> str:
        """Train only when the inputs changed (or by age, or when forced): the reason is logged."""
        import logging

        from thresher import model_registry
        from thresher.murating import lifecycle

        context = get_current_context()
        params = context["params"]
        settings = Settings.from_env()
        config = lifecycle.training_settings(
            settings.murating, **{k: params.get(k) for k in TRAINING_PARAMS}
        )
        inputs = lifecycle.training_inputs(built["pairs_fingerprint"], config)
        registered = model_registry.versions(settings, settings.murating.model_name)
        now = context.get("data_interval_end") or context["dag_run"].run_after
        decision = lifecycle.decide_training(
            inputs,
            registered,
            now_ms=int(now.timestamp() * 1000),
            retrain_days=settings.murating.retrain_days,
            force=bool(params.get("force_training")),
        )
        logging.getLogger(__name__).info("training: %s (%s)", decision.act, decision.reason)
        context["ti"].xcom_push(key="reason", value=decision.reason)
        return "train_rater" if decision.act else "keep_champion"

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
            "--run-key",
            "murating/{{ run_id }}",
        ],
        resources=Resources(gpus=1, cpu="8", memory="32Gi", shared_memory="8Gi"),
    )
    promote = model_task(
        task_id="promote",
        module="models.murating.promote",
        settings=SETTINGS,
        arguments=["--candidate", CANDIDATE, "--pairs", PAIRS],
        resources=Resources(gpus=1, cpu="4", memory="16Gi"),
    )
    keep = EmptyOperator(task_id="keep_champion")
    scored = model_task(
        task_id="rate_documents",
        module="models.murating.rate",
        settings=SETTINGS,
        arguments=[
            "--alias",
            MURATING.champion_alias,
            "--partition",
            "{{ ds }}",
            "--output",
            SCORES,
        ],
        resources=Resources(gpus=1, cpu="4", memory="16Gi"),
        trigger_rule="none_failed_min_one_success",  # after promote, or after keep_champion
    )

    @task
    def rate(scored: dict) -> dict:
        """Spark: the champion's logits (the rate_documents task) → silver.quality_scores."""
        from spark_jobs import murating as job
        from spark_jobs.session import get_spark
        from thresher.partitions import partition_from_context

        settings = Settings.from_env()
        spark = get_spark(settings, "thresher-murating-rate")
        partition = partition_from_context(get_current_context())
        return job.rate(
            spark, settings, partition, scored["model_version"], scores_path=scored["scores_path"]
        )

    @task
    def select(rated: dict) -> dict:
        """Spark: every rated date's murating@champion → gold.mixture_<selection_name>."""
        from spark_jobs import murating as job
        from spark_jobs.session import get_spark

        settings = Settings.from_env()
        return job.select(
            get_spark(settings, "thresher-murating-select"), settings, rated["version"]
        )

    judged = judgments()
    translate = None
    if MURATING.translation_models:

        @task
        def export_english() -> dict:
            """Spark: English kept documents of the partition → Parquet for translation."""
            from spark_jobs import murating as job
            from spark_jobs.session import get_spark
            from thresher.partitions import partition_from_context

            settings = Settings.from_env()
            partition = partition_from_context(get_current_context())
            return job.export_english(
                get_spark(settings, "thresher-murating-export"), settings, partition
            )

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
            ],
            resources=Resources(gpus=1, cpu="4", memory="16Gi"),
        )
        export_english() >> translate >> judged
    if MURATING.judge_model:
        judge = model_task(
            task_id="judge_english",
            module="models.murating.judge",
            settings=SETTINGS,
            arguments=[
                "--output",
                JUDGMENTS,
                *(["--translations", TRANSLATIONS] if translate else []),
            ],
            resources=Resources(gpus=1, cpu="4", memory="32Gi"),
        )
        if translate is not None:
            translate >> judge
        judge >> judged
    built = pairs()
    judged >> built
    training_decision(built) >> [train, keep]
    train >> promote >> scored
    keep >> scored
    select(rate(scored.output))


murating()
