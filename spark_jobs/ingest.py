"""Ingest: raw files under a path → ``bronze.documents`` + ``quarantine`` for one partition.

Reads HTML/XHTML pages, Mallard help pages (``.page``), JSONL (optionally gzipped), WARC
(optionally gzipped) and Parquet. Each input document becomes a raw record, and
``spark_jobs.extract.process`` decides whether it is kept, dropped by policy or quarantined.
The run owns the rows of its ``(ingest_date, source)`` and replaces them atomically, so a
retry or a re-run leaves the same tables.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import logging
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pandas as pd
from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from spark_jobs import extract
from spark_jobs.delta_io import partition_predicate, replace_rows
from spark_jobs.stage_stats import write_stage_counts
from thresher.accounting import StageCounts
from thresher.config import Settings
from thresher.tables import BRONZE_DOCUMENTS, QUARANTINE

log = logging.getLogger(__name__)

STAGE = "ingest"
FILE_GLOB = "*.{html,htm,xhtml,page,jsonl,jsonl.gz,warc,warc.gz}"
SUFFIX_FORMATS = (
    (".jsonl.gz", "jsonl"),
    (".jsonl", "jsonl"),
    (".warc.gz", "warc"),
    (".warc", "warc"),
    (".page", "mallard"),
    (".xhtml", "html"),
    (".html", "html"),
    (".htm", "html"),
)

RAW_SCHEMA = (
    "source_format string, location string, url string, title string, payload binary, "
    "n_bytes long, reject_reason string, reject_detail string"
)
OUTCOME_SCHEMA = (
    "disposition string, reason string, detail string, doc_id string, url string, "
    "location string, source_format string, title string, text string, "
    "content_sha256 string, language string, language_score double, n_chars int, "
    "n_bytes long, extractor string, raw_excerpt string"
)


def _frame(rows: list[dict], schema: str) -> pd.DataFrame:
    """Rows as a pandas frame of Python objects: a missing value stays None, never NaN
    (Arrow will not turn a NaN into a null string)."""
    columns = [column.split()[0] for column in schema.split(", ")]
    return pd.DataFrame({c: pd.Series([r.get(c) for r in rows], dtype=object) for c in columns})


class IngestError(RuntimeError):
    """The input as a whole cannot be ingested (missing path, wrong Parquet schema, ...)."""


def qualified_root(spark: SparkSession, input_path: str) -> str:
    """The input path as Spark spells file paths (``file:/...``), to make locations relative."""
    jvm_path = spark._jvm.org.apache.hadoop.fs.Path(input_path)
    fs = jvm_path.getFileSystem(spark._jsc.hadoopConfiguration())
    if not fs.exists(jvm_path):
        raise IngestError(f"input path does not exist: {input_path}")
    return fs.makeQualified(jvm_path).toString().rstrip("/")


def _split_container(fmt: str, location: str, content: bytes) -> Iterator[dict]:
    """One raw record per JSONL line or per WARC HTML response."""
    if fmt == "jsonl":
        data = gzip.decompress(content) if location.endswith(".gz") else content
        for number, line in enumerate(data.split(b"\n"), start=1):
            if line.strip():
                yield {"location": f"{location}#L{number}", "payload": line.rstrip(b"\r")}
        return
    from warcio.archiveiterator import ArchiveIterator

    for record in ArchiveIterator(io.BytesIO(content)):
        if record.rec_type != "response" or record.http_headers is None:
            continue
        content_type = record.http_headers.get_header("Content-Type") or ""
        if "html" not in content_type.lower():
            continue  # images, scripts, PDFs: not text documents
        yield {
            "location": f"{location}#{record.rec_headers.get_header('WARC-Record-ID')}",
            "url": record.rec_headers.get_header("WARC-Target-URI"),
            "payload": record.content_stream().read(),
        }


def expand_files(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """mapInPandas function: files (source_format, location, content) → raw records."""
    for batch in batches:
        rows = []
        files = zip(batch["source_format"], batch["location"], batch["content"], strict=True)
        for fmt, location, content in files:
            base = {"source_format": fmt, "location": location, "url": None, "title": None}
            if fmt in ("html", "mallard"):
                rows.append({**base, "payload": content, "n_bytes": len(content)})
                continue
            try:
                for part in _split_container(fmt, location, content):
                    rows.append({**base, **part, "n_bytes": len(part["payload"])})
            except Exception as exc:  # corrupt gzip, truncated WARC, ...
                rows.append(
                    {
                        **base,
                        "payload": content[: extract.EXCERPT_BYTES],
                        "n_bytes": len(content),
                        "reject_reason": extract.UNREADABLE_FILE,
                        "reject_detail": f"{type(exc).__name__}: {exc}"[:500],
                    }
                )
        yield _frame(rows, RAW_SCHEMA)


def _format_column(path: Column) -> Column:
    lower, fmt = F.lower(path), F.lit(None).cast("string")
    for suffix, name in reversed(SUFFIX_FORMATS):
        fmt = F.when(lower.endswith(suffix), F.lit(name)).otherwise(fmt)
    return fmt


def _location_column(path: Column, root: str) -> Column:
    """The path below the input root (the file name when the input is a single file)."""
    inside = path.startswith(root + "/")
    return F.when(inside, F.substring(path, len(root) + 2, 1 << 20)).otherwise(
        F.regexp_extract(path, "[^/]+$", 0)
    )


def read_file_records(spark: SparkSession, input_path: str, settings: Settings) -> DataFrame:
    root = qualified_root(spark, input_path)
    files = (
        spark.read.format("binaryFile")
        .option("recursiveFileLookup", "true")
        .option("pathGlobFilter", FILE_GLOB)
        .load(input_path)
    )
    limit = settings.ingest.max_file_bytes
    # Files over the limit are refused by their length alone; their content is never read.
    oversize = files.where(F.col("length") > limit).select(
        _format_column(F.col("path")).alias("source_format"),
        _location_column(F.col("path"), root).alias("location"),
        F.lit(None).cast("string").alias("url"),
        F.lit(None).cast("string").alias("title"),
        F.lit(b"").cast("binary").alias("payload"),
        F.col("length").alias("n_bytes"),
        F.lit(extract.OVERSIZE).alias("reject_reason"),
        F.concat(F.col("length").cast("string"), F.lit(f" bytes > max_file_bytes {limit}")).alias(
            "reject_detail"
        ),
    )
    # Spread the per-document Python work evenly, whatever the files' sizes and layout.
    partitions = max(spark.sparkContext.defaultParallelism * 4, 8)
    records = (
        files.where(F.col("length") <= limit)
        .select(
            _format_column(F.col("path")).alias("source_format"),
            _location_column(F.col("path"), root).alias("location"),
            "content",
        )
        .repartition(partitions, "location")
        .mapInPandas(expand_files, RAW_SCHEMA)
    )
    return records.unionByName(oversize)


def read_parquet_records(spark: SparkSession, input_path: str) -> DataFrame | None:
    """Parquet rows with a ``text`` column (optional ``url``/``id``, ``title``) as raw records."""
    from pyspark.errors import AnalysisException

    root = qualified_root(spark, input_path)
    try:
        rows = (
            spark.read.option("recursiveFileLookup", "true")
            .option("pathGlobFilter", "*.parquet")
            .parquet(input_path)
        )
    except AnalysisException as exc:
        if "UNABLE_TO_INFER_SCHEMA" in str(exc) or "PATH_NOT_FOUND" in str(exc):
            return None  # no Parquet files under the path
        raise
    if "text" not in rows.columns:
        raise IngestError(
            f"Parquet input under {input_path} has no 'text' column (columns: {rows.columns})"
        )
    url_columns = [F.col(c).cast("string") for c in ("url", "id") if c in rows.columns]
    url = F.coalesce(*url_columns) if url_columns else F.lit(None).cast("string")
    title = F.col("title").cast("string") if "title" in rows.columns else F.lit(None)
    text = F.col("text").cast("string")
    # A row's location is its file plus its url/id when it has one, so each refused row
    # gets its own quarantine id.
    file_location = _location_column(F.input_file_name(), root)
    return rows.select(
        F.lit("parquet").alias("source_format"),
        F.when(url.isNull(), file_location)
        .otherwise(F.concat(file_location, F.lit("#"), url))
        .alias("location"),
        url.alias("url"),
        title.cast("string").alias("title"),
        F.coalesce(F.encode(text, "UTF-8"), F.lit(b"").cast("binary")).alias("payload"),
        F.coalesce(F.octet_length(text), F.lit(0)).cast("long").alias("n_bytes"),
        F.when(text.isNull(), F.lit(extract.MISSING_TEXT_FIELD)).alias("reject_reason"),
        F.when(text.isNull(), F.lit("null 'text' value")).alias("reject_detail"),
    )


def process_records(source: str, policy: extract.Policy):
    """mapInPandas function: raw records → outcomes (see ``OUTCOME_SCHEMA``)."""

    def process(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            rows = []
            for raw in batch.to_dict("records"):
                payload = bytes(raw["payload"] or b"")
                record = extract.RawRecord(
                    source=source,
                    source_format=raw["source_format"],
                    location=raw["location"],
                    payload=payload,
                    url=raw["url"],
                    title=raw["title"],
                    reject_reason=raw["reject_reason"],
                    reject_detail=raw["reject_detail"],
                )
                outcome = asdict(extract.process(record, policy))
                outcome.update(
                    location=record.location,
                    source_format=record.source_format,
                    n_bytes=raw["n_bytes"],
                    raw_excerpt=None
                    if outcome["disposition"] == "kept"
                    else extract.excerpt(payload),
                )
                rows.append(outcome)
            yield _frame(rows, OUTCOME_SCHEMA)

    return process


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
    spark: SparkSession, settings: Settings, input_path: str, source: str
) -> DataFrame:
    """Every raw record under ``input_path`` with its disposition. Lazy; nothing is written."""
    raw = read_file_records(spark, input_path, settings)
    parquet = read_parquet_records(spark, input_path)
    if parquet is not None:
        raw = raw.unionByName(parquet)
    policy = extract.Policy(
        languages=frozenset(settings.languages),
        max_record_bytes=settings.ingest.max_record_bytes,
        min_text_chars=settings.ingest.min_text_chars,
        max_text_chars=settings.ingest.max_text_chars,
        min_language_score=settings.ingest.min_language_score,
    )
    return mark_duplicate_records(raw.mapInPandas(process_records(source, policy), OUTCOME_SCHEMA))


def default_source(input_path: str) -> str:
    return Path(input_path.rstrip("/")).name or "input"


def run(
    spark: SparkSession,
    settings: Settings,
    partition: dt.date,
    input_path: str,
    source: str | None = None,
) -> StageCounts:
    """Ingest ``input_path`` into the ``partition`` of bronze and quarantine; return the counts."""
    source = source or default_source(input_path)
    log.info("ingest %s: reading %s as source %r", partition, input_path, source)
    # Small Arrow batches: one batch holds whole pages, and HTML pages can be large.
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "256")
    # Web pages are small files: pack many into one scan task (the 4 MB default cost of
    # opening a file made 600+ scan tasks for 20k pages).
    spark.conf.set("spark.sql.files.openCostInBytes", str(256 * 1024))
    outcomes = ingest_outcomes(spark, settings, input_path, source).persist(
        StorageLevel.MEMORY_AND_DISK
    )
    try:
        tally = outcomes.groupBy("disposition", "reason").count().collect()
        counts = StageCounts.from_rows(
            STAGE,
            [("in", "", row["count"]) for row in tally]
            + [(row["disposition"], row["reason"] or "", row["count"]) for row in tally],
        ).check()
        log.info("ingest %s: %d records, %d kept", partition, counts.records_in, counts.kept)

        date, name = F.lit(partition).cast("date"), F.lit(source)
        docs = outcomes.where(F.col("disposition") == "kept").select(
            "*", date.alias("ingest_date"), name.alias("source")
        )
        replace_rows(
            spark, BRONZE_DOCUMENTS, settings, docs, partition_predicate(partition, source=source)
        )
        refused = outcomes.where(F.col("disposition") == "quarantined").select(
            F.sha2(F.concat_ws("\x00", F.lit(STAGE), "location", "reason"), 256).alias(
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
        )
        replace_rows(
            spark,
            QUARANTINE,
            settings,
            refused,
            partition_predicate(partition, stage=STAGE, source=source),
        )
        write_stage_counts(spark, settings, partition, source, counts)
    finally:
        outcomes.unpersist()
    return counts
