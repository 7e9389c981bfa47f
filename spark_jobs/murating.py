"""MuRating's Spark steps: judgments, pairs, batch rating, selection (models: ``models.murating``).

- ``judgments``: the parallel units (``thresher.murating.parallel``) plus any translated units
  (``models.murating.translate`` output) are rated on their English side by every English
  rater (``mapInPandas``: the raters are pure functions of text), the ratings collected
  (a few floats per document) and aggregated by Bradley–Terry on the driver; every language
  version of a unit gets its unit's unified score → ``silver.murating_documents``.
- ``pairs``: monolingual, cross-lingual and parallel pairs → ``silver.murating_pairs``.
- ``rate``: the logits a registered rater version gave the documents dedup kept in a
  partition (the ``models.murating.rate`` task) → ``silver.quality_scores`` rows of criterion
  ``murating``, version = the registry version; score = σ(rater logit) in [0, 1] (the raw
  logit in ``details``), so QuaDMix can merge it with the other criteria
  (``THRESHER_MIXTURE_CRITERIA=...,murating@champion``).
- ``stale_dates``: the dates a backfill re-rates — those rated by another version than the
  one asked for (or, given a range, every curated date in it without that version).
- ``select``: over every rated date, which must all hold the chosen version (else the error
  names the backfill): per language the top ``top_percent`` % of rated documents (or a
  score-weighted sample of that size), English cut back so that it is ``english_share`` of
  the selected tokens (or the other languages cut back when English is short) →
  ``gold.mixture_<selection_name>``, in the QuaDMix mixture schema (copies = 1), so the
  pretraining DAG's ``training_corpus`` reads it like any mixture.

Each write replaces exactly what the step owns (a pair set, a partition's criterion and
version, a whole mixture), so a retry leaves the same tables.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from spark_jobs.delta_io import (
    last_version,
    read_table,
    rebuild_table,
    replace_rows,
    rows_where,
)
from thresher.config import MuRatingSettings, Settings
from thresher.murating.embeddings import cache_folder
from thresher.tables import (
    BRONZE_DOCUMENTS,
    SILVER_DEDUP,
    SILVER_MURATING_DOCUMENTS,
    SILVER_MURATING_PAIRS,
    SILVER_QUALITY_SCORES,
    mixture_table,
)

log = logging.getLogger(__name__)
CRITERION = "murating"


def _english_ratings(config: MuRatingSettings, folder: str):
    def compute(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        from thresher.murating.embeddings import EmbeddingCache
        from thresher.murating.raters import build_raters, rate

        # the e5_prototype rater reads a document's first max_chars characters
        cache = EmbeddingCache(
            folder, config.max_chars, config.encoder_path, runtime=config.encoder_runtime
        )
        raters = build_raters(config.raters, cache.embed)
        for batch in batches:
            scores = rate(batch["text"].tolist(), raters)
            yield pd.DataFrame({"unit_id": batch["unit_id"], **scores})

    return compute


def _judged(path: str, units: pd.Series) -> dict:
    """A pairwise judge's output (``models.murating.judge``) as index comparisons on ``units``."""
    frame = pd.read_parquet(path)
    index = {u: i for i, u in enumerate(units)}
    known = frame["unit_a"].isin(index) & frame["unit_b"].isin(index)
    if not known.all():
        log.warning("%d judged pairs name units not rated here: left out", int((~known).sum()))
    frame = frame[known]
    name = frame["judge"].iloc[0] if len(frame) else "pairwise_judge@none"
    return {
        name: (
            frame["unit_a"].map(index).to_numpy(),
            frame["unit_b"].map(index).to_numpy(),
            frame["p"].to_numpy(dtype=float),
        )
    }


