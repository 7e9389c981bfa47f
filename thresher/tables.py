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
    MapType,
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

SILVER_QUALITY_SCORES = TableSpec(
    layer="silver",
    name="quality_scores",
    schema=_schema(
        ("doc_id", StringType(), False),
        ("ingest_date", DateType(), False),
        # "rules", "reference_classifier", later "murating", …: a new scorer is new rows.
        ("criterion", StringType(), False),
        # The scorer's version (rule thresholds hash, model tag): re-scoring adds, never rewrites.
        ("version", StringType(), False),
        # Larger is better for every criterion written so far (rule pass share, P(reference)).
        ("score", DoubleType(), False),
        ("passed", BooleanType(), False),
        # The failing rules' threshold settings; empty when passed, null for model scores.
        ("failed", ArrayType(StringType()), True),
        # Raw measures behind the score (each rule's value), for gates and plots.
        ("details", MapType(StringType(), DoubleType()), True),
        # The document's size in tokens (words; characters for zh/ja/th), what a sampler weighs.
        ("tokens", LongType(), False),
    ),
    keys=("ingest_date", "doc_id", "criterion", "version"),
    partition_by=("ingest_date",),
    comment="Quality scores of the documents dedup kept: one row per document, criterion "
    "and scorer version, written per (ingest_date, criterion, version).",
)

MIXTURE_SCHEMA = _schema(
    ("doc_id", StringType(), False),
    ("ingest_date", DateType(), False),
    ("domain", StringType(), False),
    ("tokens", LongType(), False),
    # q̄: merged, rank-normalised quality (smaller is better) and r̄ its token-weighted rank.
    ("quality", DoubleType(), False),
    ("rank", DoubleType(), False),
    # S(r̄), and the copies drawn from it (⌊S⌋ + Bernoulli(S − ⌊S⌋), seeded per document).
    ("expected_copies", DoubleType(), False),
    ("copies", IntegerType(), False),
    ("params_version", StringType(), False),
    ("seed", LongType(), False),
    # Delta versions of the tables read (time travel): the mixture can be rebuilt exactly.
    ("source_versions", MapType(StringType(), LongType()), False),
)


def mixture_table(name: str) -> TableSpec:
    """``gold.mixture_<name>``: the documents one QuaDMix mixture selects, with copy counts.

    Declared per mixture name rather than in ``ALL_TABLES``: each name is its own table.
    """
    if not name.replace("_", "").isalnum():
        raise ValueError(f"mixture name must be alphanumeric or _, got {name!r}")
    return TableSpec(
        layer="gold",
        name=f"mixture_{name}",
        schema=MIXTURE_SCHEMA,
        keys=("ingest_date", "doc_id"),
        partition_by=("ingest_date",),
        comment=f"QuaDMix mixture {name!r}: selected documents and their copy counts; each "
        "run replaces the whole table, its commit's userMetadata holds the recipe.",
    )


CORPUS_SCHEMA = _schema(
    ("doc_id", StringType(), False),
    ("ingest_date", DateType(), False),
    ("language", StringType(), False),
    ("domain", StringType(), False),
    ("text", StringType(), False),
    ("tokens", LongType(), False),
    ("copies", IntegerType(), False),
    # "train" or "validation": a fixed hash of doc_id holds documents out of training.
    ("split", StringType(), False),
)


def corpus_table(name: str) -> TableSpec:
    """``gold.corpus_<name>``: mixture ``name``'s documents with their text, ready to train on.

    What a pretraining task reads (without Spark: the GPU image reads Delta with deltalake).
    """
    mixture = mixture_table(name)  # validates the name
    return TableSpec(
        layer="gold",
        name=f"corpus_{name}",
        schema=CORPUS_SCHEMA,
        keys=mixture.keys,
        partition_by=(),
        comment=f"Training text of mixture {name!r} (copies and a held-out split); each run "
        "replaces the whole table, its commit's userMetadata names the mixture version.",
    )


SEARCH_FEATURES_SCHEMA = _schema(
    ("doc_id", StringType(), False),
    ("ingest_date", DateType(), False),
    # "<ingest_date>/<doc_id>": the key of the document's seeded copy draw, as in the mixture.
    ("node", StringType(), False),
    ("language", StringType(), False),
    ("domain", StringType(), False),
    ("tokens", LongType(), False),
    # σ per criterion: the rank-normalised score (smaller is better) the mixture merges.
    ("sigmas", MapType(StringType(), DoubleType()), False),
    ("text", StringType(), False),
    # "train" or "validation": a fixed hash of doc_id, as in gold.corpus_<name>.
    ("split", StringType(), False),
)


