"""Creating declared Delta tables and writing one partition of them idempotently."""

from __future__ import annotations

import datetime as dt
import logging
import random
import time

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from thresher.config import Settings
from thresher.tables import ALL_TABLES, TableSpec

log = logging.getLogger(__name__)

CONFLICT_ATTEMPTS = 4


_ENSURED: set[tuple[int, str]] = set()


def last_version(spark: SparkSession, path: str) -> int:
    """The Delta table's newest version (what a reader reading now would time-travel to)."""
    from delta.tables import DeltaTable

    return int(DeltaTable.forPath(spark, path).history(1).select("version").first()["version"])


def unchanged_summary(spark: SparkSession, path: str, fingerprint: str) -> dict | None:
    """The summary a derived table's last commit recorded (``userMetadata``: fingerprint and
    summary) when it was written from the same recipe ``fingerprint``; None when it must be
    rewritten."""
    import json

    from delta.tables import DeltaTable

    last = DeltaTable.forPath(spark, path).history(1).first()
    recorded = json.loads(last["userMetadata"] or "{}")
    if recorded.get("fingerprint") != fingerprint:
        return None
    log.info("%s is up to date (%s)", path, fingerprint)
    return {**recorded["summary"], "rewritten": False}


def ensure_table(spark: SparkSession, spec: TableSpec, settings: Settings) -> str:
    """Create the table at its path if it does not exist; return the path."""
    from delta.tables import DeltaTable

    path = spec.path(settings)
    if (id(spark), path) in _ENSURED:  # one check per session and table, not per read
        return path
    builder = (
        DeltaTable.createIfNotExists(spark)
        .location(path)
        .addColumns(spec.schema)
        .comment(spec.comment)
    )
    if spec.partition_by:
        builder = builder.partitionedBy(*spec.partition_by)
    for key, value in spec.all_properties.items():
        builder = builder.property(key, value)
    builder.execute()
    _ENSURED.add((id(spark), path))
    return path


def ensure_all_tables(spark: SparkSession, settings: Settings) -> list[str]:
    return [ensure_table(spark, spec, settings) for spec in ALL_TABLES]


def read_table(spark: SparkSession, spec: TableSpec, settings: Settings) -> DataFrame:
    ensure_table(spark, spec, settings)
    return spark.read.format("delta").load(spec.path(settings))


def on_partition(partition: dt.date) -> Column:
    """Column filter for one run's partition (the DataFrame twin of ``partition_predicate``)."""
    return F.col("ingest_date") == F.lit(partition).cast("date")


def partition_predicate(partition: dt.date, **equals: str) -> str:
    """SQL predicate selecting one run's rows: its ingest date plus optional column values."""
    clauses = [f"ingest_date = DATE'{partition.isoformat()}'"]
    clauses += [f"{column} = '{value}'" for column, value in sorted(equals.items())]
    return " AND ".join(clauses)


def replace_rows(
    spark: SparkSession,
    spec: TableSpec,
    settings: Settings,
    rows: DataFrame,
    predicate: str,
) -> None:
    """Atomically replace every row matching ``predicate`` with ``rows``.

    This is Delta's ``replaceWhere``: a retried or re-run task rewrites the rows it owns and
    nothing else, so running a partition twice leaves the same table. ``rows`` must all
    satisfy the predicate (Delta checks it and fails the write otherwise).
    """
    path = ensure_table(spark, spec, settings)
    ordered = rows.select(*[F.col(f.name).cast(f.dataType) for f in spec.schema.fields])
    writer = ordered.write.format("delta").mode("overwrite").option("replaceWhere", predicate)
    for attempt in range(1, CONFLICT_ATTEMPTS + 1):
        try:
            writer.save(path)
            return
        except Exception as exc:
            # Replacing the same rows again is safe, so a write that lost a race with a
            # concurrent commit to the same partition (two sources ingested on one date)
            # simply tries again.
            if "DELTA_CONCURRENT" not in str(exc) or attempt == CONFLICT_ATTEMPTS:
                raise
            log.warning(
                "%s: concurrent commit, retrying (%d/%d)",
                spec.qualified_name,
                attempt,
                CONFLICT_ATTEMPTS,
            )
            time.sleep(random.uniform(1, 2**attempt))
