"""QuaDMix sampling on Spark: ranks, per-domain parameters, determinism, rebuilds from versions."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from spark_jobs import mixture, quota, sampling
from spark_jobs.delta_io import read_table, replace_rows, rows_where
from tests.corpus import table_frame
from thresher.config import MixtureSettings
from thresher.quadmix import QuadMixParams
from thresher.tables import BRONZE_DOCUMENTS, SILVER_QUALITY_SCORES, mixture_table

DAY1, DAY2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)
CRITERIA = ("rules", "reference_classifier")


def write_scores(spark, settings, day: dt.date, rng: np.random.Generator, n: int) -> None:
    """Two criteria for ``n`` documents of ``day``, and their bronze rows: every third German,
    the rest English (σ and r̄ rank within a language)."""
    rows, bronze = [], []
    for i in range(n):
        tokens = int(rng.lognormal(5, 1)) + 1
        doc = f"{day:%m%d}-{i:04d}"
        rule = float(rng.integers(0, 19)) / 18  # rule pass shares: many ties
        rows.append((doc, day, "rules", "r1", rule, rule == 1.0, [], {}, tokens))
        p = float(rng.uniform())
        rows.append((doc, day, "reference_classifier", "v1", p, p >= 0.5, None, {}, tokens))
        language = "de" if i % 3 == 0 else "en"
        bronze.append(
            (
                doc,
                day,
                "tests",
                f"u{i}",
                f"l{i}",
                "html",
                None,
                "x" * tokens,
                f"{i:064x}",
                language,
                0.99,
                tokens,
                tokens,
                "tests",
            )
        )
    frame = spark.createDataFrame(rows, SILVER_QUALITY_SCORES.schema)
    replace_rows(spark, SILVER_QUALITY_SCORES, settings, frame, rows_where(day))
    documents = table_frame(spark, BRONZE_DOCUMENTS, bronze)
    replace_rows(spark, BRONZE_DOCUMENTS, settings, documents, rows_where(day))


def with_mixture(settings, **changes):
    return dataclasses.replace(settings, mixture=dataclasses.replace(settings.mixture, **changes))


def table_rows(spark, settings):
    frame = read_table(spark, mixture_table(settings.mixture.name), settings)
    return sorted(tuple(r) for r in frame.drop("source_versions").collect())


def test_token_weighted_rank_by_hand(spark):
    # one criterion, smaller is better; tokens 10, 30, 20, 40; two documents tie
    frame = (
        spark.createDataFrame(
            [("a", 0.3, 10), ("b", 0.1, 30), ("c", 0.2, 20), ("d", 0.2, 40)],
            "node string, quality double, tokens long",
        )
        .withColumn("domain", sampling.F.lit("all"))
        .withColumn("language", sampling.F.lit("en"))
    )
    exact = {r["node"]: r["rank"] for r in sampling.exact_rank(frame).collect()}
    assert exact == pytest.approx({"b": 0.3, "c": 0.9, "d": 0.9, "a": 1.0})
    approx, bound = sampling.approximate_rank(frame, bins=10)
    # bins of width 0.1: each document alone in its bin except the tied c and d, which share
    # the rank of the last of them exactly as the exact rank does: no slack anywhere
    assert bound == 0.0
    assert {r["node"]: r["rank"] for r in approx.collect()} == pytest.approx(exact)


def test_a_discrete_criterion_is_ranked_exactly_by_the_histogram(spark):
    # a rule pass share takes few values: whole bins of ties, ranked exactly
    rows = [(f"d{i}", "en", "all", (i % 4) / 4, 10 + i) for i in range(200)]
    schema = "node string, language string, domain string, quality double, tokens long"
    frame = spark.createDataFrame(rows, schema)
    exact = {r["node"]: r["rank"] for r in sampling.exact_rank(frame).collect()}
    approx, bound = sampling.approximate_rank(frame, bins=1000)
    assert bound == 0.0
    assert {r["node"]: r["rank"] for r in approx.collect()} == pytest.approx(exact)


def test_approximate_rank_is_within_its_stated_bound(spark):
    rng = np.random.default_rng(5)
    n = 4000
    quality = np.concatenate([rng.uniform(size=n // 2), rng.beta(2, 5, size=n // 2)])
    tokens = (rng.lognormal(5, 1.2, size=n) + 1).astype(int)
    names = [f"d{i}" for i in range(n)]
    domains = ["news", "code"] * (n // 2)
    languages = ["en", "en", "ja", "ja"] * (n // 4)  # ranked within (language, domain)
    rows = list(zip(names, languages, domains, quality.tolist(), tokens.tolist(), strict=True))
    schema = "node string, language string, domain string, quality double, tokens long"
    frame = spark.createDataFrame(rows, schema)
    exact = {r["node"]: r["rank"] for r in sampling.exact_rank(frame).collect()}
    approx, bound = sampling.approximate_rank(frame, bins=2000)
    errors = [abs(r["rank"] - exact[r["node"]]) for r in approx.collect()]
    assert len(errors) == n
    assert max(errors) <= bound + 1e-12
    # a bin's slack is the tokens of its documents but the smallest: with 2,000 bins per
    # (language, domain) of 1,000 documents, at most the longest document's share (~1/25
    # here), mostly far less
    assert bound < 0.06
    assert float(np.mean(errors)) < 1e-3

    binned = {r["node"]: r["rank"] for r in sampling.binned_rank(frame, bins=50).collect()}
    assert binned == pytest.approx(exact)  # two-level, and exact


def test_mixture_is_deterministic_and_rebuilt_from_recorded_versions(spark, settings):
    rng = np.random.default_rng(11)
    write_scores(spark, settings, DAY1, rng, 150)
    write_scores(spark, settings, DAY2, rng, 150)
    params = QuadMixParams(CRITERIA, ("*",), ((0.3, 0.7),), (20.0,), (0.5,), (1.5,), (0.3,))
    settings = with_mixture(settings, name="t", rank_mode="exact")

    summary = mixture.run(spark, settings, params=params)
    first = table_rows(spark, settings)
    assert summary["mixture.documents"] == 300
    assert summary["mixture.selected"] == len(first) > 0
    assert summary["mixture.params_version"] == params.version
    assert summary["mixture.within_budget"] is True  # no budget
    # no budget, natural shares: each language's S is scaled to its share of the unscaled
    # mixture, so by about 1
    scales = [row["scale"] for row in summary["quota"]["languages"].values()]
    assert all(0.9 < c < 1.1 for c in scales) and len(scales) == 2
    columns = mixture_table("t").schema.fieldNames()
    names = [c for c in columns if c != "source_versions"]
    for row in (dict(zip(names, r, strict=True)) for r in first):
        assert row["copies"] in (
            np.floor(row["expected_copies"]),
            np.floor(row["expected_copies"]) + 1,
        )
        if row["rank"] > 0.5:  # beyond ω only the ε floor (× the language's scale): one copy
            assert any(row["expected_copies"] == pytest.approx(0.3 * c) for c in scales)
            assert row["copies"] == 1
        else:
            assert row["copies"] >= 1
        assert row["params_version"] == params.version and row["seed"] == 1
    kept_beyond = sum(r[columns.index("rank")] > 0.5 for r in first)
    assert 0 < kept_beyond < 0.5 * 150  # ε = 0.3 of the ~150 documents past ω

    # same inputs and seed, other partitioning: the same table
    spark.conf.set("spark.sql.shuffle.partitions", "5")
    try:
        mixture.run(spark, settings, params=params)
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", "2")
    assert table_rows(spark, settings) == first
    recipe = mixture.mixture_recipe(spark, settings, "t")
    assert recipe["criteria"] == ["rules@r1", "reference_classifier@v1"]

    # the scores change (a re-run of DAY2); the recorded versions still give the old mixture
    write_scores(spark, settings, DAY2, np.random.default_rng(99), 150)
    pinned = recipe["source_versions"]["silver.quality_scores"]
    before = sampling.read_at(spark, settings, "silver.quality_scores", pinned)
    now = read_table(spark, SILVER_QUALITY_SCORES, settings)
    assert sorted(map(tuple, before.drop("details").collect())) != sorted(
        map(tuple, now.drop("details").collect())
    )
    mixture.rebuild(spark, settings, recipe)
    assert table_rows(spark, settings) == first
    assert (
        mixture.mixture_recipe(spark, settings, "t")["source_versions"] == recipe["source_versions"]
    )


def test_the_quota_and_language_shares_on_spark(spark, settings, monkeypatch):
    rng = np.random.default_rng(21)
    write_scores(spark, settings, DAY1, rng, 300)
    write_scores(spark, settings, DAY2, rng, 300)
    params = QuadMixParams(CRITERIA, ("*",), ((0.5, 0.5),), (30.0,), (0.4,), (1.2,), (0.01,))
    settings = with_mixture(
        settings,
        name="q",
        rank_mode="exact",
        budget_tokens=60_000,
        language_policy="explicit",
        language_shares={"en": "0.3", "de": "0.7"},
    )
    # few local documents: the brackets are narrowed by Spark passes first
    monkeypatch.setattr(quota, "LOCAL_DOCUMENTS", 20)
    summary = mixture.run(spark, settings, params=params)
    largest = summary["quota"]["largest_document_tokens"]
    assert abs(summary["mixture.tokens"] - 60_000) <= largest and summary["mixture.within_budget"]
    chosen = read_table(spark, mixture_table("q"), settings)
    languages = read_table(spark, BRONZE_DOCUMENTS, settings).select("doc_id", "language")
    per_language = {
        r["language"]: r["tokens"]
        for r in chosen.join(languages, "doc_id")
        .groupBy("language")
        .agg(sampling.F.sum(sampling.F.col("tokens") * sampling.F.col("copies")).alias("tokens"))
        .collect()
    }
    total = sum(per_language.values())
    assert per_language["de"] / total == pytest.approx(0.7, abs=0.01)  # de is a third of the pool
    recipe = mixture.mixture_recipe(spark, settings, "q")
    assert recipe["quota"]["languages"]["de"]["target_share"] == 0.7
    assert recipe["quota"]["realised_tokens"] == summary["mixture.tokens"]
    assert recipe["source_versions"]["bronze.documents"] >= 0
    for row in chosen.collect():  # S scaled per language, then the paper's draw
        assert row["copies"] in (
            np.floor(row["expected_copies"]),
            np.floor(row["expected_copies"]) + 1,
        )


def test_per_domain_parameters_and_a_missing_domain(spark, settings):
    write_scores(spark, settings, DAY1, np.random.default_rng(3), 60)
    domains = spark.createDataFrame(
        [(f"{DAY1:%m%d}-{i:04d}", DAY1, "keep" if i % 3 else "drop") for i in range(60)],
        "doc_id string, ingest_date date, domain string",
    )
    # "keep": η = 0 makes S = 1 up to ω = 1, so exactly one copy each; "drop": ω = 0, ε = 0
    params = QuadMixParams(
        CRITERIA,
        ("keep", "drop"),
        ((0.5, 0.5), (1.0, 0.0)),
        (10.0, 10.0),
        (1.0, 0.0),
        (0.0, 1.0),
        (0.0, 0.0),
    )
    # every German document is in "drop": only English can be drawn, and gets all the tokens
    settings = with_mixture(
        settings,
        name="domains",
        rank_mode="approximate",
        rank_bins=100,
        language_policy="explicit",
        language_shares={"en": "1.0"},
    )
    summary = mixture.run(spark, settings, domains=domains, params=params)
    rows = read_table(spark, mixture_table("domains"), settings).collect()
    assert {r["domain"] for r in rows} == {"keep"}
    assert len(rows) == 40 and all(r["copies"] == 1 for r in rows)  # English at scale 1
    assert summary["quota"]["languages"]["de"]["target_share"] == 0
    assert summary["mixture.rank_mode"] == "approximate"
    assert summary["mixture.tokens"] == sum(r["tokens"] for r in rows)

    only_keep = QuadMixParams.uniform(CRITERIA, ("keep",))
    with pytest.raises(KeyError, match="drop"):
        mixture.run(spark, settings, domains=domains, params=only_keep)


def test_mixture_settings_defaults():
    config = MixtureSettings()
    assert config.criteria == CRITERIA and config.lambda_scale == "linear"
    with pytest.raises(ValueError, match="is not valid"):
        mixture_table("bad name")
