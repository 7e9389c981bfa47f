"""Every Delta table of the lake, declared once: name, schema, keys, partitioning, properties.

Tables live at ``<storage_root>/<layer>/<name>``: ``bronze`` holds raw documents as
ingested, ``silver`` cleaned and annotated ones, ``gold`` selected mixtures, ``ops`` the
pipeline's own bookkeeping, and ``quarantine`` every malformed record with its reason.
A DAG run owns exactly one ``ingest_date`` partition of each table it writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DateType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
)

from thresher.config import Settings

LAYERS = ("bronze", "silver", "gold", "ops", "quarantine")


@dataclass(frozen=True)
class TableSpec:
    layer: str
    name: str
    schema: StructType
    keys: tuple[str, ...]
    partition_by: tuple[str, ...]
    comment: str
    properties: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.layer not in LAYERS:
            raise ValueError(f"unknown layer {self.layer!r}; expected one of {LAYERS}")
        columns = set(self.schema.fieldNames())
        missing = (set(self.keys) | set(self.partition_by)) - columns
        if missing:
            raise ValueError(f"{self.qualified_name}: keys/partitions not in schema: {missing}")

    @property
    def qualified_name(self) -> str:
        return self.name if self.layer == self.name else f"{self.layer}.{self.name}"

    def path(self, settings: Settings) -> str:
        root = settings.storage_root.rstrip("/")
        return (
            f"{root}/{self.layer}"
            if self.layer == self.name
            else f"{root}/{self.layer}/{self.name}"
        )

    @property
    def all_properties(self) -> dict[str, str]:
        return {
            "thresher.layer": self.layer,
            "thresher.keys": ",".join(self.keys),
            **self.properties,
        }


def _schema(*fields: tuple[str, object, bool]) -> StructType:
    return StructType([StructField(name, dtype, nullable) for name, dtype, nullable in fields])


BRONZE_DOCUMENTS = TableSpec(
    layer="bronze",
    name="documents",
    schema=_schema(
        ("doc_id", StringType(), False),
        ("ingest_date", DateType(), False),
        ("source", StringType(), False),
        ("url", StringType(), False),
        ("location", StringType(), False),
        ("source_format", StringType(), False),
        ("title", StringType(), True),
        ("text", StringType(), False),
        ("content_sha256", StringType(), False),
        ("language", StringType(), False),
        ("language_score", DoubleType(), False),
        ("n_chars", IntegerType(), False),
        ("n_bytes", LongType(), False),
        ("extractor", StringType(), False),
    ),
    keys=("ingest_date", "doc_id"),
    partition_by=("ingest_date",),
    comment="One row per input document: extracted, Unicode-normalised text with its language.",
)

QUARANTINE = TableSpec(
    layer="quarantine",
    name="quarantine",
    schema=_schema(
        ("quarantine_id", StringType(), False),
        ("ingest_date", DateType(), False),
        ("stage", StringType(), False),
        ("source", StringType(), False),
        ("location", StringType(), False),
        ("reason", StringType(), False),
        ("detail", StringType(), True),
        ("raw_excerpt", StringType(), True),
        ("n_bytes", LongType(), True),
    ),
    keys=("ingest_date", "stage", "quarantine_id"),
    partition_by=("ingest_date",),
    comment="Malformed records any stage refused, with the reason; nothing is silently lost.",
)

STAGE_COUNTS = TableSpec(
    layer="ops",
    name="stage_counts",
    schema=_schema(
        ("ingest_date", DateType(), False),
        ("stage", StringType(), False),
        # The input source a stage ran over, or "*" for a stage over the whole partition.
        ("source", StringType(), False),
        # "in", "kept", "dropped" or "quarantined"; in = kept + dropped + quarantined.
        ("category", StringType(), False),
        ("reason", StringType(), False),
        ("records", LongType(), False),
    ),
    keys=("ingest_date", "stage", "source", "category", "reason"),
    # Partitioned like the data it counts, so runs for different dates never conflict.
    partition_by=("ingest_date",),
    comment="Per-stage record accounting for each partition.",
)

GATE_RESULTS = TableSpec(
    layer="ops",
    name="gate_results",
    schema=_schema(
        ("ingest_date", DateType(), False),
        ("gate", StringType(), False),
        ("success", BooleanType(), False),
        ("evaluated", IntegerType(), False),
        ("failed", IntegerType(), False),
        ("report", StringType(), False),
    ),
    keys=("ingest_date", "gate"),
    partition_by=("ingest_date",),
    comment="Great Expectations validation results, one row per gate and partition.",
)

SILVER_MINHASH = TableSpec(
    layer="silver",
    name="minhash",
    schema=_schema(
        ("doc_id", StringType(), False),
        ("ingest_date", DateType(), False),
        ("content_sha256", StringType(), False),
        # One 64-bit hash per LSH band: documents sharing one are near-duplicate candidates.
        ("bands", ArrayType(LongType()), False),
        # Sorted unique 32-bit shingle hashes, for verifying candidates by exact Jaccard.
        ("shingles", ArrayType(IntegerType()), False),
    ),
    keys=("ingest_date", "doc_id"),
    partition_by=("ingest_date",),
    comment="MinHash LSH bands and shingle hashes per document, kept so later partitions "
    "are deduplicated against earlier ones without recomputing them.",
)

SILVER_DEDUP = TableSpec(
    layer="silver",
    name="dedup",
    schema=_schema(
        ("doc_id", StringType(), False),
        ("ingest_date", DateType(), False),
        # The representative's doc_id: the earliest (ingest_date, doc_id) of the cluster.
        ("cluster_id", StringType(), False),
        # Null for the document kept; else the representative it duplicates.
        ("duplicate_of", StringType(), True),
        # The representative's ingest_date (a page re-crawled later duplicates its earlier self).
        ("duplicate_of_date", DateType(), True),
        # "exact" (same normalised text as the representative), "near", or null when kept.
        ("method", StringType(), True),
    ),
    keys=("ingest_date", "doc_id"),
    partition_by=("ingest_date",),
    comment="A deduplication decision for every bronze document; nothing is deleted.",
)

ALL_TABLES = (
    BRONZE_DOCUMENTS,
    QUARANTINE,
    STAGE_COUNTS,
    GATE_RESULTS,
    SILVER_MINHASH,
    SILVER_DEDUP,
)


def table(qualified_name: str) -> TableSpec:
    for spec in ALL_TABLES:
        if spec.qualified_name == qualified_name:
            return spec
    known = ", ".join(s.qualified_name for s in ALL_TABLES)
    raise KeyError(f"no table {qualified_name!r}; declared tables: {known}")
