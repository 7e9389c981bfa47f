"""Train the experiments' proxy on a mixture and score it on held-out text.

What every proxy of a mixture search and every arm of the selection study runs, so the two
compare: the proxy of ``Settings.proxy`` (one size, one run length, the shared tokenizer)
trains on the pool's documents repeated by their copies, then ``evaluate`` scores it on a
half of the held-out text (``thresher.corpora.heldout``): bits per byte per language and per
set, and accuracy with MLC on the aligned choice tasks.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.mixture_search.features import FeaturePool
from models.pretrain.corpus import Corpus, tokenize
from models.pretrain.train import TrainConfig, train
from thresher.config import Settings
from thresher.corpora.heldout import heldout_items
from thresher.corpora.items import Item
from thresher.corpora.sources import default_data_root
from thresher.entrypoint import BadInput, Tracker


def task_parser(prog: str, folder_flag: str, parent: str) -> argparse.ArgumentParser:
    """The arguments every task that trains the proxy takes, as ``thresher.experiments``
    builds them: the pool's features, the experiment's folder (``folder_flag``), the shared
    tokenizer and the parent MLflow run (of ``parent``)."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--features", required=True, help="gold.search_features_<name> path")
    parser.add_argument(folder_flag, required=True, help="relative: under the checkpoints")
    parser.add_argument("--tokenizer", required=True, help="relative: under the checkpoints")
    parser.add_argument("--parent-run-id", default="", help=f"MLflow run of {parent}")
    return parser


def train_config(settings: Settings, seed: int) -> TrainConfig:
    """The proxy's run (``Settings.proxy``), its loss logged every 25 steps (the points of the
    curve a learning-curve run reports)."""
    return TrainConfig.short_run(settings.proxy, seed, log_every=25)


@dataclass
class HeldOut:
    """One half of the held-out text: perplexity items and aligned choice items."""

    texts: list[Item]
    choices: list[Item]

    @classmethod
    def load(cls, settings: Settings, which: str) -> HeldOut:
        config = settings.heldout
        root = Path(config.data_path) if config.data_path else default_data_root()
        start = settings.murating.tatoeba_lines  # MuRating's Tatoeba lines end here
        languages = settings.languages

        def items(sets):
            return heldout_items(sets, languages, which, root, start, config.limit)

        texts = items(config.sets)
        if not texts:
            raise BadInput(f"no held-out text in languages {languages} under {root}")
        return cls(texts, items(config.choice_sets) if config.choice_sets else [])


def mixture_corpus(pool: FeaturePool, copies: np.ndarray) -> Corpus:
    """The pool's documents with at least one copy, to be repeated by their copies."""
    picked = np.flatnonzero(copies > 0)
    return Corpus(
        texts=[pool.texts[i] for i in picked],
        languages=[pool.languages[i] for i in picked],
        domains=[str(pool.domains[i]) for i in picked],
        copies=np.asarray(copies[picked], dtype=np.int64),
        validation=np.zeros(len(picked), dtype=bool),
    )


