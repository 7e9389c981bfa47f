"""QuaDMix sampler throughput over 1M+ rows, and the approximate rank's error against exact.

Scores are real: the rule-based quality pass (``spark_jobs.quality.rule_rows``) over the
200,000 real pages of the dedup benchmark's large corpus gives each page its token count,
its rule score and its stop-word ratio (two criteria). Domains are real metadata: the
Debian package a page comes from. To pass 1M rows the scored pages are stacked under
``COPIES`` ingest dates (same scores, distinct ``(ingest_date, doc_id)`` keys), which is what
a year of re-crawls of the same sites looks like to the sampler.

Measured in one Spark session (local[2]):
- ``scan``: a plain Spark aggregation over the same scores table (count and token sum),
  the floor any sampler over this table pays;
- ``sampler``: ``spark_jobs.mixture.run`` end to end in approximate mode (σ, q̄, r̄, S,
  copies, the gold table written), its ``rows_per_s``;
- ``max_rank_error``: the largest |r̄ − r̄_exact| over every document for the rank mode the
  sampler uses at this size ("binned": exact in two levels), and the same for the one-pass
  histogram approximation beside the bound it reports.

Run: ``make bench-sampling`` (builds the corpus first if needed) → bench/results/sampling.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import tempfile
import time
from pathlib import Path

from bench.dedup import corpus

RESULTS = corpus.REPO / "bench" / "results" / "sampling.json"
COPIES = 6
FIRST_DATE = dt.date(2025, 1, 1)
CRITERIA = ("rules", "stop_words")
log = logging.getLogger("bench.sampling")


def settings_for(home: Path):
    from thresher.config import MixtureSettings, Settings, SparkSettings

    spark = SparkSettings(
        master="local[2]",
        shuffle_partitions=8,
        driver_memory="6g",
        conf={"spark.ui.enabled": "false"},
    )
    mixture = MixtureSettings(
        name="bench", criteria=CRITERIA, larger_is_better=CRITERIA, rank_mode="auto"
    )
    return Settings(home=home, spark=spark, mixture=mixture)


def load_scores(spark, settings, corpus_file: Path, limit: int | None) -> int:
    """Score the corpus with the rule pass and stack it under COPIES dates into the table."""
    from pyspark.sql import functions as F

    from spark_jobs.delta_io import replace_rows
    from spark_jobs.quality import RULE_SCHEMA, rule_rows
    from thresher.tables import SILVER_DOMAINS, SILVER_QUALITY_SCORES

    docs = spark.read.parquet(str(corpus_file))
    if limit:
        docs = docs.limit(limit)
    docs = docs.select(
        "doc_id",
        F.lit(FIRST_DATE).cast("date").alias("ingest_date"),
        "text",
        "language",
        F.split("url", "/")[0].alias("package"),
    ).repartition(8)
    scored = docs.mapInPandas(rule_rows(settings.quality), RULE_SCHEMA).persist()
    packages = docs.select("doc_id", "package")
    dates = spark.range(COPIES).select(
        F.date_add(F.lit(FIRST_DATE), F.col("id").cast("int")).alias("day")
    )
    stacked = scored.crossJoin(dates).withColumn("ingest_date", F.col("day")).drop("day")
    stop_words = F.coalesce(F.col("details")["stop_word_ratio"], F.lit(0.0))
    rows = stacked.select(
        "doc_id",
        "ingest_date",
        F.lit("rules").alias("criterion"),
        F.lit("bench").alias("version"),
        "score",
        "passed",
        "failed",
        "details",
        "tokens",
    ).unionByName(
        stacked.select(
            "doc_id",
            "ingest_date",
            F.lit("stop_words").alias("criterion"),
            F.lit("bench").alias("version"),
            F.least(stop_words, F.lit(1.0)).alias("score"),
            F.lit(True).alias("passed"),
            F.lit(None).cast("array<string>").alias("failed"),
            F.lit(None).cast("map<string,double>").alias("details"),
            "tokens",
        )
    )
    replace_rows(spark, SILVER_QUALITY_SCORES, settings, rows, F.col("ingest_date").isNotNull())
    domains = stacked.join(packages, "doc_id").select(
        "doc_id",
        "ingest_date",
        F.col("package").alias("domain"),
        F.lit(1.0).alias("confidence"),
        F.lit("package").alias("model_version"),
        F.lit("metadata").alias("method"),
    )
    replace_rows(spark, SILVER_DOMAINS, settings, domains, F.col("ingest_date").isNotNull())
    scored.unpersist()
    return spark.read.format("delta").load(SILVER_QUALITY_SCORES.path(settings)).count()


def timed(fn):
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started


def rank_error(spark, settings) -> dict:
    """Rank the same merged frame exactly and approximately; the largest difference."""
    from pyspark.sql import functions as F

    from spark_jobs import sampling
    from spark_jobs.delta_io import read_table
    from thresher.tables import SILVER_DOMAINS, SILVER_QUALITY_SCORES

    scores = read_table(spark, SILVER_QUALITY_SCORES, settings)
    frame, resolved = sampling.criterion_sigmas(scores, CRITERIA, CRITERIA)
    domains = read_table(spark, SILVER_DOMAINS, settings).select("doc_id", "ingest_date", "domain")
    frame = frame.join(domains, ["doc_id", "ingest_date"])
    present = sorted(r["domain"] for r in frame.select("domain").distinct().collect())
    params = sampling.load_params(settings, list(resolved))
    merged = sampling.merged_quality(frame, params, present).persist()
    exact = sampling.exact_rank(merged).select("node", F.col("rank").alias("exact"))
    bins = settings.mixture.rank_bins
    binned = sampling.binned_rank(merged, bins).select("node", F.col("rank").alias("estimate"))
    approx, bound = sampling.approximate_rank(merged, bins)
    approx = approx.select("node", F.col("rank").alias("estimate"))

    def errors(estimate):
        gap = F.abs(F.col("estimate") - F.col("exact"))
        row = (
            estimate.join(exact, "node")
            .agg(F.count("*").alias("rows"), F.max(gap).alias("max"), F.avg(gap).alias("mean"))
            .first()
        )
        return {"rows": row["rows"], "max_rank_error": row["max"], "mean_rank_error": row["mean"]}

    result = {
        "binned": errors(binned),
        "approximate": {**errors(approx), "reported_bound": bound},
        "domains": len(present),
        "bins": bins,
    }
    merged.unpersist()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sampling", description=__doc__)
    parser.add_argument("--limit", type=int, help="score only the first N pages (quick runs)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

    corpus.build("large")
    from pyspark.sql import functions as F

    from spark_jobs import mixture
    from spark_jobs.delta_io import read_table
    from spark_jobs.session import get_spark
    from thresher.tables import SILVER_QUALITY_SCORES

    with tempfile.TemporaryDirectory(dir=corpus.WORK) as home:
        settings = settings_for(Path(home))
        spark = get_spark(settings, "bench-sampling")
        spark.sparkContext.setLogLevel("ERROR")
        rows, load_s = timed(
            lambda: load_scores(spark, settings, corpus.corpus_path("large"), args.limit)
        )
        log.info("scored and stacked %d score rows in %.0f s", rows, load_s)

        def scan():
            table = read_table(spark, SILVER_QUALITY_SCORES, settings)
            return table.agg(F.count("*"), F.sum("tokens")).first()

        _, scan_s = timed(scan)
        summary, sampler_s = timed(lambda: mixture.run(spark, settings))
        documents = summary["mixture.documents"]
        errors, error_s = timed(lambda: rank_error(spark, settings))
        spark.stop()

    result = {
        "corpus": {
            "source": "bench/dedup large corpus (real Debian/LibreOffice/GIMP pages)",
            "pages_scored": rows // (2 * COPIES),
            "dates": COPIES,
            "criteria": list(CRITERIA),
            "domains": "Debian package of the page",
            "score_rows": rows,
            "documents": documents,
            "scoring_s": round(load_s, 1),
        },
        "scan": {"rows": rows, "wall_s": round(scan_s, 2), "rows_per_s": round(rows / scan_s)},
        "sampler": {
            "rows": rows,
            "documents": documents,
            "wall_s": round(sampler_s, 2),
            "rows_per_s": round(rows / sampler_s),
            "documents_per_s": round(documents / sampler_s),
            "selected": summary["mixture.selected"],
            "copies": summary["mixture.copies"],
            "rank_mode": summary["mixture.rank_mode"],
        },
        "rows_per_s": round(rows / sampler_s),
        # the sampler's own mode at this size (binned: exact in two levels) against exact
        "max_rank_error": errors["binned"]["max_rank_error"],
        "rank_error": {**errors, "wall_s": round(error_s, 1)},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("scan", "sampler", "rank_error")}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
