"""Thresher: ``spark_jobs.dedup.run`` on local[2], the corpus loaded into bronze beforehand.

Setup (not timed): start Spark, write the corpus as one ``bronze.documents`` partition.
Timed: the dedup stage over that partition, then reading its ``silver.dedup`` decisions (the
duplicates and the representatives they name).
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from bench.dedup.systems import NUM_PERM, SEED, THRESHOLD, SystemRun

PARTITION = dt.date(2024, 1, 1)


def settings_for(work: Path):
    from thresher.config import DedupSettings, Settings, SparkSettings

    spark = SparkSettings(
        master="local[2]",
        shuffle_partitions=8,
        driver_memory="4g",
        conf={
            "spark.ui.enabled": "false",
            "spark.sql.sources.parallelPartitionDiscovery.parallelism": "2",
        },
    )
    dedup = DedupSettings(threshold=THRESHOLD, num_perm=NUM_PERM, shingle_words=5, seed=SEED)
    return Settings(home=work / "home", spark=spark, dedup=dedup)


def load_bronze(spark, settings, corpus: Path) -> int:
    """Write the corpus as the bronze partition ``PARTITION`` (sensible values for the rest)."""
    from pyspark.sql import functions as F

    from spark_jobs.delta_io import replace_rows, rows_where
    from thresher.tables import BRONZE_DOCUMENTS

    docs = spark.read.parquet(str(corpus)).select(
        "doc_id",
        F.lit(PARTITION).cast("date").alias("ingest_date"),
        F.lit("bench").alias("source"),
        "url",
        F.col("url").alias("location"),
        F.when(F.col("url").endswith(".page"), "mallard").otherwise("html").alias("source_format"),
        F.lit(None).cast("string").alias("title"),
        "text",
        F.sha2("text", 256).alias("content_sha256"),
        "language",
        F.lit(1.0).alias("language_score"),
        F.length("text").alias("n_chars"),
        F.octet_length("text").cast("long").alias("n_bytes"),
        F.lit("bench").alias("extractor"),
    )
    replace_rows(spark, BRONZE_DOCUMENTS, settings, docs, rows_where(PARTITION))
    return docs.count()


def run(corpus: Path, work: Path) -> SystemRun:
    from pyspark.sql import functions as F

    from spark_jobs import dedup
    from spark_jobs.delta_io import on_partition, read_table
    from spark_jobs.session import get_spark
    from thresher.tables import SILVER_DEDUP

    settings = settings_for(work)
    begun = time.perf_counter()
    spark = get_spark(settings, "bench-dedup")
    startup_s = time.perf_counter() - begun
    docs = load_bronze(spark, settings, corpus)
    setup_s = time.perf_counter() - begun - startup_s

    started = time.perf_counter()
    counts, _ = dedup.run(spark, settings, PARTITION)
    decisions = read_table(spark, SILVER_DEDUP, settings).where(on_partition(PARTITION))
    # every duplicate and the representative it names (its cluster's id, a doc_id here)
    duplicates = decisions.where(F.col("duplicate_of").isNotNull()).select("doc_id", "cluster_id")
    flagged = {doc for row in duplicates.collect() for doc in row}
    wall_s = time.perf_counter() - started
    spark.stop()
    return SystemRun(
        flagged=flagged,
        docs=docs,
        wall_s=wall_s,
        processes=3,  # the driver's JVM and two Python workers (local[2])
        notes="spark_jobs.dedup.run on local[2]; bands from thresher.minhash.lsh_parameters; "
        "candidates verified by exact Jaccard of 32-bit shingle hashes",
        extra={
            "startup_s": round(startup_s, 2),
            "setup_s": round(setup_s, 2),
            "stage_counts": {"in": counts.records_in, "kept": counts.kept},
        },
    )