def evaluate(model, tokenizer, heldout: HeldOut, settings: Settings, texts_only=False) -> dict:
    """Bits per byte per language (over every set: Σ bits / Σ bytes) and per set, their mean
    over languages (each language weighs alike), and per choice task accuracy (mean over
    languages), its chance level and MLC (Thresher definition, mean over language pairs)."""
    from models.mubench import metrics
    from models.mubench.evaluate import score_items, split_kinds
    from models.mubench.scoring import CausalLMScorer

    config = settings.heldout
    scorer = CausalLMScorer(model, tokenizer, batch_size=config.batch_size)
    items = heldout.texts if texts_only else heldout.texts + heldout.choices
    choices, texts = split_kinds(score_items(items, scorer))
    model.train()  # the scorer put it in eval mode; a learning curve goes on training
    bits = -texts["logprob"] / math.log(2)
    per_language = (
        bits.groupby(texts["language"]).sum() / texts.groupby("language")["n_bytes"].sum()
    )
    by_set: dict[str, dict[str, float]] = {}
    for row in metrics.perplexity(texts).itertuples():
        by_set.setdefault(row.task, {})[row.language] = float(row.bits_per_byte)
    out = {
        "bpb_by_language": {k: float(v) for k, v in per_language.sort_index().items()},
        "bpb_by_set": by_set,
        "bpb_mean": float(per_language.mean()),
    }
    if texts_only or not len(choices):
        return out
    column = metrics.VARIANTS[config.variant]
    accuracy = metrics.accuracy(choices, column)
    summary = metrics.consistency_summary(choices, column).set_index("task")
    options = choices.groupby("task")["option_chars"].apply(
        lambda s: float(np.mean([1 / len(o) for o in s]))
    )
    out["choice"] = {
        task: {
            "accuracy": float(summary.loc[task, "accuracy"]),
            "chance": float(options[task]),
            "items": int((choices["task"] == task).sum()),
            "by_language": {
                r.language: float(r.accuracy)
                for r in accuracy[accuracy["task"] == task].itertuples()
            },
            "mlc": _finite(summary.loc[task, "mlc"]),
        }
        for task in summary.index
    }
    return out


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def unigram_bpb(tokenizer, corpus: Corpus, heldout: HeldOut) -> float:
    """Bits per byte of a unigram model of the training tokens (add-one smoothed) on the
    held-out texts: the level a proxy that learned nothing beyond token frequencies reaches."""
    vocabulary = len(tokenizer)
    counts = np.ones(vocabulary)
    for ids, copies in zip(tokenize(tokenizer, corpus.texts), corpus.copies, strict=True):
        np.add.at(counts, ids, copies)
    log_p = np.log2(counts / counts.sum())
    texts = [item.options[0] for item in heldout.texts]
    bits = sum(-log_p[ids].sum() for ids in tokenize(tokenizer, texts))
    return float(bits / sum(len(t.encode("utf-8")) for t in texts))


class Recording(Tracker):
    """A tracker that keeps the training loss curve and passes everything on."""

    def __init__(self, inner: Tracker) -> None:
        self.inner, self.run_id, self.losses = inner, inner.run_id, []

    def log_params(self, params) -> None:
        self.inner.log_params(params)

    def log_metrics(self, metrics, step: int) -> None:
        if "train_loss" in metrics:
            self.losses.append([step, float(metrics["train_loss"])])
        self.inner.log_metrics(metrics, step)

    def log_artifact(self, path, artifact_path=None) -> None:
        self.inner.log_artifact(path, artifact_path)


def train_and_evaluate(
    pool: FeaturePool,
    copies: np.ndarray,
    settings: Settings,
    seed: int,
    tokenizer,
    output: Path,
    tracker: Tracker,
    heldout: HeldOut,
    curve: bool = False,
) -> dict:
    """Train the proxy on the mixture ``copies`` selects and score it on ``heldout``.

    With ``curve``, held-out bits per byte is also measured at ``proxy.curve_points`` evenly
    spaced steps, beside the unigram baseline. Raises ``BadInput`` (``fewer than one
    batch``) when the mixture is too small to train on.
    """
    import torch
    from transformers import LlamaForCausalLM

    torch.set_num_threads(settings.proxy.threads)
    config = train_config(settings, seed)
    corpus = mixture_corpus(pool, copies)
    points: list[list[float]] = []
    marks = set()
    if curve:
        count = settings.proxy.curve_points
        marks = {round(config.max_steps * (i + 1) / count) for i in range(count)}

    def measure(step: int, model) -> None:
        if step in marks and step < config.max_steps:
            points.append([step, evaluate(model, tokenizer, heldout, settings, True)["bpb_mean"]])

    recording = Recording(tracker)
    trained = train(config, corpus, tokenizer, output, recording, measure if curve else None)
    model = LlamaForCausalLM.from_pretrained(trained["model"])
    result = evaluate(model, tokenizer, heldout, settings)
    summary = {
        **result,
        "steps": trained["steps"],
        "epochs": trained["epochs"],
        "parameters": trained["parameters"],
        "resumed_from_step": trained["resumed_from_step"],
        "train_loss": recording.losses[-1][1],
    }
    if curve:
        points.append([config.max_steps, result["bpb_mean"]])
        summary["curve"] = {
            "held_out_bpb": points,
            "train_loss": recording.losses,
            "unigram_bpb": unigram_bpb(tokenizer, corpus, heldout),
        }
    return summary