def search_features_table(name: str) -> TableSpec:
    """``gold.search_features_<name>``: what a QuaDMix sampler needs per document, with text.

    Computed once per mixture search by Spark; each proxy applies the numpy sampler
    (``thresher.mixture_search``) to it and gets the copies mixture ``name`` would draw.
    """
    mixture = mixture_table(name)  # validates the name
    return TableSpec(
        layer="gold",
        name=f"search_features_{name}",
        schema=SEARCH_FEATURES_SCHEMA,
        keys=mixture.keys,
        partition_by=(),
        comment=f"Sampler inputs of mixture {name!r} (σ per criterion, domain, tokens) and "
        "text; rewritten only when its sources change, the commit's userMetadata holds them.",
    )


LANGUAGE_MIX_POOL_SCHEMA = _schema(
    # A mixture document's doc_id, or "parallel:<unit_id>" for a parallel pair.
    ("doc_id", StringType(), False),
    # "monolingual" or "parallel".
    ("kind", StringType(), False),
    # ISO 639-1 of a monolingual document; "en-<language>" of a parallel pair.
    ("language", StringType(), False),
    # "mixture" or the parallel unit's source (ntrex, xquad, tatoeba, ...).
    ("source", StringType(), False),
    ("text", StringType(), False),
    # "train" or "validation" (monolingual documents only: the corpus's fixed doc_id hash).
    ("split", StringType(), False),
)


def language_mix_pool_table(name: str) -> TableSpec:
    """``gold.language_mix_pool_<name>``: what MuBench's language-mix cells draw from.

    Mixture ``name``'s English and second-language documents, and English–second-language
    parallel pairs of silver.murating_documents; each cell of the experiment draws its
    corpus from it by token shares (``models.language_mix.cell``).
    """
    mixture = mixture_table(name)  # validates the name
    return TableSpec(
        layer="gold",
        name=f"language_mix_pool_{name}",
        schema=LANGUAGE_MIX_POOL_SCHEMA,
        keys=("doc_id",),
        partition_by=(),
        comment=f"Monolingual documents of mixture {mixture.name!r} and parallel pairs for the "
        "language-mix experiment; rewritten only when its sources change (userMetadata).",
    )


SILVER_DOMAINS = TableSpec(
    layer="silver",
    name="domains",
    schema=_schema(
        ("doc_id", StringType(), False),
        ("ingest_date", DateType(), False),
        # A label of the training set ("sports", …) or "cluster_<i>" for the kmeans method.
        ("domain", StringType(), False),
        # The classifier's probability of that label, or the cluster's distance margin, in [0, 1].
        ("confidence", DoubleType(), False),
        ("model_version", StringType(), False),
        # "supervised" or "kmeans".
        ("method", StringType(), False),
    ),
    keys=("ingest_date", "doc_id"),
    partition_by=("ingest_date",),
    comment="The domain of every document dedup kept, from a multilingual embedding model.",
)

# Reference data rather than a run's output, so it is not partitioned by ingest_date and
# stays out of ALL_TABLES: a loader replaces one dataset's rows at a time.
SILVER_DOMAIN_LABELS = TableSpec(
    layer="silver",
    name="domain_labels",
    schema=_schema(
        # "sib200", or any other labelled set loaded next to it.
        ("dataset", StringType(), False),
        # "train" fits the classifier, "dev" measures it.
        ("split", StringType(), False),
        # ISO 639-1, as bronze.documents.language.
        ("language", StringType(), False),
        # The item's id in its dataset (SIB-200's index_id: the same id is the same sentence
        # in every language).
        ("item_id", StringType(), False),
        ("label", StringType(), False),
        ("text", StringType(), False),
    ),
    keys=("dataset", "split", "language", "item_id"),
    partition_by=("dataset",),
    comment="Labelled texts that train and evaluate the domain classifier.",
)

# POSO experiments (PAPERS.md): interaction events and their users and items, one partition
# per dataset ("ml-100k", "ml-20m", a production log's name). Like domain_labels these are
# reference data rebuilt whole per dataset, so they stay out of ALL_TABLES.
SILVER_POSO_EVENTS = TableSpec(
    layer="silver",
    name="poso_events",
    schema=_schema(
        ("dataset", StringType(), False),
        # sha256 of (user_id, item_id, timestamp): an event seen twice is dropped, not doubled.
        ("event_id", StringType(), False),
        ("user_id", StringType(), False),
        ("item_id", StringType(), False),
        # Seconds since the epoch, as the input gives it.
        ("timestamp", LongType(), False),
        # Null for an event log that has a label but no rating.
        ("rating", DoubleType(), True),
        # 1 when rating >= poso.positive_rating (or the log's label is positive), else 0.
        ("label", IntegerType(), False),
        # "train", "valid", "test" or "held_out" (poso.split): the training users' events cut
        # by time; a held-out user's first events valid or test, the rest "held_out".
        ("split", StringType(), False),
        # Personalisation code: the user's interactions before this event (ties in time
        # ordered by item_id), its log2 bucket, and the group it puts the event in.
        ("activity_count", LongType(), False),
        ("activity_bucket", IntegerType(), False),
        ("is_new_user", BooleanType(), False),
        ("user_group", StringType(), False),
        # The last poso.history_length items before the event (oldest first) and their labels.
        ("history_items", ArrayType(StringType()), False),
        ("history_labels", ArrayType(IntegerType()), False),
    ),
    keys=("dataset", "event_id"),
    partition_by=("dataset",),
    comment="User-item interactions with a binary label, a split (held-out users / time) and the "
    "personalisation code (activity before the event, new/regular user group).",
)

