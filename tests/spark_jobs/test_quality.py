"""The quality stage end to end: rules and a trained reference classifier on real text."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from spark_jobs import quality, reference_classifier
from spark_jobs.delta_io import read_table, replace_rows, rows_where
from tests.conftest import make_settings
from tests.corpus import ntrex_documents, table_frame
from tests.spark_jobs.test_dedup import bronze_row
from thresher.config import QualitySettings
from thresher.tables import BRONZE_DOCUMENTS, SILVER_DEDUP, SILVER_QUALITY_SCORES
from thresher.text import quality_rules

DAY = dt.date(2026, 11, 3)


def chat_documents(shared: Path, code: str, start: int, count: int, size: int = 12) -> list[str]:
    """Tatoeba's short everyday sentences strung together: real text, but not edited prose."""
    name = f"tatoeba.{code}-eng.{code}" if code != "eng" else "tatoeba.deu-eng.eng"
    lines = (shared / "tatoeba" / name).read_text(encoding="utf-8").splitlines()
    lines = lines[start : start + count * size]
    return [" ".join(lines[i : i + size]) for i in range(0, len(lines), size)]


@pytest.fixture(scope="module")
def trained(spark, shared_data, tmp_path_factory):
    """Settings (en + de) and the classifier trained on them, shared by the module's tests."""
    # fewer features and iterations than the defaults keep the fit to seconds on 2 cores
    small = QualitySettings(classifier_features=1 << 16, classifier_max_iter=30)
    settings = make_settings(
        tmp_path_factory.mktemp("quality"), languages=("en", "de"), quality=small
    )
    negatives = [
        bronze_row(DAY, f"neg-{lang}-{i}", text, lang)
        for code, lang in (("deu", "de"), ("eng", "en"))
        for i, text in enumerate(chat_documents(shared_data, code, 0, 60))
    ]
    frame = table_frame(spark, BRONZE_DOCUMENTS, negatives)
    metadata = reference_classifier.train_reference_classifier(spark, settings, frame)
    return settings, metadata


def test_reference_classifier_separates_news_from_chat(trained):
    _, metadata = trained
    assert metadata["holdout_auc"] > 0.9
    assert metadata["train_positive"] > 300 and metadata["holdout_negative"] > 5


def test_quality_stage_scores_kept_documents_and_reruns_identically(spark, trained, shared_data):
    settings, _ = trained
    news = ntrex_documents(shared_data, "deu", 4)
    chat = chat_documents(shared_data, "deu", 900, 3)
    spam = "\n".join(["BUY NOW!!! #deal #cheap #watches ..."] * 40)
    rows = [bronze_row(DAY, f"news-{i}", t, "de") for i, t in enumerate(news)]
    rows += [bronze_row(DAY, f"chat-{i}", t, "de") for i, t in enumerate(chat)]
    rows += [bronze_row(DAY, "spam", spam, "en"), bronze_row(DAY, "copy", news[0] + " ", "de")]
    bronze = table_frame(spark, BRONZE_DOCUMENTS, rows)
    replace_rows(spark, BRONZE_DOCUMENTS, settings, bronze, rows_where(DAY))
    ids = {r[3]: r[0] for r in rows}
    decisions = [
        (
            doc,
            DAY,
            ids["news-0"] if url == "copy" else doc,
            ids["news-0"] if url == "copy" else None,
            DAY if url == "copy" else None,
            "near" if url == "copy" else None,
        )
        for url, doc in ids.items()
    ]
    dedup = spark.createDataFrame(decisions, SILVER_DEDUP.schema)
    replace_rows(spark, SILVER_DEDUP, settings, dedup, rows_where(DAY))

    summary = quality.run(spark, settings, DAY)

    scores = read_table(spark, SILVER_QUALITY_SCORES, settings).where(f"ingest_date = '{DAY}'")
    first = sorted(scores.collect(), key=lambda r: (r["criterion"], r["doc_id"]))
    by = {(r["criterion"], r["doc_id"]): r for r in first}
    kept = [doc for url, doc in ids.items() if url != "copy"]
    assert summary["quality.documents"] == len(kept) == 8
    assert {doc for _, doc in by} == set(kept)  # the near-duplicate is not scored
    rules_version = quality_rules.rules_version(settings.quality)
    assert {(c, r["version"]) for (c, _), r in by.items()} == {
        ("rules", rules_version),
        ("reference_classifier", "v1"),
    }
    spam_rules = by["rules", ids["spam"]]
    assert not spam_rules["passed"] and "max_duplicate_line_fraction" in spam_rules["failed"]
    assert spam_rules["details"]["duplicate_line_fraction"] == pytest.approx(39 / 40)
    for i in range(4):
        news_rules = by["rules", ids[f"news-{i}"]]
        assert news_rules["passed"] and news_rules["failed"] == [] and news_rules["score"] == 1.0
        assert news_rules["tokens"] == len(news[i].encode("utf-8"))  # the size is UTF-8 bytes
        assert by["reference_classifier", ids[f"news-{i}"]]["tokens"] == news_rules["tokens"]
    p_news = [by["reference_classifier", ids[f"news-{i}"]]["score"] for i in range(4)]
    p_chat = [by["reference_classifier", ids[f"chat-{i}"]]["score"] for i in range(3)]
    assert min(p_news) > max(p_chat)

    quality.run(spark, settings, DAY)  # a retry replaces the same rows
    again = read_table(spark, SILVER_QUALITY_SCORES, settings).where(f"ingest_date = '{DAY}'")
    assert sorted(again.collect(), key=lambda r: (r["criterion"], r["doc_id"])) == first
