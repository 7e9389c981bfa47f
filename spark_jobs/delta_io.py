"""Creating declared Delta tables and writing one partition of them idempotently."""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import time

from pyspark.sql import Column, DataFrame, Row, SparkSession
from pyspark.sql import functions as F

from thresher.config import Settings
from thresher.tables import ALL_TABLES, TableSpec

log = logging.getLogger(__name__)

CONFLICT_ATTEMPTS = 4


_ENSURED: set[tuple[int, str]] = set()


def last_commit(spark: SparkSession, path: str) -> Row:
    """The Delta table's newest commit (``DESCRIBE HISTORY``, one row): SQL, which a Spark
    Connect session runs as well as a driver's own."""
    return spark.sql(f"DESCRIBE HISTORY {table_identifier(path)} LIMIT 1").first()


def last_version(spark: SparkSession, path: str) -> int:
    """The Delta table's newest version (what a reader reading now would time-travel to)."""
    return int(last_commit(spark, path)["version"])


def is_delta_table(spark: SparkSession, path: str) -> bool:
    from pyspark.errors import AnalysisException

    try:
        last_commit(spark, path)
    except AnalysisException:
        return False
    return True


def unchanged_summary(spark: SparkSession, path: str, fingerprint: str) -> dict | None:
    """The summary a derived table's last commit recorded (``userMetadata``: fingerprint and
    summary) when it was written from the same recipe ``fingerprint``; None when it must be
    rewritten."""
    recorded = commit_metadata(spark, path)
    if recorded.get("fingerprint") != fingerprint:
        return None
    log.info("%s is up to date (%s)", path, fingerprint)
    return {**recorded["summary"], "rewritten": False}


def derived_table(
    spark: SparkSession, spec: TableSpec, settings: Settings, recipe: dict
) -> tuple[str, str, dict | None]:
    """A table rebuilt only when its sources change: its path (created if missing), the
    fingerprint of ``recipe`` (what it is built from, source versions included) and the
    summary its last commit recorded from the same recipe (None: rebuild it)."""
    import hashlib

    fingerprint = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]
    path = ensure_table(spark, spec, settings)
    return path, fingerprint, unchanged_summary(spark, path, fingerprint)


def ensure_table(spark: SparkSession, spec: TableSpec, settings: Settings) -> str:
    """Create the table at its path if it does not exist; return the path."""
    path = spec.path(settings)
    if (id(spark), path) in _ENSURED:  # one check per session and table, not per read
        return path
    spark.sql(create_statement(spec, path))
    _add_declared_columns(spark, spec, path)
    _ENSURED.add((id(spark), path))
    return path


def create_statement(spec: TableSpec, path: str) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for the declared table at ``path``: column types are the
    declaration's (checked by ``thresher.tables``), names quoted, comment and properties SQL
    string literals."""
    columns = ", ".join(
        f"{_identifier(name)} {kind}{'' if nullable else ' NOT NULL'}"
        for name, kind, nullable in spec.columns
    )
    clauses = [f"CREATE TABLE IF NOT EXISTS {table_identifier(path)} ({columns}) USING delta"]
    if spec.partition_by:
        clauses.append(f"PARTITIONED BY ({', '.join(map(_identifier, spec.partition_by))})")
    clauses.append(f"COMMENT {_string(spec.comment)}")
    if spec.all_properties:
        pairs = (f"{_string(k)} = {_string(v)}" for k, v in spec.all_properties.items())
        clauses.append(f"TBLPROPERTIES ({', '.join(pairs)})")
    return " ".join(clauses)


def _identifier(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _add_declared_columns(spark: SparkSession, spec: TableSpec, path: str) -> None:
    """Evolve a table created by an older release: columns declared since (nullable, as a new
    column must be) are added by an empty append with ``mergeSchema``, in one commit."""
    existing = set(spark.read.format("delta").load(path).schema.fieldNames())
    missing = [f for f in spec.schema.fields if f.name not in existing]
    if not missing:
        return
    required = [f.name for f in missing if not f.nullable]
    if required:
        raise ValueError(f"{spec.qualified_name}: new columns must be nullable: {required}")
    log.info("%s: adding columns %s", spec.qualified_name, [f.name for f in missing])
    empty = spark.createDataFrame([], spec.schema)
    empty.write.format("delta").mode("append").option("mergeSchema", "true").save(path)


def ensure_all_tables(spark: SparkSession, settings: Settings) -> list[str]:
    return [ensure_table(spark, spec, settings) for spec in ALL_TABLES]


def read_table(spark: SparkSession, spec: TableSpec, settings: Settings) -> DataFrame:
    ensure_table(spark, spec, settings)
    return spark.read.format("delta").load(spec.path(settings))


def on_partition(partition: dt.date) -> Column:
    """Column filter for one run's partition."""
    return F.col("ingest_date") == F.lit(partition).cast("date")


