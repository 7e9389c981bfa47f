"""Criterion versions: name, name@version, name@alias → one version present on every date."""

from __future__ import annotations

import datetime as dt

import pytest
from pyspark.sql import functions as F

from spark_jobs import criteria, sampling
from thresher.tables import SILVER_QUALITY_SCORES

DAY1, DAY2, DAY3 = dt.date(2026, 11, 1), dt.date(2026, 11, 2), dt.date(2026, 11, 3)
ALIASES = {("murating", "champion"): "2"}


def lookup(name, alias):
    return ALIASES.get((name, alias))


def scores(spark, rows):
    """(doc, date, criterion, version, score) → silver.quality_scores rows."""
    full = [(d, day, c, v, s, True, None, {}, 10) for d, day, c, v, s in rows]
    return spark.createDataFrame(full, SILVER_QUALITY_SCORES.schema)


def two_days(spark, murating_versions):
    """rules@r1 on both days; murating in the versions given per day."""
    rows = []
    for day in (DAY1, DAY2):
        for i in range(3):
            rows.append((f"d{i}", day, "rules", "r1", i / 3))
            for version in murating_versions[day]:
                rows.append((f"d{i}", day, "murating", version, 0.1 * i + int(version)))
    return scores(spark, rows)


def test_a_bare_name_a_version_and_an_alias_resolve_to_one_version(spark):
    frame = two_days(spark, {DAY1: ["1", "2"], DAY2: ["2"]})
    assert criteria.resolve(frame, ["rules", "murating@2"], lookup) == {
        "rules": "r1",
        "murating": "2",
    }
    assert criteria.resolve(frame, ["murating@champion"], lookup) == {"murating": "2"}
    with pytest.raises(criteria.MissingCriterionVersion, match=r"versions \[1 \(1 dates\), 2"):
        criteria.resolve(frame, ["murating"], lookup)  # two versions: which one?
    with pytest.raises(criteria.MissingCriterionVersion, match="no such registry alias"):
        criteria.resolve(frame, ["murating@staging"], lookup)


def test_a_date_without_the_version_is_an_error_naming_the_backfill(spark):
    frame = two_days(spark, {DAY1: ["1"], DAY2: ["2"]})
    with pytest.raises(criteria.MissingCriterionVersion) as error:
        criteria.resolve(frame, ["rules", "murating@champion"], lookup)
    message = str(error.value)
    assert "murating@2 (alias champion) has no scores for 1 of 2 dates: 2026-11-01" in message
    assert "airflow dags trigger murating_rerate" in message and '"version": "2"' in message
    # a date that has no murating rows at all is missing too, not dropped
    frame = two_days(spark, {DAY1: [], DAY2: ["2"]})
    with pytest.raises(criteria.MissingCriterionVersion, match="2026-11-01"):
        criteria.resolve(frame, ["rules", "murating@2"], lookup)
    # a curation criterion names the curation backfill
    rules_only_day3 = frame.unionByName(scores(spark, [("d9", DAY3, "murating", "2", 0.5)]))
    with pytest.raises(criteria.MissingCriterionVersion, match="--dag-id curation"):
        criteria.resolve(rules_only_day3, ["rules", "murating@2"], lookup)


def test_bad_criterion_names_are_refused_before_they_reach_a_predicate(spark):
    frame = two_days(spark, {DAY1: ["1"], DAY2: ["1"]})
    with pytest.raises(ValueError, match="criterion"):
        criteria.resolve(frame, ["rules' OR '1'='1"], lookup)
    with pytest.raises(ValueError, match="named twice"):
        criteria.resolve(frame, ["murating@1", "murating@champion"], lookup)


def test_quadmix_reads_the_aliased_version_on_every_date(spark, monkeypatch):
    monkeypatch.setattr(criteria, "registry_aliases", lambda settings: lookup)
    frame = two_days(spark, {DAY1: ["1", "2"], DAY2: ["2"]})
    frame = frame.withColumn("language", F.lit("en"))  # σ ranks within each language
    sigmas, resolved = sampling.criterion_sigmas(frame, ("rules", "murating@champion"), ())
    assert resolved == {"rules": "r1", "murating": "2"}
    rows = sigmas.collect()
    assert len(rows) == 6 and {r["ingest_date"] for r in rows} == {DAY1, DAY2}