def judgments(
    spark: SparkSession, settings: Settings, translations: str = "", judged: str = ""
) -> dict:
    """Parallel (and translated) units → ``silver.murating_documents[pair_set]``.

    ``judged``: a pairwise judge's judgments file, fitted with the pointwise raters.
    """
    from thresher.murating.judgments import HELD_OUT, TRAIN, documents_frame, unify
    from thresher.murating.parallel import parallel_documents
    from thresher.murating.raters import build_raters
    from thresher.murating.units import ENGLISH, held_out, read_translations

    config = settings.murating
    docs = documents_frame(parallel_documents(settings))
    if translations:
        docs = pd.concat([docs, documents_frame(read_translations(translations))])
        docs = docs.drop_duplicates("doc_key", ignore_index=True)
    english = spark.createDataFrame(docs[docs["language"] == ENGLISH][["unit_id", "text"]])
    schema = "unit_id string, " + ", ".join(f"{r} double" for r in config.raters)
    rated = english.mapInPandas(_english_ratings(config, cache_folder(settings)), schema)
    ratings = rated.toPandas().sort_values("unit_id", ignore_index=True)
    scores = {r: ratings[r].to_numpy() for r in config.raters}
    comparisons = _judged(judged, ratings["unit_id"]) if judged else None
    unified, report = unify(scores, config, comparisons)
    versions = {r.name: r.version for r in build_raters(config.raters, lambda t: np.zeros(0))}
    for name in comparisons or {}:
        judge, _, version = name.partition("@")
        versions[judge] = version
    judgment_version = _version(versions, config)
    per_unit = pd.DataFrame({"unit_id": ratings["unit_id"], "score": unified})
    per_unit["english_scores"] = ratings[list(config.raters)].to_dict("records")
    out = docs.merge(per_unit, on="unit_id")
    out["split"] = [
        HELD_OUT if held_out(u, config.held_out_fraction, config.seed) else TRAIN
        for u in out["unit_id"]
    ]
    out["pair_set"], out["judgment_version"] = config.pair_set, judgment_version
    columns = list(SILVER_MURATING_DOCUMENTS.schema.fieldNames())
    rows = spark.createDataFrame(out[columns], SILVER_MURATING_DOCUMENTS.schema.simpleString())
    replace_rows(
        spark, SILVER_MURATING_DOCUMENTS, settings, rows, rows_where(pair_set=config.pair_set)
    )
    return {
        "pair_set": config.pair_set,
        "judgment_version": judgment_version,
        "documents": len(out),
        "units": int(out["unit_id"].nunique()),
        "raters": versions,
        "agreement": {k: v for k, v in report.items() if np.isfinite(v)},
    }


def _version(*parts) -> str:
    blob = json.dumps(parts, sort_keys=True, default=lambda o: dataclasses.asdict(o))
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def pairs(spark: SparkSession, settings: Settings) -> dict:
    """``silver.murating_documents[pair_set]`` → ``silver.murating_pairs[pair_set]``."""
    from thresher.murating.lifecycle import pairs_fingerprint
    from thresher.murating.pairs import training_pairs

    config = settings.murating
    docs = (
        read_table(spark, SILVER_MURATING_DOCUMENTS, settings)
        .where(F.col("pair_set") == config.pair_set)
        .toPandas()
    )
    if docs.empty:
        raise ValueError(f"no documents in pair set {config.pair_set!r}: run judgments first")
    built = training_pairs(
        docs,
        config.monolingual_pairs_per_language,
        config.cross_lingual_pairs,
        config.parallel_pairs,
        config.seed,
        config.strata,
        config.min_gap,
        config.label_temperature,
    )
    built["pair_set"] = config.pair_set
    built["judgment_version"] = docs["judgment_version"].iloc[0]
    rows = spark.createDataFrame(
        built[list(SILVER_MURATING_PAIRS.schema.fieldNames())],
        SILVER_MURATING_PAIRS.schema.simpleString(),
    )
    replace_rows(spark, SILVER_MURATING_PAIRS, settings, rows, rows_where(pair_set=config.pair_set))
    counts = built.groupby(["split", "pair_type"]).size()
    return {
        "pair_set": config.pair_set,
        "pairs_path": SILVER_MURATING_PAIRS.path(settings),
        "pairs_fingerprint": pairs_fingerprint(built),
        "pairs": int(len(built)),
        "pairs_by_type": {f"{s}/{t}": int(n) for (s, t), n in counts.items()},
    }


def rate(
    spark: SparkSession, settings: Settings, partition: dt.date, version: str, scores_path: str
) -> dict:
    """The rater's logits of ``partition``'s kept documents → ``silver.quality_scores``
    (criterion murating, ``version``).

    ``scores_path`` is what the ``models.murating.rate`` task wrote (in a GPU pod at scale, a
    local process here): the model runs in its task, this Spark job only writes, so the
    rater never runs inside Spark and the write stays one idempotent replace.
    """
    scored = (
        spark.read.parquet(scores_path)
        .select("doc_id", F.col("ingest_date").cast("date"), "logit", "tokens")
        .where(F.col("ingest_date") == F.lit(partition))
    )
    rows = scored.select(
        "doc_id",
        "ingest_date",
        F.lit(CRITERION).alias("criterion"),
        F.lit(version).alias("version"),
        (1 / (1 + F.exp(-F.col("logit")))).alias("score"),
        F.lit(True).alias("passed"),  # a ranking score: selection decides, not a threshold
        F.lit(None).cast("array<string>").alias("failed"),
        F.create_map(F.lit("logit"), "logit").alias("details"),
        "tokens",
    )
    predicate = rows_where(partition, criterion=CRITERION, version=version)
    replace_rows(spark, SILVER_QUALITY_SCORES, settings, rows, predicate)
    written = (
        read_table(spark, SILVER_QUALITY_SCORES, settings)
        .where(predicate)
        .agg(F.count("*").alias("n"), F.countDistinct("doc_id").alias("docs"))
        .first()
    )
    return {
        "partition": partition.isoformat(),
        "criterion": CRITERION,
        "version": version,
        "rated": written["n"],
        "documents": written["docs"],
    }


