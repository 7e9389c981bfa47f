"""MuRating's Spark steps: judgments and pairs on real parallel text, batch rating, selection."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import Row

from spark_jobs import murating as job
from tests.corpus import bronze_row, dedup_row, score_row, table_frame, write_tables
from thresher import tables
from thresher.config import MuRatingSettings
from thresher.murating.embeddings import DIM, EmbeddingCache

DAY = dt.date(2026, 11, 1)


def _murating(settings, **changes):
    return dataclasses.replace(settings, murating=dataclasses.replace(settings.murating, **changes))


def _bronze_rows(texts_by_language: dict[str, list[str]]) -> list[Row]:
    return [
        bronze_row(
            DAY, f"https://example.org/{language}/{i}", text, language, doc_id=f"{language}-{i:03d}"
        )
        for language, texts in texts_by_language.items()
        for i, text in enumerate(texts)
    ]


@pytest.mark.timeout(1200)
def test_judgments_and_pairs_on_real_parallel_text(spark, settings, shared_data):
    settings = dataclasses.replace(settings, languages=("en", "de", "hi"))
    settings = _murating(
        settings,
        sources=("ntrex",),
        max_units=12,
        aggregation_pairs=500,
        monolingual_pairs_per_language=30,
        cross_lingual_pairs=40,
        parallel_pairs=20,
        held_out_fraction=0.25,
        data_path=str(shared_data),
    )
    # a pairwise judge's output (models.murating.judge): it prefers the first unit to all
    from thresher.murating.parallel import parallel_documents

    english = sorted(d.unit_id for d in parallel_documents(settings) if d.language == "en")
    units = pd.DataFrame(
        {
            "unit_a": english[0],
            "unit_b": english[1:] + ["ntrex:unknown"],
            "p": 0.95,
            "judge": "pairwise_judge@abc",
        }
    )
    settings.home.mkdir(parents=True, exist_ok=True)
    units.to_parquet(settings.home / "judged.parquet")
    summary = job.judgments(spark, settings, judged=str(settings.home / "judged.parquet"))
    assert summary["units"] == 12 and summary["documents"] == 36
    assert summary["raters"]["pairwise_judge"] == "abc"
    assert set(summary["raters"]) == {"rules", "lexical", "e5_prototype", "pairwise_judge"}
    assert "unified:lexical.spearman" in summary["agreement"]
    assert summary["agreement"]["pairwise_judge@abc.judgments"] == 11  # the unknown unit left out
    docs = (
        spark.read.format("delta").load(tables.SILVER_MURATING_DOCUMENTS.path(settings)).toPandas()
    )
    # every language version carries its unit's English score
    assert (docs.groupby("unit_id")["score"].nunique() == 1).all()
    assert (docs.groupby("unit_id")["split"].nunique() == 1).all()
    assert set(docs.english_scores.iloc[0]) == {"rules", "lexical", "e5_prototype"}

    built = job.pairs(spark, settings)
    pairs = spark.read.format("delta").load(tables.SILVER_MURATING_PAIRS.path(settings)).toPandas()
    assert len(pairs) == built["pairs"] and set(pairs.pair_type) == {
        "monolingual",
        "cross_lingual",
        "parallel",
    }
    assert (pairs.source_a == "ntrex").all() and pairs.judgment_version.nunique() == 1
    # re-running replaces the pair set instead of adding to it
    job.pairs(spark, settings)
    assert spark.read.format("delta").load(
        tables.SILVER_MURATING_PAIRS.path(settings)
    ).count() == len(pairs)


def _fake_rater(tmp_path, texts):
    """A saved embedding-head rater and a cache holding vectors for ``texts`` (no encoder)."""
    import torch

    from models.murating.head import EmbeddingHeadRater

    folder = tmp_path / "cache"
    cache = EmbeddingCache(folder, max_chars=256, runtime=MuRatingSettings().encoder_runtime)
    rng = np.random.default_rng(0)
    cache._save({cache.key(t): rng.normal(size=DIM).astype(np.float32) for t in texts})
    torch.manual_seed(0)
    EmbeddingHeadRater(cache, hidden=8).save(tmp_path / "model")
    return tmp_path / "model", folder


def _scored(spark, settings, per_language: dict[str, int], tokens: int = 10):
    rng = np.random.default_rng(1)
    bronze = _bronze_rows(
        {language: [f"text {i}" for i in range(n)] for language, n in per_language.items()}
    )
    scores = [
        score_row(row.doc_id, DAY, "murating", "3", float(rng.uniform()), tokens) for row in bronze
    ]
    write_tables(spark, settings, (tables.SILVER_QUALITY_SCORES, scores), mode="append")
    return table_frame(spark, tables.BRONZE_DOCUMENTS, bronze), scores


@pytest.mark.parametrize("share", [0.5, 0.2])
def test_selection_respects_the_english_balance_and_takes_the_top(spark, settings, share):
    settings = _murating(settings, top_percent=50.0, english_share=share)
    documents, scores = _scored(spark, settings, {"en": 40, "de": 20, "fr": 20})
    summary = job.select(spark, settings, "3", documents=documents)
    assert summary["english_token_share"] == pytest.approx(share, abs=0.03)
    picked = (
        spark.read.format("delta").load(tables.mixture_table("murating").path(settings)).toPandas()
    )
    assert picked.doc_id.is_unique and (picked.copies == 1).all()
    by_score = {s.doc_id: s.score for s in scores}
    for language in ("en", "de", "fr"):
        chosen = [by_score[d] for d in picked.doc_id if d.startswith(language)]
        rest = [
            v for d, v in by_score.items() if d.startswith(language) and d not in set(picked.doc_id)
        ]
        assert chosen and min(chosen) >= max(rest)  # the best of each language, never a worse one


def test_batch_rating_scores_kept_documents_in_its_task_and_spark_writes_them(
    spark, settings, tmp_path, monkeypatch
):
    from models.murating import rate as rate_entry

    texts = {"en": [f"An English page {i}." for i in range(4)], "de": ["Eine Seite.", "Zwei."]}
    model, cache = _fake_rater(tmp_path, [t for ts in texts.values() for t in ts])
    bronze = _bronze_rows(texts)
    dedup = [dedup_row(r.doc_id, DAY) for r in bronze[1:]]
    dedup.insert(0, dedup_row(bronze[0].doc_id, DAY, duplicate_of=bronze[1].doc_id, method="exact"))
    write_tables(spark, settings, (tables.BRONZE_DOCUMENTS, bronze), (tables.SILVER_DEDUP, dedup))
    monkeypatch.setenv("THRESHER_HOME", str(settings.home))
    monkeypatch.setenv("THRESHER_CHECKPOINT_ROOT", str(tmp_path))
    monkeypatch.setenv("THRESHER_MURATING_EMBEDDING_CACHE", str(cache))
    result = rate_entry.main(
        ["--model", str(model), "--partition", DAY.isoformat(), "--output", "scores"]
    )
    assert result["documents"] == 5  # the duplicate is not rated
    for _ in range(2):  # a retry rewrites the same rows
        summary = job.rate(spark, settings, DAY, "7", scores_path=result["scores_path"])
    assert summary["rated"] == summary["documents"] == 5
    rows = spark.read.format("delta").load(tables.SILVER_QUALITY_SCORES.path(settings)).toPandas()
    assert set(rows.criterion) == {"murating"} and set(rows.version) == {"7"}
    assert rows.doc_id.is_unique and rows.score.between(0, 1).all()
    assert rows.score.nunique() > 1 and (rows.tokens > 0).all()


def test_selection_read_from_the_lake_records_the_versions_it_read(spark, settings):
    documents, _ = _scored(spark, settings, {"en": 6, "de": 6})
    write_tables(spark, settings, (tables.BRONZE_DOCUMENTS, documents.collect()), mode="append")
    summary = job.select(spark, _murating(settings, top_percent=50.0), "3")
    assert set(summary["source_versions"]) == {"silver.quality_scores", "bronze.documents"}
    picked = spark.read.format("delta").load(tables.mixture_table("murating").path(settings))
    (versions,) = {tuple(sorted(r.source_versions.items())) for r in picked.collect()}
    assert dict(versions) == summary["source_versions"]


def test_english_for_translation_is_the_best_by_the_rules_score(spark, settings):
    texts = {"en": [f"English text {i}." for i in range(6)], "de": ["Deutscher Text."]}
    rows = _bronze_rows(texts)
    dedup = [dedup_row(r.doc_id, DAY) for r in rows if r.doc_id != "en-005"]
    dedup.append(dedup_row("en-005", DAY, duplicate_of="en-000", method="minhash"))
    # en-004 and en-005 (a duplicate) score best; en-003 has no score at all
    scores = [score_row(f"en-00{i}", DAY, "rules", "r1", float(i), 3) for i in (0, 1, 2, 4, 5)]
    write_tables(
        spark,
        settings,
        (tables.BRONZE_DOCUMENTS, rows),
        (tables.SILVER_DEDUP, dedup),
        (tables.SILVER_QUALITY_SCORES, scores),
        mode="append",
    )
    summary = job.export_english(spark, _murating(settings, translate_documents=3), DAY)
    exported = pd.read_parquet(summary["path"])
    assert list(exported.unit_id) == ["bronze:en-004", "bronze:en-002", "bronze:en-001"]


def test_selection_covers_every_rated_date_or_names_the_backfill(spark, settings):
    documents, _ = _scored(spark, settings, {"en": 6, "de": 6})  # DAY, version 3
    later = DAY + dt.timedelta(days=1)
    rows = [score_row(f"de-1{i:02d}", later, "murating", "4", 0.5, 10) for i in range(3)]
    write_tables(spark, settings, (tables.SILVER_QUALITY_SCORES, rows), mode="append")
    from spark_jobs.criteria import MissingCriterionVersion

    with pytest.raises(MissingCriterionVersion, match="1 of 2 dates: 2026-11-01.*murating_rerate"):
        job.select(spark, settings, "4", documents=documents)
    # the backfill's dates: those rated by another version only, or a curated range
    assert job.stale_dates(spark, settings, "4") == [DAY.isoformat()]
    assert job.stale_dates(spark, settings, "3") == [later.isoformat()]
    dedup = [dedup_row("x", d) for d in (DAY - dt.timedelta(days=1), DAY, later)]
    write_tables(spark, settings, (tables.SILVER_DEDUP, dedup), mode="append")
    assert job.stale_dates(spark, settings, "4", DAY - dt.timedelta(days=5), DAY) == [
        (DAY - dt.timedelta(days=1)).isoformat(),
        DAY.isoformat(),
    ]
