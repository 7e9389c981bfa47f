"""The experiments, declared once: each step's kind, entry point, inputs and order.

An experiment is data, like the curation pipeline (``thresher.jobs``). Its executors — the
Airflow DAGs ``mixture_search``, ``selection_study``, ``language_mix`` and ``poso``
(``thresher_tasks.experiments``) and the benchmarks ``make bench-mixsearch`` /
``make bench-selection`` / ``make bench-langmix`` / ``make bench-poso``
(``bench.experiments``) —
walk the same steps in the same order and decide only where each runs:

- ``spark`` and ``driver`` steps are a ``module:function`` called with a ``StepContext``
  (Spark in the task's process; light Python in the scheduler's or the benchmark's);
- ``model`` steps are ``python -m <module> <arguments>``: a GPU pod or a local process (the
  model-task factory), a subprocess in a benchmark. Their hyperparameters come from the
  settings every model task receives (``THRESHER_SETTINGS``); their arguments carry only
  what earlier steps produced (paths, run ids) and which item of a mapped step they are.

A step's ``arguments`` is a ``module:function`` ``(settings, ref) -> list[list[str]]``: one
argument list per task (several: a mapped step). ``ref(step, key)`` stands for ``key`` of an
earlier step's result — an XCom template in a DAG, the value itself in a benchmark.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from thresher import names
from thresher.config import Settings

SPARK, DRIVER, MODEL = "spark", "driver", "model"
Ref = Callable[[str, str], str]


def settings_value(settings: Settings, path: str):
    """The setting at ``path`` ("section.name", e.g. "mixture_search.proxy_pool")."""
    section, name = path.split(".")
    return getattr(getattr(settings, section), name)


@dataclass(frozen=True)
class Step:
    name: str
    kind: str  # SPARK, DRIVER or MODEL
    entry: str  # "module:function" (spark, driver) or the module a model step runs
    description: str
    after: tuple[str, ...] = ()  # steps whose results this one reads (and waits for)
    arguments: str = ""  # model steps: "module:function" (settings, ref) -> argument lists
    mapped: bool = False  # one task per argument list; its result is the list of theirs
    gpus: int = 0
    cpu: str = "2"
    memory: str = "8Gi"
    pool: str = ""  # a settings path ("mixture_search.proxy_pool") naming the Airflow pool

    def argument_lists(self, settings: Settings, ref: Ref) -> list[list[str]]:
        return import_entry(self.arguments)(settings, ref)

    def pool_name(self, settings: Settings) -> str | None:
        return settings_value(settings, self.pool) if self.pool else None


@dataclass(frozen=True)
class RunParam:
    """What a run of an experiment is started with (a param of its DAG, a benchmark's
    argument): a string matching ``pattern``, by default the value at a settings path."""

    name: str
    default: str  # a settings path ("mixture.name")
    pattern: str  # thresher.names: checked by the Airflow UI and by every executor
    description: str

    def default_value(self, settings: Settings) -> str:
        return settings_value(settings, self.default)

    def check(self, value: str) -> str:
        import re

        if not isinstance(value, str) or not re.fullmatch(self.pattern, value):
            raise ValueError(f"param {self.name}={value!r} does not match {self.pattern}")
        return value


@dataclass(frozen=True)
class StepContext:
    """What a spark or driver step is given: the settings, every earlier step's result by
    name (a mapped model step's: the list of its tasks' results), the run's key (its MLflow
    parent run is found again by it), its partition (what its Spark jobs account under) and
    the run's parameters."""

    settings: Settings
    experiment: str
    run_key: str
    partition: dt.date
    outputs: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)  # on the parent MLflow run


@dataclass(frozen=True)
class Experiment:
    name: str
    steps: tuple[Step, ...]
    params: tuple[RunParam, ...] = ()
    # The settings path of the MLflow experiment its runs log to.
    tracking: str = ""
    # What the Airflow UI shows of its DAG.
    description: str = ""
    tags: tuple[str, ...] = ()

    def tracking_settings(self, settings: Settings) -> Settings:
        """``settings`` logging to the experiment's own MLflow experiment."""
        import dataclasses

        experiment = settings_value(settings, self.tracking)
        tracking = dataclasses.replace(settings.tracking, experiment=experiment)
        return dataclasses.replace(settings, tracking=tracking)

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for step in self.steps:
            if step.kind not in (SPARK, DRIVER, MODEL):
                raise ValueError(f"{self.name}.{step.name}: unknown kind {step.kind!r}")
            unknown = [a for a in step.after if a not in seen]
            if unknown or step.name in seen:
                raise ValueError(f"{self.name}.{step.name}: after {unknown}, or declared twice")
            if (step.kind == MODEL) != bool(step.arguments) or (step.mapped and not step.arguments):
                raise ValueError(f"{self.name}.{step.name}: model steps (only) take arguments")
            seen.add(step.name)

    def run_params(self, settings: Settings, given: Mapping[str, str] | None = None) -> dict:
        """Every declared param: the given value, checked, or its default from ``settings``."""
        given = dict(given or {})
        unknown = set(given) - {p.name for p in self.params}
        if unknown:
            raise ValueError(f"{self.name} takes no params {sorted(unknown)}")
        return {
            p.name: p.check(given[p.name]) if p.name in given else p.default_value(settings)
            for p in self.params
        }

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(f"{self.name} has no step {name!r}")