def rows_where(partition: dt.date | None = None, **equals: object) -> Column:
    """The rows a run owns, as a typed column condition: its ingest date (when given) and
    ``column == value`` for each keyword. Values are literals, never SQL text, so a source
    named ``x' OR '1'='1`` selects the rows of that source and nothing else."""
    clauses = [] if partition is None else [on_partition(partition)]
    clauses += [F.col(column) == F.lit(value) for column, value in sorted(equals.items())]
    if not clauses:
        raise ValueError("rows_where needs a partition or at least one column value")
    condition = clauses[0]
    for clause in clauses[1:]:
        condition = condition & clause
    return condition


def table_identifier(path: str) -> str:
    """``delta.`<path>```: a path-based Delta table as a SQL identifier (backticks doubled)."""
    return "delta." + _identifier(path)


def conform(rows: DataFrame, spec: TableSpec) -> DataFrame:
    """``rows`` as the table's columns, in its order and types; a nullable column the rows
    do not have (one added to the table since their writer was written) is null."""
    present = set(rows.columns)
    return rows.select(
        *[
            (F.col(f.name) if f.name in present or not f.nullable else F.lit(None))
            .cast(f.dataType)
            .alias(f.name)
            for f in spec.schema.fields
        ]
    )


def replace_rows(
    spark: SparkSession,
    spec: TableSpec,
    settings: Settings,
    rows: DataFrame,
    condition: Column,
) -> None:
    """Atomically replace every row matching ``condition`` with ``rows``.

    This is Delta's overwrite by filter (``replaceWhere``), given the condition as a column
    expression rather than SQL text: a retried or re-run task rewrites the rows it owns and
    nothing else, so running a partition twice leaves the same table. ``rows`` must all
    satisfy the condition (Delta checks it and fails the write otherwise).
    """
    if isinstance(condition, str):
        raise TypeError("replace_rows takes a Column condition (rows_where), not SQL text")
    path = ensure_table(spark, spec, settings)
    ordered = conform(rows, spec)
    _commit(spec, lambda: ordered.writeTo(table_identifier(path)).overwrite(condition))


def rebuild_table(
    spark: SparkSession, spec: TableSpec, settings: Settings, rows: DataFrame, metadata: dict
) -> str:
    """Replace the whole table in one commit whose ``userMetadata`` is ``metadata`` (the
    recipe a later run compares against, or replays): what a derived table (a mixture, a
    training corpus, search features) is, rebuilt whole whenever its recipe changes."""
    path = ensure_table(spark, spec, settings)
    writer = (
        conform(rows, spec)
        .write.format("delta")
        .mode("overwrite")
        .option("userMetadata", json.dumps(metadata, sort_keys=True, default=str))
    )
    _commit(spec, lambda: writer.save(path))
    return path


def commit_metadata(spark: SparkSession, path: str) -> dict:
    """The ``userMetadata`` of the table's last commit (what ``rebuild_table`` recorded)."""
    return json.loads(last_commit(spark, path)["userMetadata"] or "{}")


def _commit(spec: TableSpec, write) -> None:
    for attempt in range(1, CONFLICT_ATTEMPTS + 1):
        try:
            write()
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
