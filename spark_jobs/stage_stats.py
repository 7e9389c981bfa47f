"""Statistics of one partition across stages: record accounting, bronze composition, quarantine."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from spark_jobs.delta_io import on_partition, read_table, replace_rows, rows_where
from thresher.accounting import ReconciliationError, StageCounts
from thresher.config import Settings
from thresher.tables import BRONZE_DOCUMENTS, QUARANTINE, STAGE_COUNTS

ALL_SOURCES = "*"


def write_stage_counts(
    spark: SparkSession,
    settings: Settings,
    partition: dt.date,
    source: str,
    counts: StageCounts,
    batch_id: str | None = None,
) -> None:
    """Replace the partition's accounting rows for ``counts.stage`` and ``source``."""
    rows = [(partition, counts.stage, source, c, r, n, batch_id) for c, r, n in counts.rows()]
    frame = spark.createDataFrame(rows, STAGE_COUNTS.schema)
    replace_rows(
        spark,
        STAGE_COUNTS,
        settings,
        frame,
        rows_where(partition, stage=counts.stage, source=source),
    )


def stage_counts(spark: SparkSession, settings: Settings, partition: dt.date) -> list[StageCounts]:
    """The partition's accounting per (stage, source); raises if any stage does not reconcile."""
    rows = read_table(spark, STAGE_COUNTS, settings).where(on_partition(partition)).collect()
    grouped: dict[tuple[str, str], list] = defaultdict(list)
    for row in rows:
        grouped[(row["stage"], row["source"])].append(
            (row["category"], row["reason"], row["records"])
        )
    return [
        StageCounts.from_rows(f"{stage}[{source}]", items).check()
        for (stage, source), items in sorted(grouped.items())
    ]


def partition_statistics(spark: SparkSession, settings: Settings, partition: dt.date) -> dict:
    on_date = on_partition(partition)
    bronze = read_table(spark, BRONZE_DOCUMENTS, settings).where(on_date)
    by_language = bronze.groupBy("language").agg(
        F.count("*").alias("documents"), F.sum("n_chars").alias("characters")
    )
    languages = {r["language"]: (r["documents"], r["characters"]) for r in by_language.collect()}
    formats = {r[0]: r[1] for r in bronze.groupBy("source_format").count().collect()}
    quarantine = read_table(spark, QUARANTINE, settings).where(on_date)
    reasons = {r[0]: r[1] for r in quarantine.groupBy("reason").count().collect()}
    stages = stage_counts(spark, settings, partition)
    check_ingest_tables(spark, settings, partition)
    return {
        "partition": partition.isoformat(),
        "stages": {
            s.stage: {
                "in": s.records_in,
                "kept": s.kept,
                "dropped": dict(s.dropped),
                "quarantined": dict(s.quarantined),
            }
            for s in stages
        },
        "bronze": {
            "documents": sum(d for d, _ in languages.values()),
            "characters": sum(c for _, c in languages.values()),
            "languages": {k: v[0] for k, v in sorted(languages.items())},
            "formats": dict(sorted(formats.items())),
        },
        "quarantine": dict(sorted(reasons.items())),
    }


def statistics_metrics(stats: dict) -> dict[str, float]:
    bronze = stats["bronze"]
    metrics = {
        "bronze.documents": bronze["documents"],
        "bronze.characters": bronze["characters"],
        "bronze.languages": len(bronze["languages"]),
        "quarantine.records": sum(stats["quarantine"].values()),
    }
    metrics |= {f"bronze.language.{k}": v for k, v in bronze["languages"].items()}
    metrics |= {f"bronze.format.{k}": v for k, v in bronze["formats"].items()}
    return {k: float(v) for k, v in metrics.items()}


def check_ingest_tables(spark: SparkSession, settings: Settings, partition: dt.date) -> None:
    """Each source's bronze and quarantine rows must be the ones its stage counts describe:
    as many, and written by the same ingest run. An ingest killed between its three commits
    fails here, naming the source to ingest again (a re-run replaces all three)."""
    on_date = on_partition(partition)
    counts = read_table(spark, STAGE_COUNTS, settings).where(on_date & (F.col("stage") == "ingest"))
    expected: dict[str, dict] = defaultdict(lambda: {"kept": 0, "quarantined": 0, "runs": set()})
    for row in counts.collect():
        entry = expected[row["source"]]
        entry["runs"].add(row["batch_id"])
        if row["category"] in ("kept", "quarantined"):
            entry[row["category"]] += row["records"]
    found: dict[str, dict] = defaultdict(lambda: {"kept": 0, "quarantined": 0, "runs": set()})
    bronze = read_table(spark, BRONZE_DOCUMENTS, settings).where(on_date)
    quarantine = read_table(spark, QUARANTINE, settings).where(
        on_date & (F.col("stage") == "ingest")
    )
    for category, frame in (("kept", bronze), ("quarantined", quarantine)):
        for row in frame.groupBy("source", "batch_id").count().collect():
            found[row["source"]][category] += row["count"]
            found[row["source"]]["runs"].add(row["batch_id"])
    problems = []
    for source in sorted(set(expected) | set(found)):
        want, got = expected[source], found[source]
        if source not in expected:
            problems.append(f"source {source!r} has rows but no stage counts")
            continue
        for category in ("kept", "quarantined"):
            if want[category] != got[category]:
                problems.append(
                    f"source {source!r}: counts say {want[category]} {category}, "
                    f"the table holds {got[category]}"
                )
        if got["runs"] and not got["runs"] <= want["runs"]:
            problems.append(
                f"source {source!r}: tables written by another ingest batch than its counts"
            )
    if problems:
        raise ReconciliationError(
            f"partition {partition}: ingest tables disagree with ops.stage_counts ("
            + "; ".join(problems)
            + "); an ingest was cut short: run it again for these sources"
        )