def experiment_key(settings: Settings) -> str:
    """What changes a proxy's or an arm's result besides its own parameters and seed: the
    proxy, the quota's language policy, the languages, the held-out text, the sampler's
    λ scale and the search's sample seed. Results live in a folder named by it."""
    import hashlib
    import json

    from thresher.settings.loading import as_data

    mixture = settings.mixture
    parts = {
        "proxy": as_data(settings.proxy),
        "heldout": as_data(settings.heldout),
        "languages": list(settings.languages),
        "tatoeba_start": settings.murating.tatoeba_lines,
        "quota": [mixture.language_policy, mixture.language_alpha, mixture.explicit_shares],
        "lambda_scale": mixture.lambda_scale,
        "sample_seed": settings.mixture_search.sample_seed,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:8]


def experiment_dir(experiment: str, settings: Settings, mixture: str, fingerprint: str) -> str:
    """Relative folder (under the checkpoint root) of one experiment over one pool: a re-run,
    or a larger K, finds every finished proxy or arm of earlier runs there."""
    return f"{experiment}/{mixture}/{fingerprint}-{experiment_key(settings)}"


def import_entry(entry: str):
    import importlib

    module, _, function = entry.partition(":")
    return getattr(importlib.import_module(module), function)


# ── argument builders (what a model step is told; everything else is in its settings) ──


def _tokenizer(corpus: str, folder: str, vocab_size: int) -> list[list[str]]:
    return [
        ["--corpus", corpus, "--output", f"{folder}/tokenizer", "--vocab-size", str(vocab_size)]
    ]


def tokenizer_arguments(settings: Settings, ref: Ref) -> list[list[str]]:
    return _tokenizer(ref("features", "path"), ref("features", "dir"), settings.proxy.vocab_size)


def language_mix_tokenizer_arguments(settings: Settings, ref: Ref) -> list[list[str]]:
    vocab_size = settings.language_mix.vocab_size
    return _tokenizer(ref("pool", "path"), ref("pool", "experiment_dir"), vocab_size)


def _common(ref: Ref, folder_flag: str) -> list[str]:
    return [
        "--features",
        ref("features", "path"),
        folder_flag,
        ref("features", "dir"),
        "--tokenizer",
        f"{ref('features', 'dir')}/tokenizer",
        "--parent-run-id",
        ref("open", "run_id"),
    ]


def proxy_arguments(settings: Settings, ref: Ref) -> list[list[str]]:
    """Set k = 0..K-1 at seed 1 (set 0 also measures its learning curve), then the first
    ``noise_sets`` sets again at seeds 2..``seeds``: the seed noise."""
    search = settings.mixture_search
    base = _common(ref, "--search-dir")
    runs = [
        [*base, "--index", str(k), "--seed", "1", *(["--curve"] if k == 0 else [])]
        for k in range(search.proxies)
    ]
    runs += [
        [*base, "--index", str(k), "--seed", str(seed)]
        for k in range(search.noise_sets)
        for seed in range(2, search.seeds + 1)
    ]
    return runs


def choose_arguments(settings: Settings, ref: Ref) -> list[list[str]]:
    return [["--search-dir", ref("features", "dir"), "--parent-run-id", ref("open", "run_id")]]


def confirm_arguments(settings: Settings, ref: Ref) -> list[list[str]]:
    """The chosen parameters and the best random draw, each at seeds 1..``seeds``."""
    base = _common(ref, "--search-dir")
    return [
        [*base, "--params", ref("choose", key), "--seed", str(seed), "--role", role]
        for role, key in (("chosen", "params_path"), ("best_random", "best_proxy_params_path"))
        for seed in range(1, settings.mixture_search.seeds + 1)
    ]


