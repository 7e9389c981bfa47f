"""MuRating's evaluation: pairwise accuracy, cross-lingual consistency, English agreement.

- ``pairwise_accuracy``: on held-out non-parallel pairs whose label is decided
  (|p − 0.5| ≥ ``margin``), the share where the rater orders the pair as the label does;
  per language (a cross-lingual pair counts for both its languages) and per pair type.
- ``parallel_spearman``: for held-out units with an English side, Spearman's ρ between the
  rater's score of the English document and of its version in language L, per L.
- ``english_agreement``: on held-out English documents, Spearman's ρ between the rater and
  the unified (Bradley–Terry) English score, and the pairwise accuracy on English pairs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from thresher.murating.bradley_terry import spearman


def pairwise_accuracy(pairs: pd.DataFrame, score_a, score_b, margin: float = 0.1) -> dict:
    """``{"by_language": {...}, "by_pair_type": {...}, "overall": x, "pairs": n}``."""
    frame = pairs.assign(score_a=np.asarray(score_a), score_b=np.asarray(score_b))
    frame = frame[(frame["pair_type"] != "parallel") & ((frame["label"] - 0.5).abs() >= margin)]
    correct = np.sign(frame["score_a"] - frame["score_b"]) == np.sign(frame["label"] - 0.5)
    frame = frame.assign(correct=correct.astype(float))
    by_language: dict[str, list[float]] = {}
    for row in frame.itertuples(index=False):
        for language in {row.language_a, row.language_b}:
            by_language.setdefault(language, []).append(row.correct)
    return {
        "by_language": {k: float(np.mean(v)) for k, v in sorted(by_language.items())},
        "by_pair_type": frame.groupby("pair_type")["correct"].mean().to_dict(),
        "overall": float(frame["correct"].mean()) if len(frame) else float("nan"),
        "pairs": len(frame),
    }


def parallel_spearman(docs: pd.DataFrame, scores, english: str = "en") -> dict[str, float]:
    """ρ(score of the English side, score of the L side) over units, per language L."""
    frame = docs.assign(rating=np.asarray(scores))[["unit_id", "language", "rating"]]
    wide = frame.pivot_table(index="unit_id", columns="language", values="rating")
    if english not in wide:
        return {}
    out = {}
    for language in sorted(c for c in wide.columns if c != english):
        both = wide[[english, language]].dropna()
        if len(both) >= 3:
            out[language] = spearman(both[english].to_numpy(), both[language].to_numpy())
    return out


def english_agreement(docs: pd.DataFrame, scores, pairs_accuracy: dict, english="en") -> dict:
    mask = (docs["language"] == english).to_numpy()
    return {
        "spearman": spearman(np.asarray(scores)[mask], docs["score"].to_numpy()[mask]),
        "pairwise_accuracy": pairs_accuracy["by_language"].get(english, float("nan")),
        "documents": int(mask.sum()),
    }


def evaluate(docs: pd.DataFrame, doc_scores, pairs: pd.DataFrame, margin: float = 0.1) -> dict:
    """All three, from held-out ``docs`` (with their rater scores) and held-out ``pairs``."""
    lookup = dict(zip(docs["doc_key"], np.asarray(doc_scores, dtype=float), strict=True))
    score_a = pairs["doc_a"].map(lookup).to_numpy()
    score_b = pairs["doc_b"].map(lookup).to_numpy()
    accuracy = pairwise_accuracy(pairs, score_a, score_b, margin)
    parallel = parallel_spearman(docs, doc_scores)
    others = [v for k, v in accuracy["by_language"].items() if k != "en"]
    return {
        "pairwise_accuracy_by_language": accuracy["by_language"],
        "pairwise_accuracy_by_pair_type": accuracy["by_pair_type"],
        "pairwise_accuracy_overall": accuracy["overall"],
        "pairwise_accuracy_other_languages_mean": float(np.mean(others)) if others else None,
        "pairwise_pairs": accuracy["pairs"],
        "parallel_spearman_by_language": parallel,
        "parallel_spearman_mean": float(np.nanmean(list(parallel.values()))) if parallel else None,
        "english_agreement": english_agreement(docs, doc_scores, accuracy),
        "margin": margin,
    }


def json_safe(value):
    """``value`` with every non-finite float (an undefined ρ on a tiny split) as None."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def flat_metrics(report: dict, prefix: str = "eval") -> dict[str, float]:
    """The numeric leaves of ``report`` as ``prefix.a.b`` → float, for MLflow."""
    out: dict[str, float] = {}

    def walk(value, name):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{name}.{k}")
        elif isinstance(value, (int, float)) and value is not None and np.isfinite(value):
            out[name] = float(value)

    walk(report, prefix)
    return out
