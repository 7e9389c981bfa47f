"""MuRating's backfill: re-rate older dates with one rater version, then select once.

Triggered, never scheduled: after a promotion the dates rated by the old champion are stale,
and the murating DAG's ``select`` (and QuaDMix with ``murating@champion``) refuses to mix
versions, naming this DAG. ``airflow dags trigger murating_rerate`` re-rates every stale date
with the champion; ``--conf '{"version": "3", "from_date": "2026-11-01", "to_date":
"2026-11-30"}'`` re-rates a range (every curated date in it not yet rated by that version)
with a given version — a rollback, or dates never rated.

``dates_to_rate`` (Spark) lists the dates; ``rate_documents`` (model task, one mapped
instance per date: GPU pods in parallel on Kubernetes) scores each date's kept documents with
that one version; ``rate`` (Spark, mapped) writes each date's rows; ``select`` rebuilds
``gold.mixture_<selection_name>`` once over every rated date. Old versions' rows stay in
``silver.quality_scores``, so pointing the alias back at them needs no re-rating.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, get_current_context, task

from thresher.config import Settings
from thresher.murating.lifecycle import RERATE_DAG
from thresher_tasks import Resources, model_task
from thresher_tasks.dag_arguments import dag_arguments

SETTINGS = Settings.from_env()  # environment only: no I/O at parse time
MURATING = SETTINGS.murating
DATE_OR_EMPTY = r"^$|^\d{4}-\d{2}-\d{2}$"


@dag(
    **dag_arguments(
        RERATE_DAG,
        SETTINGS,
        description="MuRating backfill: re-rate dates with one rater version, then select.",
        tags=["quality", "murating", "backfill", "gpu"],
        doc_md=__doc__,
        params={
            "version": Param(
                "",
                type="string",
                pattern=r"^$|^[0-9]{1,9}$",
                description="registry version; empty = the champion",
            ),
            "from_date": Param(
                "",
                type="string",
                pattern=DATE_OR_EMPTY,
                description="with to_date: rate every curated date in the range",
            ),
            "to_date": Param("", type="string", pattern=DATE_OR_EMPTY),
        },
    )
)
def murating_rerate():
    @task
    def dates_to_rate() -> list[list[str]]:
        """Spark: the version (default: the champion, pushed as XCom ``version``) and one
        ``rate_documents`` argument list per date it has not rated (mapping needs the return
        value itself)."""
        from spark_jobs import murating as job
        from spark_jobs.session import get_spark
        from thresher import model_registry
        from thresher.partitions import parse_partition

        context = get_current_context()
        params = context["params"]
        settings = Settings.from_env()
        config = settings.murating
        version = params.get("version") or model_registry.alias_version(
            settings, config.model_name, config.champion_alias
        )
        if not version:
            raise ValueError(f"{config.model_name} has no {config.champion_alias}: nothing rates")
        bounds = [
            parse_partition(params[k]) if params.get(k) else None for k in ("from_date", "to_date")
        ]
        spark = get_spark(settings, "thresher-murating-rerate")
        dates = job.stale_dates(spark, settings, version, *bounds)
        folder = f"murating/{config.pair_set}/scores"
        context["ti"].xcom_push(key="version", value=version)
        return [
            ["--version", version, "--partition", d, "--output", f"{folder}/{d}"] for d in dates
        ]

    plan = dates_to_rate()
    scored = model_task(
        task_id="rate_documents",
        module="models.murating.rate",
        settings=SETTINGS,
        expand_arguments=plan,
        resources=Resources(gpus=1, cpu="4", memory="16Gi"),
    )

    @task
    def rate(scored: dict) -> dict:
        """Spark: one date's logits → silver.quality_scores under the version that rated."""
        from spark_jobs import murating as job
        from spark_jobs.session import get_spark
        from thresher.partitions import parse_partition

        settings = Settings.from_env()
        spark = get_spark(settings, "thresher-murating-rate")
        return job.rate(
            spark,
            settings,
            parse_partition(scored["partition"]),
            scored["model_version"],
            scores_path=scored["scores_path"],
        )

    @task(trigger_rule="none_failed")  # also when there was nothing to re-rate
    def select() -> dict:
        """Spark: every rated date's murating@version → gold.mixture_<selection_name>."""
        from spark_jobs import murating as job
        from spark_jobs.session import get_spark

        ti = get_current_context()["ti"]
        version = ti.xcom_pull(task_ids="dates_to_rate", key="version")
        settings = Settings.from_env()
        return job.select(get_spark(settings, "thresher-murating-select"), settings, version)

    rated = rate.expand(scored=scored.output)
    rated >> select()


murating_rerate()
