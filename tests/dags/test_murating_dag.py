"""The murating DAG over two dates on real parallel text: one training, one champion rating
both dates, QuaDMix with ``murating@champion`` over both, then a promotion whose stale dates
the backfill DAG (``murating_rerate``) re-rates.

The three DAG runs are ``airflow dags test`` run by Airflow's own CLI inside the test process,
so their Spark tasks share the test session's warm JVM instead of each starting and warming
its own (as three ``airflow`` subprocesses the test took 353 s on 2 cores, now ~220 s).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3

import pytest

from tests.corpus import bronze_row, dedup_row, ntrex_documents, write_tables
from tests.dags.conftest import AIRFLOW_ENV, dags_test
from thresher import model_registry
from thresher.tables import (
    BRONZE_DOCUMENTS,
    SILVER_DEDUP,
    SILVER_MURATING_PAIRS,
    SILVER_QUALITY_SCORES,
    mixture_table,
)

DAY1, DAY2 = dt.date(2026, 11, 2), dt.date(2026, 11, 3)
SMALL = {
    "THRESHER_LANGUAGES": "en,de",
    "THRESHER_MURATING_SOURCES": "ntrex",
    "THRESHER_MURATING_MAX_UNITS": "16",
    "THRESHER_MURATING_AGGREGATION_PAIRS": "400",
    "THRESHER_MURATING_MONOLINGUAL_PAIRS_PER_LANGUAGE": "60",
    "THRESHER_MURATING_CROSS_LINGUAL_PAIRS": "60",
    "THRESHER_MURATING_PARALLEL_PAIRS": "30",
    "THRESHER_MURATING_EPOCHS": "3",
    "THRESHER_MURATING_ENGLISH_SHARE": "0.5",
    "THRESHER_MURATING_HELD_OUT_FRACTION": "0.4",
}


def write_kept_documents(spark, settings, shared) -> dict[dt.date, int]:
    """bronze.documents + silver.dedup (all kept) on two dates: real NTREX news, en and de,
    different articles each day."""
    bronze, dedup, counts = [], [], {}
    for day, articles in ((DAY1, slice(24, 30)), (DAY2, slice(30, 36))):
        for code, language in (("eng-US", "en"), ("deu", "de")):
            for i, text in enumerate(ntrex_documents(shared, code, 40)[articles]):
                doc_id = f"{language}{day:%d}{i:028d}"
                bronze.append(
                    bronze_row(day, f"https://x.org/{doc_id}", text, language, doc_id=doc_id)
                )
                dedup.append(dedup_row(doc_id, day))
                counts[day] = counts.get(day, 0) + 1
    write_tables(spark, settings, (BRONZE_DOCUMENTS, bronze), (SILVER_DEDUP, dedup))
    return counts


def task_states(dag_id: str, task_id: str) -> list[str]:
    """The task's state in each run of ``dag_id``, oldest run first (Airflow's own database)."""
    database = AIRFLOW_ENV["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT ti.state FROM task_instance ti JOIN dag_run r ON ti.run_id = r.run_id "
            "AND ti.dag_id = r.dag_id WHERE ti.dag_id = ? AND ti.task_id = ? ORDER BY r.id",
            (dag_id, task_id),
        ).fetchall()
    return [r[0] for r in rows]


def rated_versions(spark, settings) -> dict[dt.date, set[str]]:
    scores = spark.read.format("delta").load(SILVER_QUALITY_SCORES.path(settings))
    rows = scores.where("criterion = 'murating'").select("ingest_date", "version").collect()
    out: dict[dt.date, set[str]] = {}
    for row in rows:
        out.setdefault(row.ingest_date, set()).add(row.version)
    return out


def quadmix(spark, settings, criterion: str) -> dict:
    """The curation mixture job's own code, with murating as its one criterion."""
    from spark_jobs import mixture

    config = dataclasses.replace(
        settings.mixture,
        name="with_murating",
        criteria=(criterion,),
        larger_is_better=("murating",),
        rank_mode="exact",
    )
    return mixture.run(spark, dataclasses.replace(settings, mixture=config))


