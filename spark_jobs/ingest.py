"""Ingest: raw files under a path → ``bronze.documents`` + ``quarantine`` for one partition.

Reads HTML/XHTML pages, Mallard help pages (``.page``), JSONL (optionally gzipped), WARC
(optionally gzipped) and Parquet. The driver lists the input (``thresher.text.input_files``:
every file counted, links never followed); Python workers stream each file's records with
bounded memory (``thresher.text.input_records``) and ``thresher.text.extract.process``
decides whether each is kept, dropped by policy or quarantined — per record, so one bad
record never sinks a run. The run owns the rows of its ``(ingest_date, source)`` and
replaces them atomically in each table, stamping one ``batch_id`` (a fingerprint of the input
files and the ingest settings) on all three, so that the statistics task can tell an ingest
cut short between two commits; a re-run converges, and re-running the same input leaves the
tables identical.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pandas as pd
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from spark_jobs.delta_io import replace_rows, rows_where
from spark_jobs.session import task_slots
from spark_jobs.stage_stats import write_stage_counts
from thresher import names
from thresher.accounting import ReconciliationError, StageCounts
from thresher.config import Settings
from thresher.tables import BRONZE_DOCUMENTS, QUARANTINE
from thresher.text import extract
from thresher.text.input_files import InputFile, InputNotFound, list_input_files
from thresher.text.input_records import Limits, Refused, file_records

log = logging.getLogger(__name__)

STAGE = "ingest"
LISTING_SCHEMA = (
    "location string, path binary, size long, source_format string, "
    "disposition string, reason string, detail string, mtime_ns long"
)
OUTCOME_SCHEMA = (
    "disposition string, reason string, detail string, doc_id string, url string, "
    "location string, source_format string, title string, text string, "
    "content_sha256 string, language string, language_score double, n_chars int, "
    "n_bytes long, extractor string, raw_excerpt string, file string"
)
# A Python worker hands Spark at most this much text at a time (and at most 256 rows).
OUTPUT_BATCH_BYTES = 32 << 20
OUTPUT_BATCH_ROWS = 256


class IngestError(RuntimeError):
    """The input as a whole cannot be ingested (a missing path, an invalid name, ...)."""


def _frame(rows: list[dict], schema: str) -> pd.DataFrame:
    """Rows as a pandas frame of Python objects: a missing value stays None, never NaN
    (Arrow will not turn a NaN into a null string)."""
    columns = [column.split()[0] for column in schema.split(", ")]
    return pd.DataFrame({c: pd.Series([r.get(c) for r in rows], dtype=object) for c in columns})


def _clean(value: str | None) -> str | None:
    """Text Arrow can carry: a lone surrogate from a file name or an error message becomes
    U+FFFD instead of failing the whole batch."""
    if value is None:
        return None
    return value.encode("utf-8", errors="surrogatepass").decode("utf-8", errors="replace")


def list_files(input_path: str) -> list[InputFile]:
    try:
        return list_input_files(input_path)
    except InputNotFound as exc:
        raise IngestError(str(exc)) from None


def _outcome_row(item: extract.RawRecord | Refused, policy: extract.Policy, file: str) -> dict:
    if isinstance(item, Refused):
        quarantined = item.disposition == "quarantined"
        return {
            "disposition": item.disposition,
            "reason": item.reason,
            "detail": _clean(item.detail),
            "location": item.location,
            "n_bytes": item.n_bytes,
            "raw_excerpt": extract.excerpt(item.excerpt) if quarantined else None,
            "file": file,
        }
    outcome = asdict(extract.process(item, policy))
    kept = outcome["disposition"] == "kept"
    outcome.update(
        detail=_clean(outcome["detail"]),
        location=item.location,
        source_format=item.source_format,
        n_bytes=len(item.payload),
        raw_excerpt=None if kept else extract.excerpt(item.payload),
        file=file,
    )
    return outcome


def read_files(source: str, policy: extract.Policy, limits: Limits):
    """mapInPandas function: listed files (``LISTING_SCHEMA``) → one outcome per record."""

    def read(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        rows: list[dict] = []
        held = 0
        for batch in batches:
            for listed in batch.to_dict("records"):
                numbers = {k: int(listed[k]) for k in ("size", "mtime_ns")}
                file = InputFile(**{**listed, **numbers, "path": bytes(listed["path"])})
                for item in file_records(source, file, limits):
                    row = _outcome_row(item, policy, file.location)
                    rows.append(row)
                    held += len(row.get("text") or "") + len(row.get("raw_excerpt") or "")
                    if len(rows) >= OUTPUT_BATCH_ROWS or held >= OUTPUT_BATCH_BYTES:
                        yield _frame(rows, OUTCOME_SCHEMA)
                        rows, held = [], 0
        if rows:
            yield _frame(rows, OUTCOME_SCHEMA)

    return read


def mark_duplicate_records(outcomes: DataFrame) -> DataFrame:
    """Keep one of several records with the same doc_id (same source, address and text)."""
    first = Window.partitionBy(F.coalesce("doc_id", "location")).orderBy("location")
    duplicate = (F.col("disposition") == "kept") & (F.row_number().over(first) > 1)
    return (
        outcomes.withColumn("_duplicate", duplicate)
        .withColumn(
            "disposition", F.when(F.col("_duplicate"), "dropped").otherwise(F.col("disposition"))
        )
        .withColumn(
            "reason",
            F.when(F.col("_duplicate"), extract.DUPLICATE_RECORD).otherwise(F.col("reason")),
        )
        .drop("_duplicate")
    )


def ingest_outcomes(
    spark: SparkSession, settings: Settings, files: list[InputFile], source: str
) -> DataFrame:
    """Every record of the listed ``files`` with its disposition. Lazy; nothing is written."""
    policy = extract.Policy(
        languages=frozenset(settings.languages),
        max_record_bytes=settings.ingest.max_record_bytes,
        min_text_chars=settings.ingest.min_text_chars,
        max_text_chars=settings.ingest.max_text_chars,
        min_language_score=settings.ingest.min_language_score,
        html_extractor=settings.ingest.html_extractor,
    )
    limits = Limits(settings.ingest.max_record_bytes, settings.ingest.max_file_bytes)
    listing = spark.createDataFrame(
        _frame([asdict(f) for f in files], LISTING_SCHEMA), LISTING_SCHEMA
    )
    # Spread the per-document Python work evenly, whatever the files' sizes and layout.
    partitions = max(1, min(len(files), max(task_slots(spark) * 4, 8)))
    outcomes = listing.repartition(partitions).mapInPandas(
        read_files(source, policy, limits), OUTCOME_SCHEMA
    )
    return mark_duplicate_records(outcomes)


def default_source(input_path: str) -> str:
    """The input folder's name as a source label ("crawl [v2]" → "crawl_v2_")."""
    return names.source_from_folder(Path(input_path.rstrip("/")).name)