def cell_arguments(settings: Settings, ref: Ref) -> list[list[str]]:
    """One language-mix cell per (english_share, parallel_share) of the grid; its model, run
    and evaluation are ``settings.language_mix``."""
    base = [
        "--pool",
        ref("pool", "path"),
        "--experiment-dir",
        ref("pool", "experiment_dir"),
        "--language",
        ref("pool", "language"),
        "--parent-run-id",
        ref("open", "run_id"),
    ]
    return [
        [*base, "--english-share", f"{english:g}", "--parallel-share", f"{parallel:g}"]
        for english, parallel in settings.language_mix.grid
    ]


def arm_arguments(settings: Settings, ref: Ref) -> list[list[str]]:
    base = _common(ref, "--study-dir")
    study = settings.selection
    return [
        [*base, "--arm", arm, "--seed", str(seed)]
        for arm in study.arms
        for seed in range(1, study.seeds + 1)
    ]


_HERE = "thresher.experiments"
FEATURES = Step(
    "features",
    SPARK,
    "spark_jobs.experiment_steps:features",
    "σ per criterion (within each language), domain, language, tokens and text of every "
    "scored document: gold.search_features_<mixture>, and the experiment's folder",
)
TOKENIZER = Step(
    "tokenizer",
    MODEL,
    "models.pretrain.tokenizer",
    "the BPE every proxy of the experiment shares, trained on the pool",
    after=("features",),
    arguments=f"{_HERE}:tokenizer_arguments",
    cpu="4",
)


def mixture_param(description: str) -> RunParam:
    """The ``mixture`` param: a gold.mixture_<name> name, by default the settings' mixture."""
    return RunParam("mixture", "mixture.name", names.TABLE_NAME_PATTERN, description)


def gpu_step(name: str, entry: str, description: str, after: tuple, arguments: str, pool: str):
    """A mapped model step whose every task trains a small model: a GPU each, in the Airflow
    pool the settings path ``pool`` names. ``arguments``: a builder here, or "module:function"."""
    return Step(
        name,
        MODEL,
        entry,
        description,
        after=after,
        arguments=arguments if ":" in arguments else f"{_HERE}:{arguments}",
        mapped=True,
        gpus=1,
        cpu="4",
        memory="16Gi",
        pool=pool,
    )


MIXTURE_SEARCH = Experiment(
    "mixture_search",
    (
        FEATURES,
        TOKENIZER,
        Step(
            "open",
            DRIVER,
            "thresher.mixture_search:open_search_run",
            "the parent MLflow run, with the K sampled parameter sets",
            after=("features",),
        ),
        gpu_step(
            "proxy",
            "models.mixture_search.proxy",
            "one proxy per parameter set (and the seed-noise repeats): its mixture under the "
            "quota, a small LM, bits per byte on the search half of the held-out text",
            ("tokenizer", "open"),
            "proxy_arguments",
            "mixture_search.proxy_pool",
        ),
        Step(
            "choose",
            MODEL,
            "models.mixture_search.choose",
            "LightGBM against the mean and ridge, with intervals; the chosen parameters",
            after=("proxy",),
            arguments=f"{_HERE}:choose_arguments",
            cpu="4",
        ),
        gpu_step(
            "confirm",
            "models.mixture_search.proxy",
            "the chosen parameters and the best random draw, trained with every seed",
            ("choose",),
            "confirm_arguments",
            "mixture_search.proxy_pool",
        ),
        Step(
            "report",
            DRIVER,
            "thresher.mixture_search_report:report",
            "regression, seed noise, learning curve and confirmation, on the parent run",
            after=("features", "open", "proxy", "choose", "confirm"),
        ),
        Step(
            "final_mixture",
            SPARK,
            "spark_jobs.experiment_steps:final_mixture",
            "gold.mixture_<final_mixture> from the chosen parameters; closes the parent run",
            after=("open", "choose", "report"),
        ),
    ),
    params=(
        mixture_param("the mixture whose criteria and sources are searched"),
        RunParam(
            "final_mixture",
            "mixture_search.final_mixture",
            names.TABLE_NAME_PATTERN,
            "the chosen parameters build gold.mixture_<final_mixture>",
        ),
    ),
    tracking="mixture_search.experiment",
    description="QuaDMix parameter search: proxies on sampled mixtures under a quota, "
    "LightGBM against the mean and ridge, the choice confirmed with seeds.",
    tags=("quadmix", "mixture-search", "gpu", "mlflow"),
)