def _uniform(seed: int) -> F.Column:
    """A fixed uniform in (0, 1) per document, from hash(seed, date, doc_id)."""
    bits = F.pmod(F.xxhash64(F.lit(seed), "ingest_date", "doc_id"), F.lit(1 << 52))
    return (bits.cast("double") + 0.5) / float(1 << 52)


def _balanced(ranked: DataFrame, share: float) -> DataFrame:
    """Cut English or the other languages so English is ``share`` of the selected tokens."""
    totals = ranked.groupBy(F.col("language") == "en").agg(F.sum("tokens")).collect()
    by_side = {bool(r[0]): float(r[1] or 0) for r in totals}
    english, others = by_side.get(True, 0.0), by_side.get(False, 0.0)
    if english + others == 0 or english == 0 or others == 0:
        return ranked
    if english / (english + others) > share:
        side, budget = (
            F.col("language") == "en",
            share / (1 - share) * others if share < 1 else english,
        )
    else:
        side, budget = F.col("language") != "en", (1 - share) / share * english if share else 0.0
    # within the side that is cut: best-ranked first (the others' languages interleaved by
    # their within-language rank, so each shrinks in proportion)
    order = Window.orderBy("rank", "doc_id").rowsBetween(Window.unboundedPreceding, 0)
    cut = ranked.where(side).withColumn("cumulative", F.sum("tokens").over(order))
    kept = cut.where(F.col("cumulative") <= budget).drop("cumulative")
    return ranked.where(~side).unionByName(kept)


def _rated(spark: SparkSession, settings: Settings) -> DataFrame:
    scores = read_table(spark, SILVER_QUALITY_SCORES, settings)
    return scores.where(F.col("criterion") == CRITERION)


def stale_dates(
    spark: SparkSession,
    settings: Settings,
    version: str,
    from_date: dt.date | None = None,
    to_date: dt.date | None = None,
) -> list[str]:
    """The dates a backfill rates with ``version``: those rated by another version only, or,
    with a range, every date in it that dedup curated and ``version`` has not rated."""
    rated = _rated(spark, settings).select("ingest_date", "version").distinct().collect()
    done = {r["ingest_date"] for r in rated if r["version"] == version}
    if from_date is None and to_date is None:
        wanted = {r["ingest_date"] for r in rated}
    else:
        curated = read_table(spark, SILVER_DEDUP, settings).select("ingest_date").distinct()
        if from_date is not None:
            curated = curated.where(F.col("ingest_date") >= F.lit(from_date))
        if to_date is not None:
            curated = curated.where(F.col("ingest_date") <= F.lit(to_date))
        wanted = {r["ingest_date"] for r in curated.collect()}
    return sorted(d.isoformat() for d in wanted - done)