SILVER_POSO_USERS = TableSpec(
    layer="silver",
    name="poso_users",
    schema=_schema(
        ("dataset", StringType(), False),
        ("user_id", StringType(), False),
        # Profile fields, null where the input has no users file (MovieLens-20M) or no value.
        ("age", IntegerType(), True),
        ("gender", StringType(), True),
        ("occupation", StringType(), True),
        ("zip_code", StringType(), True),
        ("events", LongType(), False),
        ("first_timestamp", LongType(), True),
    ),
    keys=("dataset", "user_id"),
    partition_by=("dataset",),
    comment="Users of a POSO dataset: profile fields and event counts.",
)

SILVER_POSO_ITEMS = TableSpec(
    layer="silver",
    name="poso_items",
    schema=_schema(
        ("dataset", StringType(), False),
        ("item_id", StringType(), False),
        ("title", StringType(), True),
        ("year", IntegerType(), True),
        ("genres", ArrayType(StringType()), False),
        ("events", LongType(), False),
    ),
    keys=("dataset", "item_id"),
    partition_by=("dataset",),
    comment="Items of a POSO dataset: title, release year, genres and event counts.",
)

POSO_TABLES = (SILVER_POSO_EVENTS, SILVER_POSO_USERS, SILVER_POSO_ITEMS)

# MuRating (PAPERS.md): documents that carry an English judgment (parallel corpora, their
# translations) and the pairs the multilingual rater trains on, one partition per pair set.
# Rebuilt whole per pair set like the reference data above, so they stay out of ALL_TABLES.
SILVER_MURATING_DOCUMENTS = TableSpec(
    layer="silver",
    name="murating_documents",
    schema=_schema(
        ("pair_set", StringType(), False),
        # "<unit_id>/<language>": a unit is one text in every language it exists in.
        ("doc_key", StringType(), False),
        ("unit_id", StringType(), False),
        ("language", StringType(), False),
        # "ntrex", "xquad", "tatoeba", "translation:<model>", "bronze".
        ("source", StringType(), False),
        ("text", StringType(), False),
        # The unit's unified (Bradley–Terry) score of its English side; larger is better.
        ("score", DoubleType(), False),
        # Each English rater's raw score of the unit's English side.
        ("english_scores", MapType(StringType(), DoubleType()), False),
        # "train" or "held_out": a fixed hash of unit_id, the same in every language.
        ("split", StringType(), False),
        # Hash of the raters' versions and the aggregation settings.
        ("judgment_version", StringType(), False),
    ),
    keys=("pair_set", "doc_key"),
    partition_by=("pair_set",),
    comment="Documents with their unit's unified English quality score (MuRating).",
)

SILVER_MURATING_PAIRS = TableSpec(
    layer="silver",
    name="murating_pairs",
    schema=_schema(
        ("pair_set", StringType(), False),
        ("pair_id", StringType(), False),
        # "monolingual", "cross_lingual" or "parallel" (a document and its translation).
        ("pair_type", StringType(), False),
        ("split", StringType(), False),
        *(
            (f"{column}_{side}", dtype, False)
            for side in ("a", "b")
            for column, dtype in (
                ("doc", StringType()),
                ("unit", StringType()),
                ("language", StringType()),
                ("source", StringType()),
                ("text", StringType()),
                ("score", DoubleType()),
            )
        ),  # fmt: skip
        # P(a is better than b): σ(score_a − score_b), 0.5 for parallel pairs.
        ("label", DoubleType(), False),
        ("judgment_version", StringType(), False),
    ),
    keys=("pair_set", "pair_id"),
    partition_by=("pair_set",),
    comment="Training and held-out pairs of the multilingual rater, with their provenance.",
)

MURATING_TABLES = (SILVER_MURATING_DOCUMENTS, SILVER_MURATING_PAIRS)

ALL_TABLES = (
    BRONZE_DOCUMENTS,
    QUARANTINE,
    STAGE_COUNTS,
    GATE_RESULTS,
    SILVER_MINHASH,
    SILVER_DEDUP,
    SILVER_DOMAINS,
    SILVER_QUALITY_SCORES,
)


def table(qualified_name: str) -> TableSpec:
    for spec in ALL_TABLES:
        if spec.qualified_name == qualified_name:
            return spec
    known = ", ".join(s.qualified_name for s in ALL_TABLES)
    raise KeyError(f"no table {qualified_name!r}; declared tables: {known}")
