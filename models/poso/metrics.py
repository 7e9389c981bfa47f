"""AUC, GAUC (AUC per user, averaged) and both per user group.

GAUC follows DIN and POSO: each user's AUC weighted by that user's events,
Σ_u n_u·AUC_u / Σ_u n_u, over users who have both a positive and a negative event (AUC
is undefined otherwise; how many users counted is reported). ``weighting="uniform"`` gives
the plain mean over users. Ties in score count half (the Mann-Whitney statistic).
"""

from __future__ import annotations

import numpy as np

GROUPS = ("overall", "new", "regular")


def _average_ranks(scores: np.ndarray) -> np.ndarray:
    """1-based ranks of ``scores``, tied values sharing their mean rank."""
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    upper = np.cumsum(counts)
    return (upper - (counts - 1) / 2.0)[inverse]


def auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the ROC curve; None when only one class is present."""
    labels = np.asarray(labels) > 0.5
    positives = int(labels.sum())
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return None
    ranks = _average_ranks(np.asarray(scores, dtype=np.float64))
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def gauc(
    labels: np.ndarray,
    scores: np.ndarray,
    users: np.ndarray,
    weighting: str = "impressions",
) -> tuple[float | None, int]:
    """(GAUC, users counted). ``weighting``: "impressions" (events per user) or "uniform"."""
    if weighting not in ("impressions", "uniform"):
        raise ValueError(f"weighting must be 'impressions' or 'uniform', got {weighting!r}")
    labels, scores, users = np.asarray(labels), np.asarray(scores), np.asarray(users)
    order = np.argsort(users, kind="stable")
    _, starts = np.unique(users[order], return_index=True)
    total = weight = 0.0
    counted = 0
    for rows in np.split(order, starts[1:]):
        value = auc(labels[rows], scores[rows])
        if value is None:
            continue
        w = len(rows) if weighting == "impressions" else 1.0
        total += w * value
        weight += w
        counted += 1
    return (total / weight if counted else None), counted


def logloss(labels: np.ndarray, probabilities: np.ndarray) -> float:
    p = np.clip(np.asarray(probabilities, dtype=np.float64), 1e-7, 1 - 1e-7)
    y = np.asarray(labels, dtype=np.float64)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def group_metrics(
    labels: np.ndarray, probabilities: np.ndarray, users: np.ndarray, is_new: np.ndarray
) -> dict[str, dict]:
    """AUC, GAUC, log loss, events and positive rate: overall, new users, regular users."""
    is_new = np.asarray(is_new, dtype=bool)
    out = {}
    for group, mask in (("overall", np.ones_like(is_new)), ("new", is_new), ("regular", ~is_new)):
        y, p, u = labels[mask].astype(np.float64), probabilities[mask], users[mask]
        g, counted = gauc(y, p, u) if len(y) else (None, 0)
        out[group] = {
            "events": int(mask.sum()),
            "positive_rate": float(y.mean()) if len(y) else None,
            "auc": auc(y, p) if len(y) else None,
            "gauc": g,
            "gauc_users": counted,
            "logloss": logloss(y, p) if len(y) else None,
        }
    return out


def flatten(prefix: str, metrics: dict[str, dict]) -> dict[str, float]:
    """``{"new": {"gauc": x}}`` → ``{"<prefix>.new.gauc": x}``, leaving out undefined values."""
    return {
        f"{prefix}.{group}.{name}": float(value)
        for group, values in metrics.items()
        for name, value in values.items()
        if value is not None
    }