def select(
    spark: SparkSession, settings: Settings, version: str, documents: DataFrame | None = None
) -> dict:
    """``silver.quality_scores`` (murating@version, every rated date) →
    ``gold.mixture_<selection_name>``. A date rated only by other versions is an error that
    names the backfill: a selection never mixes two versions' scores nor drops a date."""
    from spark_jobs import criteria

    config = settings.murating
    rated = _rated(spark, settings)
    # the version is given, never an alias here: a version with no rows yet fails on coverage
    criteria.resolve(rated, [f"{CRITERION}@{version}"], aliases=lambda name, ref: ref)
    scores = rated.where(F.col("version") == version).select(
        "doc_id", "ingest_date", "score", "tokens"
    )
    # The Delta versions read, so the selection can be rebuilt exactly (time travel).
    versions = {
        SILVER_QUALITY_SCORES.qualified_name: last_version(
            spark, SILVER_QUALITY_SCORES.path(settings)
        )
    }
    if documents is None:
        versions[BRONZE_DOCUMENTS.qualified_name] = last_version(
            spark, BRONZE_DOCUMENTS.path(settings)
        )
    docs = documents if documents is not None else read_table(spark, BRONZE_DOCUMENTS, settings)
    frame = scores.join(docs.select("doc_id", "ingest_date", "language"), ["doc_id", "ingest_date"])
    if config.selection_method == "weighted":
        # Efraimidis–Spirakis: the largest u^(1/w) are a sample weighted by w, without replacement
        frame = frame.withColumn(
            "key", F.log(_uniform(config.seed)) / F.greatest("score", F.lit(1e-9))
        )
    else:
        frame = frame.withColumn("key", F.col("score"))
    by_language = Window.partitionBy("language").orderBy(F.desc("key"), "doc_id")
    ranked = frame.withColumn("rank", F.percent_rank().over(by_language)).withColumn(
        "position", F.row_number().over(by_language)
    )
    fraction = config.top_percent / 100
    chosen = ranked.where((F.col("rank") < fraction) | (F.col("position") == 1))
    chosen = _balanced(chosen, config.english_share)
    domains = spark.createDataFrame([], "doc_id string, ingest_date date, domain string")
    from thresher.tables import SILVER_DOMAINS

    if (Path(SILVER_DOMAINS.path(settings)) / "_delta_log").is_dir():
        domains = read_table(spark, SILVER_DOMAINS, settings).select(
            "doc_id", "ingest_date", "domain"
        )
        versions[SILVER_DOMAINS.qualified_name] = last_version(spark, SILVER_DOMAINS.path(settings))
    recipe = {
        "method": config.selection_method,
        "top_percent": config.top_percent,
        "english_share": config.english_share,
        "seed": config.seed,
        "criterion": f"{CRITERION}@{version}",
    }
    params_version = _version(recipe)
    spec = mixture_table(config.selection_name)
    out = (
        chosen.join(domains, ["doc_id", "ingest_date"], "left")
        .withColumn("domain", F.coalesce("domain", F.lit("all")))
        .withColumn("quality", F.col("rank"))
        .withColumn("expected_copies", F.lit(1.0))
        .withColumn("copies", F.lit(1))
        .withColumn("params_version", F.lit(params_version))
        .withColumn("seed", F.lit(config.seed).cast("long"))
        .withColumn(
            "source_versions",
            F.create_map(
                *[x for name, v in sorted(versions.items()) for x in (F.lit(name), F.lit(v))]
            ),
        )
    )
    path = rebuild_table(spark, spec, settings, out, recipe)
    written = (
        spark.read.format("delta")
        .load(path)
        .join(docs.select("doc_id", "ingest_date", "language"), ["doc_id", "ingest_date"])
    )
    per_language = written.groupBy("language").agg(F.sum("tokens").alias("tokens")).collect()
    tokens = {r["language"]: int(r["tokens"]) for r in per_language}
    total = sum(tokens.values())
    dates = [
        r["ingest_date"].isoformat() for r in scores.select("ingest_date").distinct().collect()
    ]
    return {
        "mixture": spec.qualified_name,
        "selected": written.count(),
        "tokens": tokens,
        "version": version,
        "dates": sorted(dates),
        "english_token_share": tokens.get("en", 0) / total if total else 0.0,
        "params_version": params_version,
        "recipe": recipe,
        "source_versions": versions,
    }


def export_english(spark: SparkSession, settings: Settings, partition: dt.date) -> dict:
    """English kept documents of ``partition`` → Parquet the translate task reads.

    Unit ids are ``bronze:<doc_id>``; at most ``translate_documents``, the best by the
    partition's ``rules`` quality score (translation is worth most on text worth keeping),
    ties and unscored documents in a seeded order; one file replaced whole.
    """
    from spark_jobs.dedup import kept_documents
    from spark_jobs.quality import RULES

    config = settings.murating
    target = f"{settings.checkpoint_root}/murating/{config.pair_set}/english/{partition}"
    english = kept_documents(spark, settings, partition).where(F.col("language") == "en")
    rules = spark.createDataFrame([], "doc_id string, rule_score double")
    if (Path(SILVER_QUALITY_SCORES.path(settings)) / "_delta_log").is_dir():
        rules = (
            read_table(spark, SILVER_QUALITY_SCORES, settings)
            .where((F.col("ingest_date") == F.lit(partition)) & (F.col("criterion") == RULES))
            .groupBy("doc_id")
            .agg(F.max("score").alias("rule_score"))
        )
    docs = (
        english.join(rules, "doc_id", "left")
        .orderBy(F.desc_nulls_last("rule_score"), F.xxhash64(F.lit(config.seed), "doc_id"))
        .limit(config.translate_documents)
        .select(F.concat(F.lit("bronze:"), "doc_id").alias("unit_id"), "text")
        .toPandas()
    )
    Path(target).mkdir(parents=True, exist_ok=True)
    docs.to_parquet(f"{target}/documents.parquet", index=False)
    return {"path": f"{target}/documents.parquet", "documents": len(docs)}