def batch_fingerprint(
    settings: Settings, partition: dt.date, source: str, files: list[InputFile]
) -> str:
    """What determines an ingest's rows: the date, the source, the ingest settings and
    languages, and each file's location, size and modification time."""
    digest = hashlib.sha256()
    recipe = {
        "partition": partition.isoformat(),
        "source": source,
        "ingest": asdict(settings.ingest),
        "languages": sorted(settings.languages),
    }
    digest.update(json.dumps(recipe, sort_keys=True).encode())
    for file in files:
        digest.update(f"\x00{file.location}\x00{file.size}\x00{file.mtime_ns}".encode())
    return digest.hexdigest()[:32]


def _check_every_file_read(outcomes: DataFrame, files: list[InputFile]) -> None:
    """The input side of the accounting: each listed file must account for ≥ 1 entry."""
    seen = {row["file"] for row in outcomes.select("file").distinct().collect()}
    missing = sorted({f.location for f in files} - seen)
    if missing:
        raise ReconciliationError(
            f"stage 'ingest': {len(missing)} listed files produced no entry: {missing[:5]}"
        )


def run(
    spark: SparkSession,
    settings: Settings,
    partition: dt.date,
    input_path: str,
    source: str | None = None,
) -> StageCounts:
    """Ingest ``input_path`` into the ``partition`` of bronze and quarantine; return the counts."""
    try:
        names.input_path(input_path)
        source = names.source_name(source) if source else default_source(input_path)
    except names.InvalidName as exc:
        raise IngestError(str(exc)) from None
    log.info("ingest %s: reading %s as source %r", partition, input_path, source)
    files = list_files(input_path)
    if not files:
        raise IngestError(f"no files under {input_path}")
    batch_id = batch_fingerprint(settings, partition, source, files)
    outcomes = ingest_outcomes(spark, settings, files, source).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        _check_every_file_read(outcomes, files)
        tally = outcomes.groupBy("disposition", "reason").count().collect()
        counts = StageCounts.from_rows(
            STAGE,
            [("in", "", row["count"]) for row in tally]
            + [(row["disposition"], row["reason"] or "", row["count"]) for row in tally],
        ).check()
        log.info(
            "ingest %s: %d files, %d records, %d kept",
            partition,
            len(files),
            counts.records_in,
            counts.kept,
        )

        date, name, stamp = F.lit(partition).cast("date"), F.lit(source), F.lit(batch_id)
        docs = outcomes.where(F.col("disposition") == "kept").select(
            "*", date.alias("ingest_date"), name.alias("source"), stamp.alias("batch_id")
        )
        owned = rows_where(partition, source=source)
        replace_rows(spark, BRONZE_DOCUMENTS, settings, docs, owned)
        refused = outcomes.where(F.col("disposition") == "quarantined").select(
            F.sha2(F.concat_ws("\x00", F.lit(STAGE), name, "location", "reason"), 256).alias(
                "quarantine_id"
            ),
            date.alias("ingest_date"),
            F.lit(STAGE).alias("stage"),
            name.alias("source"),
            "location",
            "reason",
            "detail",
            "raw_excerpt",
            "n_bytes",
            stamp.alias("batch_id"),
        )
        replace_rows(
            spark, QUARANTINE, settings, refused, rows_where(partition, stage=STAGE, source=source)
        )
        write_stage_counts(spark, settings, partition, source, counts, batch_id=batch_id)
    finally:
        outcomes.unpersist()
    return counts
