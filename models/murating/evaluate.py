"""MuRating's evaluation: pairwise accuracy, cross-lingual consistency, English agreement.

- ``pairwise_accuracy``: on held-out non-parallel pairs whose label is decided
  (|p − 0.5| ≥ ``margin``), the share where the rater orders the pair as the label does;
  per pair type, and per language, parallel source and length bucket (characters, edges
  ``LENGTH_EDGES``) of its documents — a pair whose documents differ in one of these counts
  once for each of its two values.
- ``parallel_spearman``: for held-out units with an English side, Spearman's ρ between the
  rater's score of the English document and of its version in language L, per L.
- ``english_agreement``: on held-out English documents, Spearman's ρ between the rater and
  the unified (Bradley–Terry) English score, and the pairwise accuracy on English pairs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from thresher.murating.bradley_terry import spearman

# Length buckets of a document, in characters: the legacy read covers the first bucket whole.
LENGTH_EDGES = (256, 1000, 2000)


def length_bucket(chars: int) -> str:
    low = 0
    for edge in LENGTH_EDGES:
        if chars <= edge:
            return f"{low}-{edge}"
        low = edge + 1
    return f"{low}+"


def _accuracy_by(frame: pd.DataFrame, side_a: pd.Series, side_b: pd.Series) -> dict:
    """Mean of ``correct`` per value, a pair counting once for each distinct value of its two."""
    out: dict[str, list[float]] = {}
    for a, b, correct in zip(side_a, side_b, frame["correct"], strict=True):
        for value in {a, b}:
            out.setdefault(str(value), []).append(correct)
    return {k: float(np.mean(v)) for k, v in sorted(out.items())}


def decided_pairs(pairs: pd.DataFrame, score_a, score_b, margin: float = 0.1) -> pd.DataFrame:
    """Held-out non-parallel pairs with a decided label, and whether the scores order them
    as the label does (``correct``: 1.0 or 0.0; a tie of the scores counts as wrong)."""
    frame = pairs.assign(score_a=np.asarray(score_a), score_b=np.asarray(score_b))
    frame = frame[(frame["pair_type"] != "parallel") & ((frame["label"] - 0.5).abs() >= margin)]
    correct = np.sign(frame["score_a"] - frame["score_b"]) == np.sign(frame["label"] - 0.5)
    return frame.assign(correct=correct.astype(float))


def pairwise_accuracy(pairs: pd.DataFrame, score_a, score_b, margin: float = 0.1) -> dict:
    """Overall, per pair type, per language, per source and per length bucket."""
    frame = decided_pairs(pairs, score_a, score_b, margin)
    lengths = [frame[f"text_{s}"].str.len().map(length_bucket) for s in ("a", "b")]
    return {
        "by_language": _accuracy_by(frame, frame["language_a"], frame["language_b"]),
        "by_source": _accuracy_by(frame, frame["source_a"], frame["source_b"]),
        "by_length": _accuracy_by(frame, *lengths),
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
        "pairwise_accuracy_by_source": accuracy["by_source"],
        "pairwise_accuracy_by_length": accuracy["by_length"],
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
