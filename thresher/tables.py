"""Every Delta table of the lake, declared once: name, schema, keys, partitioning, properties.

Tables live at ``<storage_root>/<layer>/<name>``: ``bronze`` holds raw documents as
ingested, ``silver`` cleaned and annotated ones, ``gold`` selected mixtures, ``ops`` the
pipeline's own bookkeeping, and ``quarantine`` every malformed record with its reason.
A DAG run owns exactly one ``ingest_date`` partition of each table it writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from thresher import names
from thresher.config import Settings

LAYERS = ("bronze", "silver", "gold", "ops", "quarantine")


@dataclass(frozen=True)
class TableSpec:
    layer: str
    name: str
    columns: tuple[tuple[str, str, bool], ...]  # (name, Spark SQL type, nullable)
    keys: tuple[str, ...]
    partition_by: tuple[str, ...]
    comment: str
    properties: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.layer not in LAYERS:
            raise ValueError(f"unknown layer {self.layer!r}; expected one of {LAYERS}")
        for _, type_name, _ in self.columns:
            check_type(type_name)
        missing = (set(self.keys) | set(self.partition_by)) - set(self.column_names)
        if missing:
            raise ValueError(f"{self.qualified_name}: keys/partitions not in schema: {missing}")

    @property
    def column_names(self) -> list[str]:
        return [name for name, _, _ in self.columns]

    @property
    def schema(self):
        """The Spark ``StructType`` (pyspark is imported here, not when tables are declared:
        model tasks read table paths without a JVM or pyspark installed)."""
        from pyspark.sql.types import StructField, StructType

        return StructType(
            [StructField(name, spark_type(kind), nullable) for name, kind, nullable in self.columns]
        )

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


_SIMPLE_TYPES = {
    "string": "StringType",
    "date": "DateType",
    "double": "DoubleType",
    "int": "IntegerType",
    "bigint": "LongType",
    "boolean": "BooleanType",
}


def _parts(type_name: str) -> tuple[str, list[str]]:
    """``("array", ["string"])``, ``("map", ["string", "double"])``, ``("bigint", [])``."""
    if type_name in _SIMPLE_TYPES:
        return type_name, []
    kind, _, rest = type_name.partition("<")
    if rest.endswith(">"):
        inner = rest[:-1]
        if kind == "array":
            return kind, [inner]
        if kind == "map" and "," in inner:
            return kind, inner.split(",", 1)
    raise ValueError(f"unknown column type {type_name!r}")


def check_type(type_name: str) -> None:
    kind, inner = _parts(type_name)
    for part in inner:
        check_type(part)


def spark_type(type_name: str):
    """A column type name (``bigint``, ``array<string>``, ``map<string,double>``) as pyspark's
    ``DataType``."""
    from pyspark.sql import types

    kind, inner = _parts(type_name)
    if kind == "array":
        return types.ArrayType(spark_type(inner[0]))
    if kind == "map":
        return types.MapType(spark_type(inner[0]), spark_type(inner[1]))
    return getattr(types, _SIMPLE_TYPES[kind])()


def _schema(*fields: tuple[str, str, bool]) -> tuple[tuple[str, str, bool], ...]:
    """Columns as ``(name, type, nullable)``; types in Spark SQL's names (``string``,
    ``bigint``, ``array<string>``, ``map<string,double>``)."""
    return fields


@dataclass(frozen=True)
class TableFamily:
    """One table per name (a mixture's): ``gold.<prefix><name>``, declared once for all."""

    prefix: str
    columns: tuple[tuple[str, str, bool], ...]
    keys: tuple[str, ...]
    comment: str  # "{name}" is the table's name
    partition_by: tuple[str, ...] = ()

    def __call__(self, name: str) -> TableSpec:
        names.table_name("mixture name", name)  # every family is named after a mixture
        return TableSpec(
            layer="gold",
            name=f"{self.prefix}{name}",
            columns=self.columns,
            keys=self.keys,
            partition_by=self.partition_by,
            comment=self.comment.format(name=repr(name)),
        )


BRONZE_DOCUMENTS = TableSpec(
    layer="bronze",
    name="documents",
    columns=_schema(
        ("doc_id", "string", False),
        ("ingest_date", "date", False),
        ("source", "string", False),
        ("url", "string", False),
        ("location", "string", False),
        ("source_format", "string", False),
        ("title", "string", True),
        ("text", "string", False),
        ("content_sha256", "string", False),
        ("language", "string", False),
        ("language_score", "double", False),
        ("n_chars", "int", False),
        ("n_bytes", "bigint", False),
        ("extractor", "string", False),
        # The ingest batch that wrote the row (a fingerprint of the input files and the ingest
        # settings): the same id is on the batch's quarantine rows and stage counts, so an
        # ingest cut short between those commits is detected.
        ("batch_id", "string", True),
    ),
    keys=("ingest_date", "doc_id"),
    partition_by=("ingest_date",),
    comment="One row per input document: extracted, Unicode-normalised text with its language.",
)

QUARANTINE = TableSpec(
    layer="quarantine",
    name="quarantine",
    columns=_schema(
        ("quarantine_id", "string", False),
        ("ingest_date", "date", False),
        ("stage", "string", False),
        ("source", "string", False),
        ("location", "string", False),
        ("reason", "string", False),
        ("detail", "string", True),
        ("raw_excerpt", "string", True),
        ("n_bytes", "bigint", True),
        ("batch_id", "string", True),
    ),
    keys=("ingest_date", "stage", "quarantine_id"),
    partition_by=("ingest_date",),
    comment="Malformed records any stage refused, with the reason; nothing is silently lost.",
)

STAGE_COUNTS = TableSpec(
    layer="ops",
    name="stage_counts",
    columns=_schema(
        ("ingest_date", "date", False),
        ("stage", "string", False),
        # The input source a stage ran over, or "*" for a stage over the whole partition.
        ("source", "string", False),
        # "in", "kept", "dropped" or "quarantined"; in = kept + dropped + quarantined.
        ("category", "string", False),
        ("reason", "string", False),
        ("records", "bigint", False),
        # The ingest batch the counts describe (see bronze.documents; null for other stages).
        ("batch_id", "string", True),
    ),
    keys=("ingest_date", "stage", "source", "category", "reason"),
    # Partitioned like the data it counts, so runs for different dates never conflict.
    partition_by=("ingest_date",),
    comment="Per-stage record accounting for each partition.",
)

GATE_RESULTS = TableSpec(
    layer="ops",
    name="gate_results",
    columns=_schema(
        ("ingest_date", "date", False),
        ("gate", "string", False),
        ("success", "boolean", False),
        ("evaluated", "int", False),
        ("failed", "int", False),
        ("report", "string", False),
    ),
    keys=("ingest_date", "gate"),
    partition_by=("ingest_date",),
    comment="Great Expectations validation results, one row per gate and partition.",
)

SILVER_MINHASH = TableSpec(
    layer="silver",
    name="minhash",
    columns=_schema(
        ("doc_id", "string", False),
        ("ingest_date", "date", False),
        ("content_sha256", "string", False),
        # One 64-bit hash per LSH band: documents sharing one are near-duplicate candidates.
        ("bands", "array<bigint>", False),
        # Sorted unique 32-bit shingle hashes, for verifying candidates by exact Jaccard.
        ("shingles", "array<int>", False),
    ),
    keys=("ingest_date", "doc_id"),
    partition_by=("ingest_date",),
    comment="MinHash LSH bands and shingle hashes per document, kept so later partitions "
    "are deduplicated against earlier ones without recomputing them.",
)

SILVER_DEDUP = TableSpec(
    layer="silver",
    name="dedup",
    columns=_schema(
        ("doc_id", "string", False),
        ("ingest_date", "date", False),
        # The representative's doc_id: the earliest (ingest_date, doc_id) of the cluster.
        ("cluster_id", "string", False),
        # Null for the document kept; else the representative it duplicates.
        ("duplicate_of", "string", True),
        # The representative's ingest_date (a page re-crawled later duplicates its earlier self).
        ("duplicate_of_date", "date", True),
        # "exact" (same normalised text as the representative), "near", or null when kept.
        ("method", "string", True),
    ),
    keys=("ingest_date", "doc_id"),
    partition_by=("ingest_date",),
    comment="A deduplication decision for every bronze document; nothing is deleted.",
)

SILVER_QUALITY_SCORES = TableSpec(
    layer="silver",
    name="quality_scores",
    columns=_schema(
        ("doc_id", "string", False),
        ("ingest_date", "date", False),
        # "rules", "reference_classifier", later "murating", …: a new scorer is new rows.
        ("criterion", "string", False),
        # The scorer's version (rule thresholds hash, model tag): re-scoring adds, never rewrites.
        ("version", "string", False),
        # Larger is better for every criterion written so far (rule pass share, P(reference)).
        ("score", "double", False),
        ("passed", "boolean", False),
        # The failing rules' threshold settings; empty when passed, null for model scores.
        ("failed", "array<string>", True),
        # Raw measures behind the score (each rule's value), for gates and plots.
        ("details", "map<string,double>", True),
        # The document's size in tokens (words; characters for zh/ja/th), what a sampler weighs.
        ("tokens", "bigint", False),
    ),
    keys=("ingest_date", "doc_id", "criterion", "version"),
    partition_by=("ingest_date",),
    comment="Quality scores of the documents dedup kept: one row per document, criterion "
    "and scorer version, written per (ingest_date, criterion, version).",
)

MIXTURE_SCHEMA = _schema(
    ("doc_id", "string", False),
    ("ingest_date", "date", False),
    ("domain", "string", False),
    ("tokens", "bigint", False),
    # q̄: merged, rank-normalised quality (smaller is better) and r̄ its token-weighted rank.
    ("quality", "double", False),
    ("rank", "double", False),
    # S(r̄), and the copies drawn from it (⌊S⌋ + Bernoulli(S − ⌊S⌋), seeded per document).
    ("expected_copies", "double", False),
    ("copies", "int", False),
    ("params_version", "string", False),
    ("seed", "bigint", False),
    # Delta versions of the tables read (time travel): the mixture can be rebuilt exactly.
    ("source_versions", "map<string,bigint>", False),
)


# gold.mixture_<name>: the documents one QuaDMix mixture selects, with copy counts.
mixture_table = TableFamily(
    "mixture_",
    MIXTURE_SCHEMA,
    keys=("ingest_date", "doc_id"),
    partition_by=("ingest_date",),
    comment="QuaDMix mixture {name}: selected documents and their copy counts; each run "
    "replaces the whole table, its commit's userMetadata holds the recipe.",
)


CORPUS_SCHEMA = _schema(
    ("doc_id", "string", False),
    ("ingest_date", "date", False),
    ("language", "string", False),
    ("domain", "string", False),
    ("text", "string", False),
    ("tokens", "bigint", False),
    ("copies", "int", False),
    # "train" or "validation": a fixed hash of doc_id holds documents out of training.
    ("split", "string", False),
)


# gold.corpus_<name>: mixture <name>'s documents with their text, ready to train on — what a
# pretraining task reads (without Spark: the GPU image reads Delta with deltalake).
corpus_table = TableFamily(
    "corpus_",
    CORPUS_SCHEMA,
    keys=("ingest_date", "doc_id"),
    comment="Training text of mixture {name} (copies and a held-out split); each run "
    "replaces the whole table, its commit's userMetadata names the mixture version.",
)


SEARCH_FEATURES_SCHEMA = _schema(
    ("doc_id", "string", False),
    ("ingest_date", "date", False),
    # "<ingest_date>/<doc_id>": the key of the document's seeded copy draw, as in the mixture.
    ("node", "string", False),
    ("language", "string", False),
    ("domain", "string", False),
    ("tokens", "bigint", False),
    # σ per criterion: the rank-normalised score (smaller is better) the mixture merges.
    ("sigmas", "map<string,double>", False),
    ("text", "string", False),
)


# gold.search_features_<name>: what a QuaDMix sampler needs per document, with text; computed
# once per mixture search by Spark, each proxy applies the numpy sampler
# (thresher.mixture_search) to it and gets the copies mixture <name> would draw.
search_features_table = TableFamily(
    "search_features_",
    SEARCH_FEATURES_SCHEMA,
    keys=("ingest_date", "doc_id"),
    comment="Sampler inputs of mixture {name} (σ per criterion, domain, tokens) and text; "
    "rewritten only when its sources change, the commit's userMetadata holds them.",
)


LANGUAGE_MIX_POOL_SCHEMA = _schema(
    # A mixture document's doc_id, or "parallel:<unit_id>" for a parallel pair.
    ("doc_id", "string", False),
    # "monolingual" or "parallel".
    ("kind", "string", False),
    # ISO 639-1 of a monolingual document; "en-<language>" of a parallel pair.
    ("language", "string", False),
    # "mixture" or the parallel unit's source (ntrex, xquad, tatoeba, ...).
    ("source", "string", False),
    ("text", "string", False),
    # "train" or "validation" (monolingual documents only: the corpus's fixed doc_id hash).
    ("split", "string", False),
)


# gold.language_mix_pool_<name>: what MuBench's language-mix cells draw from — mixture
# <name>'s English and second-language documents and English–second-language parallel pairs
# of silver.murating_documents; each cell draws its corpus from it by token shares
# (models.language_mix.cell).
language_mix_pool_table = TableFamily(
    "language_mix_pool_",
    LANGUAGE_MIX_POOL_SCHEMA,
    keys=("doc_id",),
    comment="Monolingual documents of mixture {name} and parallel pairs for the "
    "language-mix experiment; rewritten only when its sources change (userMetadata).",
)


SILVER_DOMAINS = TableSpec(
    layer="silver",
    name="domains",
    columns=_schema(
        ("doc_id", "string", False),
        ("ingest_date", "date", False),
        # A label of the training set ("sports", …) or "cluster_<i>" for the kmeans method.
        ("domain", "string", False),
        # The classifier's probability of that label, or the cluster's distance margin, in [0, 1].
        ("confidence", "double", False),
        ("model_version", "string", False),
        # What labelled the row: "student", "supervised" (the E5 classifier, also on the rows
        # the student handed over) or "kmeans".
        ("method", "string", False),
    ),
    keys=("ingest_date", "doc_id"),
    partition_by=("ingest_date",),
    comment="The domain of every document dedup kept, from a multilingual embedding model.",
)

# Reference data rather than a run's output, so it is not partitioned by ingest_date: a
# loader replaces one dataset's rows at a time.
SILVER_DOMAIN_LABELS = TableSpec(
    layer="silver",
    name="domain_labels",
    columns=_schema(
        # "sib200", or any other labelled set loaded next to it.
        ("dataset", "string", False),
        # "train" fits the classifier, "dev" measures it.
        ("split", "string", False),
        # ISO 639-1, as bronze.documents.language.
        ("language", "string", False),
        # The item's id in its dataset (SIB-200's index_id: the same id is the same sentence
        # in every language).
        ("item_id", "string", False),
        ("label", "string", False),
        ("text", "string", False),
    ),
    keys=("dataset", "split", "language", "item_id"),
    partition_by=("dataset",),
    comment="Labelled texts that train and evaluate the domain classifier.",
)

# POSO experiments (PAPERS.md): interaction events and their users and items, one partition
# per dataset ("ml-100k", "ml-20m", a production log's name). Like domain_labels these are
# reference data rebuilt whole per dataset.
SILVER_POSO_EVENTS = TableSpec(
    layer="silver",
    name="poso_events",
    columns=_schema(
        ("dataset", "string", False),
        # sha256 of (user_id, item_id, timestamp): an event seen twice is dropped, not doubled.
        ("event_id", "string", False),
        ("user_id", "string", False),
        ("item_id", "string", False),
        # Seconds since the epoch, as the input gives it.
        ("timestamp", "bigint", False),
        # Null for an event log that has a label but no rating.
        ("rating", "double", True),
        # 1 when rating >= poso.positive_rating (or the log's label is positive), else 0.
        ("label", "int", False),
        # "train", "valid", "test" or "held_out" (poso.split): the training users' events cut
        # by time; a held-out user's first events valid or test, the rest "held_out".
        ("split", "string", False),
        # Personalisation code: the user's interactions before this event (ties in time
        # ordered by item_id), its log2 bucket, and the group it puts the event in.
        ("activity_count", "bigint", False),
        ("activity_bucket", "int", False),
        ("is_new_user", "boolean", False),
        ("user_group", "string", False),
        # The last poso.history_length items before the event (oldest first) and their labels.
        ("history_items", "array<string>", False),
        ("history_labels", "array<int>", False),
    ),
    keys=("dataset", "event_id"),
    partition_by=("dataset",),
    comment="User-item interactions with a binary label, a split (held-out users / time) and the "
    "personalisation code (activity before the event, new/regular user group).",
)

SILVER_POSO_USERS = TableSpec(
    layer="silver",
    name="poso_users",
    columns=_schema(
        ("dataset", "string", False),
        ("user_id", "string", False),
        # Profile fields, null where the input has no users file (MovieLens-20M) or no value.
        ("age", "int", True),
        ("gender", "string", True),
        ("occupation", "string", True),
        ("zip_code", "string", True),
        ("events", "bigint", False),
        ("first_timestamp", "bigint", True),
    ),
    keys=("dataset", "user_id"),
    partition_by=("dataset",),
    comment="Users of a POSO dataset: profile fields and event counts.",
)

SILVER_POSO_ITEMS = TableSpec(
    layer="silver",
    name="poso_items",
    columns=_schema(
        ("dataset", "string", False),
        ("item_id", "string", False),
        ("title", "string", True),
        ("year", "int", True),
        ("genres", "array<string>", False),
        ("events", "bigint", False),
    ),
    keys=("dataset", "item_id"),
    partition_by=("dataset",),
    comment="Items of a POSO dataset: title, release year, genres and event counts.",
)

POSO_TABLES = (SILVER_POSO_EVENTS, SILVER_POSO_USERS, SILVER_POSO_ITEMS)

# MuRating (PAPERS.md): documents that carry an English judgment (parallel corpora, their
# translations) and the pairs the multilingual rater trains on, one partition per pair set.
# Rebuilt whole per pair set like the reference data above.
SILVER_MURATING_DOCUMENTS = TableSpec(
    layer="silver",
    name="murating_documents",
    columns=_schema(
        ("pair_set", "string", False),
        # "<unit_id>/<language>": a unit is one text in every language it exists in.
        ("doc_key", "string", False),
        ("unit_id", "string", False),
        ("language", "string", False),
        # "ntrex", "xquad", "tatoeba", "translation:<model>", "bronze".
        ("source", "string", False),
        ("text", "string", False),
        # The unit's unified (Bradley–Terry) score of its English side; larger is better.
        ("score", "double", False),
        # Each English rater's raw score of the unit's English side.
        ("english_scores", "map<string,double>", False),
        # "train" or "held_out": a fixed hash of unit_id, the same in every language.
        ("split", "string", False),
        # Hash of the raters' versions and the aggregation settings.
        ("judgment_version", "string", False),
    ),
    keys=("pair_set", "doc_key"),
    partition_by=("pair_set",),
    comment="Documents with their unit's unified English quality score (MuRating).",
)

SILVER_MURATING_PAIRS = TableSpec(
    layer="silver",
    name="murating_pairs",
    columns=_schema(
        ("pair_set", "string", False),
        ("pair_id", "string", False),
        # "monolingual", "cross_lingual" or "parallel" (a document and its translation).
        ("pair_type", "string", False),
        ("split", "string", False),
        *(
            (f"{column}_{side}", dtype, False)
            for side in ("a", "b")
            for column, dtype in (
                ("doc", "string"),
                ("unit", "string"),
                ("language", "string"),
                ("source", "string"),
                ("text", "string"),
                ("score", "double"),
            )
        ),
        # P(a is better than b): σ(score_a − score_b), 0.5 for parallel pairs.
        ("label", "double", False),
        ("judgment_version", "string", False),
    ),
    keys=("pair_set", "pair_id"),
    partition_by=("pair_set",),
    comment="Training and held-out pairs of the multilingual rater, with their provenance.",
)

MURATING_TABLES = (SILVER_MURATING_DOCUMENTS, SILVER_MURATING_PAIRS)

# Every table of a fixed name. ``thresher tables`` creates them all; ``table`` finds them.
ALL_TABLES = (
    BRONZE_DOCUMENTS,
    QUARANTINE,
    STAGE_COUNTS,
    GATE_RESULTS,
    SILVER_MINHASH,
    SILVER_DEDUP,
    SILVER_DOMAINS,
    SILVER_QUALITY_SCORES,
    SILVER_DOMAIN_LABELS,
    *POSO_TABLES,
    *MURATING_TABLES,
)
# The tables a curation run owns a partition of (ingest_date).
PARTITIONED_TABLES = tuple(spec for spec in ALL_TABLES if "ingest_date" in spec.partition_by)
# Tables declared once per name (a mixture's): "gold.<prefix><name>" → its declaration.
TABLE_FAMILIES = {
    family.prefix: family
    for family in (mixture_table, corpus_table, search_features_table, language_mix_pool_table)
}


def table(qualified_name: str) -> TableSpec:
    """The declaration of ``qualified_name``: a fixed table or one of a family
    (``gold.mixture_default``)."""
    for spec in ALL_TABLES:
        if spec.qualified_name == qualified_name:
            return spec
    layer, _, name = qualified_name.partition(".")
    for prefix, declare in sorted(TABLE_FAMILIES.items(), key=lambda kv: -len(kv[0])):
        if layer == "gold" and name.startswith(prefix) and len(name) > len(prefix):
            return declare(name[len(prefix) :])
    known = ", ".join(s.qualified_name for s in ALL_TABLES)
    families = ", ".join(f"gold.{p}<name>" for p in TABLE_FAMILIES)
    raise KeyError(f"no table {qualified_name!r}; declared tables: {known}; families: {families}")