SELECTION_STUDY = Experiment(
    "selection_study",
    (
        FEATURES,
        TOKENIZER,
        Step(
            "open",
            DRIVER,
            "thresher.selection_study:open_study",
            "the parent MLflow run of the study",
            after=("features",),
        ),
        gpu_step(
            "arm",
            "models.selection.arm",
            "one arm and seed: its selection under the quota, the proxy trained on it, bits "
            "per byte and choice accuracy on the test half of the held-out text",
            ("tokenizer", "open"),
            "arm_arguments",
            "selection.pool",
        ),
        Step(
            "summary",
            DRIVER,
            "thresher.selection_study:summarise",
            "every arm against random with 95 % intervals, the plot; closes the parent run",
            after=("features", "open", "arm"),
        ),
    ),
    params=(mixture_param("the mixture whose scored sources are the pool"),),
    tracking="selection.experiment",
    description="Controlled selection runs: each arm under one quota, a proxy per seed, "
    "held-out bits per byte against random with 95 % intervals.",
    tags=("quadmix", "selection", "gpu", "mlflow"),
)

LANGUAGE_MIX = Experiment(
    "language_mix",
    (
        Step(
            "pool",
            SPARK,
            "spark_jobs.experiment_steps:language_mix_pool",
            "the mixture's English and second-language documents and their parallel pairs: "
            "gold.language_mix_pool_<mixture>, and the experiment's folder",
        ),
        Step(
            "tokenizer",
            MODEL,
            "models.pretrain.tokenizer",
            "one BPE for every cell, so their losses compare",
            after=("pool",),
            arguments=f"{_HERE}:language_mix_tokenizer_arguments",
            cpu="4",
        ),
        Step(
            "open",
            DRIVER,
            "thresher.language_mix:open_experiment",
            "the parent MLflow run, with the grid of cells",
            after=("pool",),
        ),
        gpu_step(
            "cell",
            "models.language_mix.cell",
            "one cell per (english_share, parallel_share): its corpus, a small LM, accuracy "
            "per language and MLC on aligned items",
            ("tokenizer", "open"),
            "cell_arguments",
            "language_mix.pool",
        ),
        Step(
            "results",
            DRIVER,
            "thresher.language_mix:close_experiment",
            "accuracy per language, MLC and validation loss over the two knobs; closes the "
            "parent run",
            after=("pool", "open", "cell"),
        ),
    ),
    params=(
        mixture_param("the curated mixture whose documents the cells draw from"),
        RunParam(
            "language",
            "language_mix.language",
            names.LANGUAGE_PATTERN,
            "the language paired with English (ISO 639-1)",
        ),
    ),
    tracking="language_mix.experiment",
    description="MuBench study: English ratio × parallel share → small LMs → accuracy and MLC.",
    tags=("mubench", "pretraining", "gpu", "mlflow"),
)

POSO = Experiment(
    "poso",
    (
        Step(
            "events",
            SPARK,
            "spark_jobs.experiment_steps:poso_events",
            "MovieLens-format events → silver.poso_events / _users / _items with the "
            "cold-start split, and the Parquet export the cells read",
        ),
        Step(
            "open",
            DRIVER,
            "models.poso.experiment:open_grid",
            "the parent MLflow run, with the grid and the events' counts per split and group",
            after=("events",),
        ),
        gpu_step(
            "train",
            "models.poso.train",
            "one model and seed of the grid: trained to its best validation GAUC, scored on "
            "new, regular and all users; a child run of the parent",
            ("events", "open"),
            "models.poso.grid:cell_arguments",
            "poso.pool",
        ),
        Step(
            "summary",
            DRIVER,
            "models.poso.experiment:close_grid",
            "each POSO variant's paired difference to its plain twin with 95 % intervals, "
            "the table and the plot; closes the parent run",
            after=("open", "train"),
        ),
    ),
    params=(
        RunParam(
            "dataset",
            "poso.dataset",
            names.LABEL_PATTERN,
            "partition of silver.poso_* and of the export",
        ),
        RunParam(
            "input_path",
            "poso.input_path",
            r"^$|" + names.PATH_PATTERN,
            "MovieLens-format folder; empty: ML-100K from recbole",
        ),
    ),
    tracking="poso.experiment",
    description="POSO cold-start experiments: baseline vs POSO(MLP/MMoE/MHA) over seeds.",
    tags=("poso", "recsys", "gpu", "mlflow"),
)

EXPERIMENTS = {e.name: e for e in (MIXTURE_SEARCH, SELECTION_STUDY, LANGUAGE_MIX, POSO)}
