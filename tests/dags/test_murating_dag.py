"""The murating DAG over two dates on real parallel text: one training, one champion rating
both dates, QuaDMix with ``murating@champion`` over both, then a promotion whose stale dates
the backfill DAG (``murating_rerate``) re-rates."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3

import pytest

from tests.corpus import bronze_row, dedup_row, ntrex_documents, write_tables
from tests.dags.conftest import AIRFLOW_ENV, airflow_cli
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


# Three DAG runs, a promotion and a re-rating backfill take minutes on 2 cores: outside
# make test, in make test-long.
@pytest.mark.long
@pytest.mark.airflow
@pytest.mark.timeout(3600)
def test_two_dates_share_one_champion_and_a_promotion_is_rerated_by_the_backfill(
    spark, pipeline_env, shared_data, tmp_path, monkeypatch
):
    from models.murating import promote, train
    from spark_jobs.criteria import MissingCriterionVersion
    from spark_jobs.delta_io import commit_metadata

    env, settings = pipeline_env
    env = {**env, **SMALL, "THRESHER_MURATING_DATA_PATH": str(shared_data)}
    for key, value in env.items():  # this process's settings (registry, in-process tasks)
        if key.startswith("THRESHER_"):
            monkeypatch.setenv(key, value)
    documents = write_kept_documents(spark, settings, shared_data)

    for day in (DAY1, DAY2):
        log = tmp_path / f"murating-{day}.log"
        result = airflow_cli(
            "dags", "test", "murating", day.isoformat(), env=env, log=log, timeout=1500
        )
        assert result.returncode == 0, log.read_text()[-4000:]

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

    log = tmp_path / "rerate.log"
    result = airflow_cli(
        "dags", "test", "murating_rerate", DAY2.isoformat(), env=env, log=log, timeout=1500
    )
    assert result.returncode == 0, log.read_text()[-4000:]
    assert task_states("murating_rerate", "rate_documents") == ["success", "success"]
    # old rows stay (a rollback needs no re-rating); every date now also holds version 2
    assert rated_versions(spark, settings) == {DAY1: {"1", "2"}, DAY2: {"1", "2"}}
    assert quadmix(spark, settings, "murating@champion")["mixture.documents"] == sum(
        documents.values()
    )
    recipe = commit_metadata(spark, mixture_table("murating").path(settings))
    assert recipe["criterion"] == "murating@2"  # the backfill's one selection, on version 2