# Airflow's execution_timeout arms SIGALRM in this process (and disarms it after each model
# task): this test's own timeout is a thread.
@pytest.mark.airflow
@pytest.mark.timeout(600, method="thread")
@pytest.mark.filterwarnings("ignore:Could not import graphviz")  # airflow's CLI, on import
def test_two_dates_share_one_champion_and_a_promotion_is_rerated_by_the_backfill(
    spark, pipeline_env, shared_data, monkeypatch
):
    from models.murating import promote, train
    from spark_jobs.criteria import MissingCriterionVersion, resolve
    from spark_jobs.delta_io import commit_metadata

    env, settings = pipeline_env
    env = {**env, **SMALL, "THRESHER_MURATING_DATA_PATH": str(shared_data)}
    for key, value in env.items():  # the settings of the DAGs' tasks, all in this process
        if key.startswith("THRESHER_"):
            monkeypatch.setenv(key, value)
    documents = write_kept_documents(spark, settings, shared_data)

    for day in (DAY1, DAY2):
        dags_test("murating", day)

    # one training (the first run's), skipped the second day: its inputs had not changed
    assert task_states("murating", "train_rater") == ["success", "skipped"]
    assert task_states("murating", "keep_champion") == ["skipped", "success"]
    (only,) = model_registry.versions(settings, "murating")
    assert only.version == "1" and "champion" in only.aliases
    # both dates rated by that champion, every kept document once
    assert rated_versions(spark, settings) == {DAY1: {"1"}, DAY2: {"1"}}
    scores = spark.read.format("delta").load(SILVER_QUALITY_SCORES.path(settings))
    assert scores.where("criterion = 'murating'").count() == sum(documents.values())
    selection = spark.read.format("delta").load(mixture_table("murating").path(settings))
    assert {r.ingest_date for r in selection.select("ingest_date").distinct().collect()} == {
        DAY1,
        DAY2,
    }
    # QuaDMix reads murating@champion on both dates
    summary = quadmix(spark, settings, "murating@champion")
    assert summary["mixture.documents"] == sum(documents.values())

    # a new candidate (another seed) is trained and promoted: both dates are now stale
    pairs = SILVER_MURATING_PAIRS.path(settings)
    monkeypatch.setenv("THRESHER_MURATING_SEED", "2")
    candidate = train.main(["--pairs", pairs, "--pair-set", "default", "--output", "candidate"])
    assert candidate["model_version"] == "2"
    # on 16 units which seed ranks better is noise: the operator's forced promotion
    assert promote.main(["--candidate", "2", "--pairs", pairs, "--force"])["champion"] == "2"
    with pytest.raises(MissingCriterionVersion, match="murating_rerate") as stale:
        quadmix(spark, settings, "murating@champion")
    assert "2 of 2 dates: 2026-11-02, 2026-11-03" in str(stale.value)

    dags_test("murating_rerate", DAY2)
    assert task_states("murating_rerate", "rate_documents") == ["success", "success"]
    # old rows stay (a rollback needs no re-rating); every date now also holds version 2
    assert rated_versions(spark, settings) == {DAY1: {"1", "2"}, DAY2: {"1", "2"}}
    scores = spark.read.format("delta").load(SILVER_QUALITY_SCORES.path(settings))
    assert scores.where("criterion = 'murating' AND version = '2'").count() == sum(
        documents.values()
    )
    # QuaDMix's own choice of version (it sampled version 1 above): now the champion, 2, on
    # both dates; running the whole sampling job again would take ~10 s and test nothing new
    assert resolve(scores, ["murating@champion"]) == {"murating": "2"}
    recipe = commit_metadata(spark, mixture_table("murating").path(settings))
    assert recipe["criterion"] == "murating@2"  # the backfill's one selection, on version 2
