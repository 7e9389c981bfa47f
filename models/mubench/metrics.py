"""Accuracy, Multilingual Consistency and aligned perplexity on a table of predictions.

Every function is pure: a pandas DataFrame in, a DataFrame (or a JSON-ready dict) out. A
choice table has one row per ``(task, item_id, language)`` with the chosen option in
``predicted`` (or another column named by ``column``) and the correct one in ``answer``. A
perplexity table has ``logprob`` (natural log, summed), ``n_tokens`` and ``n_bytes``.

**MLC (Thresher definition).** MuBench (arXiv 2506.19468) proposes Multilingual Consistency
as a complement to accuracy on aligned items; its public text confirms only that MLC measures
whether a model's chosen answer agrees across languages on the same item, and that
Rel-MLC = MLC / mean accuracy. Until the paper's formula is confirmed this module computes,
per task, as /work/shared/PAPERS.md fixes it:

- ``MLC(L1, L2)`` = the share of the item_ids present in both languages on which the model's
  argmax option in L1 equals its argmax option in L2 (agreeing on a wrong option counts);
- ``Rel-MLC(L1, L2)`` = MLC(L1, L2) / the mean of the two languages' accuracies on those items;
- reported against a reference language (English by default) and as the mean over all
  unordered pairs of distinct languages, with task Rel-MLC = that mean / the mean of the
  languages' accuracies.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import combinations

import pandas as pd

MLC_NAME = "MLC (Thresher definition)"
MLC_DEFINITION = (
    "MLC(L1, L2) = share of aligned items (same task and item_id) on which the argmax option "
    "in L1 equals the argmax option in L2; Rel-MLC = MLC / mean accuracy of the languages "
    "compared; task values = mean over all unordered language pairs (PAPERS.md, MuBench "
    "section; the paper's own formula is not recovered)."
)
# Prediction columns of the evaluation table and the lm-eval-style name of each.
VARIANTS = {
    "acc": "predicted",
    "acc_norm": "predicted_norm",
    "acc_norm_token": "predicted_norm_token",
}


def option_predictions(
    logprobs: Sequence[float], n_chars: Sequence[int], n_tokens: Sequence[int]
) -> tuple[int, int, int]:
    """Chosen option by summed log-prob (``acc``), per character (``acc_norm``, lm-eval's)
    and per token (``acc_norm_token``, lighteval's token normalisation); ties go to the first."""

    def argmax(values: Sequence[float]) -> int:
        return max(range(len(values)), key=lambda i: (values[i], -i))

    per_char = [lp / max(n, 1) for lp, n in zip(logprobs, n_chars, strict=True)]
    per_token = [lp / max(n, 1) for lp, n in zip(logprobs, n_tokens, strict=True)]
    return argmax(logprobs), argmax(per_char), argmax(per_token)


def _check_unique(predictions: pd.DataFrame) -> None:
    if predictions.duplicated(["task", "item_id", "language"]).any():
        raise ValueError("predictions hold the same (task, item_id, language) more than once")


def accuracy(predictions: pd.DataFrame, column: str = "predicted") -> pd.DataFrame:
    """``task, language, n, accuracy``: the share of items whose ``column`` equals ``answer``."""
    _check_unique(predictions)
    correct = (predictions[column] == predictions["answer"]).astype(float)
    grouped = correct.groupby([predictions["task"], predictions["language"]])
    out = grouped.agg(["size", "mean"]).reset_index()
    return out.rename(columns={"size": "n", "mean": "accuracy"}).sort_values(["task", "language"])


def task_accuracy(predictions: pd.DataFrame, column: str = "predicted") -> pd.DataFrame:
    """``task, languages, accuracy``: each task's mean over its languages (each weighs alike)."""
    per_language = accuracy(predictions, column)
    grouped = per_language.groupby("task")["accuracy"]
    out = grouped.agg(["size", "mean"]).reset_index()
    return out.rename(columns={"size": "languages", "mean": "accuracy"})


def consistency(predictions: pd.DataFrame, column: str = "predicted") -> pd.DataFrame:
    """MLC per task and unordered language pair (``language_a`` < ``language_b``).

    Columns: ``task, language_a, language_b, n`` (shared item_ids), ``mlc``,
    ``accuracy_a``, ``accuracy_b`` (on the shared items) and ``rel_mlc``.
    """
    _check_unique(predictions)
    rows = []
    for task, frame in predictions.groupby("task", sort=True):
        chosen = frame.pivot(index="item_id", columns="language", values=column)
        right = frame.assign(_ok=frame[column] == frame["answer"]).pivot(
            index="item_id", columns="language", values="_ok"
        )
        for a, b in combinations(sorted(chosen.columns), 2):
            shared = chosen[[a, b]].dropna().index
            if len(shared) == 0:
                continue
            mlc = float((chosen.loc[shared, a] == chosen.loc[shared, b]).mean())
            acc_a = float(right.loc[shared, a].astype(float).mean())
            acc_b = float(right.loc[shared, b].astype(float).mean())
            mean_acc = (acc_a + acc_b) / 2
            rel = mlc / mean_acc if mean_acc > 0 else math.nan
            rows.append((task, a, b, len(shared), mlc, acc_a, acc_b, rel))
    columns = ["task", "language_a", "language_b", "n", "mlc", "accuracy_a", "accuracy_b"]
    return pd.DataFrame(rows, columns=[*columns, "rel_mlc"])


def consistency_summary(predictions: pd.DataFrame, column: str = "predicted") -> pd.DataFrame:
    """Per task: ``pairs``, ``mlc`` (mean over pairs), ``accuracy`` (mean over languages),
    ``rel_mlc`` (their ratio)."""
    pairs = consistency(predictions, column)
    per_task = task_accuracy(predictions, column).set_index("task")["accuracy"]
    rows = []
    for task, accuracy_ in per_task.items():
        task_pairs = pairs[pairs["task"] == task]
        mlc = float(task_pairs["mlc"].mean()) if len(task_pairs) else math.nan
        rel = mlc / accuracy_ if accuracy_ > 0 else math.nan
        rows.append((task, len(task_pairs), mlc, float(accuracy_), rel))
    return pd.DataFrame(rows, columns=["task", "pairs", "mlc", "accuracy", "rel_mlc"])


def against_reference(
    predictions: pd.DataFrame, reference: str = "en", column: str = "predicted"
) -> pd.DataFrame:
    """``task, language, n, mlc, rel_mlc`` of every language paired with ``reference``
    (tasks without the reference language have no rows)."""
    pairs = consistency(predictions, column)
    hit_a, hit_b = pairs["language_a"] == reference, pairs["language_b"] == reference
    other = pairs["language_b"].where(hit_a, pairs["language_a"])
    out = pairs.assign(language=other)[hit_a | hit_b]
    return out[["task", "language", "n", "mlc", "rel_mlc"]].reset_index(drop=True)


def perplexity(predictions: pd.DataFrame) -> pd.DataFrame:
    """Per task and language: ``n, n_tokens, n_bytes``, ``bits_per_byte`` (total negative
    log-likelihood in bits over total UTF-8 bytes, comparable across tokenizers and, on
    aligned texts, across languages) and ``token_perplexity`` (exp of the mean token NLL)."""
    _check_unique(predictions)
    sums = predictions.groupby(["task", "language"], sort=True).agg(
        n=("item_id", "size"),
        logprob=("logprob", "sum"),
        n_tokens=("n_tokens", "sum"),
        n_bytes=("n_bytes", "sum"),
    )
    sums["bits_per_byte"] = -sums["logprob"] / math.log(2) / sums["n_bytes"]
    sums["token_perplexity"] = (-sums["logprob"] / sums["n_tokens"]).map(math.exp)
    return sums.drop(columns="logprob").reset_index()


def _number(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def report(choices: pd.DataFrame, texts: pd.DataFrame, reference: str = "en") -> dict:
    """The JSON-ready summary: per task, accuracy of each variant per language and on
    average, MLC beside it; per perplexity task, bits per byte per language."""
    tasks: dict[str, dict] = {}
    if len(choices):
        for variant, column in VARIANTS.items():
            for row in accuracy(choices, column).itertuples():
                task = tasks.setdefault(row.task, {"kind": "choice", "languages": {}})
                entry = task["languages"].setdefault(row.language, {"n": int(row.n)})
                entry[variant] = float(row.accuracy)
        summaries = {v: consistency_summary(choices, c) for v, c in VARIANTS.items()}
        for variant, summary in summaries.items():
            for row in summary.itertuples():
                tasks[row.task][variant] = float(row.accuracy)
        for variant, summary in summaries.items():
            for row in summary.itertuples():
                mlc = tasks[row.task].setdefault("mlc", {"name": MLC_NAME, "reference": reference})
                mlc[variant] = {
                    "mean_pairwise": _number(row.mlc),
                    "rel_mlc": _number(row.rel_mlc),
                    "pairs": int(row.pairs),
                    "vs_reference": {},
                }
            for row in against_reference(choices, reference, VARIANTS[variant]).itertuples():
                tasks[row.task]["mlc"][variant]["vs_reference"][row.language] = {
                    "mlc": _number(row.mlc),
                    "rel_mlc": _number(row.rel_mlc),
                }
    if len(texts):
        for row in perplexity(texts).itertuples():
            task = tasks.setdefault(row.task, {"kind": "perplexity", "languages": {}})
            task["languages"][row.language] = {
                "n": int(row.n),
                "n_tokens": int(row.n_tokens),
                "n_bytes": int(row.n_bytes),
                "bits_per_byte": _number(row.bits_per_byte),
                "token_perplexity": _number(row.token_perplexity),
            }
    return {"mlc_definition": MLC_DEFINITION, "tasks": tasks}


def flat_metrics(report: Mapping, prefix: str = "mubench") -> dict[str, float]:
    """The report's numbers under flat names, for a tracker: ``<prefix>.<task>.<language>.<m>``,
    ``<prefix>.<task>.<variant>`` and ``<prefix>.<task>.mlc.<variant>.{mean_pairwise, rel_mlc,
    vs_<reference>.<language>[.rel]}``; undefined values (None) are left out."""
    out: dict[str, float] = {}

    def put(key: str, value: object) -> None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[key] = float(value)

    for task, body in report["tasks"].items():
        base = f"{prefix}.{task}"
        for language, values in body["languages"].items():
            for name, value in values.items():
                put(f"{base}.{language}.{name}", value)
        mlc = body.get("mlc", {})
        for variant in VARIANTS:
            put(f"{base}.{variant}", body.get(variant))
            if variant not in mlc:
                continue
            values, versus = mlc[variant], f"{base}.mlc.{variant}.vs_{mlc['reference']}"
            put(f"{base}.mlc.{variant}.mean_pairwise", values["mean_pairwise"])
            put(f"{base}.mlc.{variant}.rel_mlc", values["rel_mlc"])
            for language, pair in values["vs_reference"].items():
                put(f"{versus}.{language}", pair["mlc"])
                put(f"{versus}.{language}.rel", pair["rel_mlc"])
    return out
