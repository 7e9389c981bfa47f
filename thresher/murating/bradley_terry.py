"""Bradley–Terry aggregation of several raters' pairwise judgments, and the pairwise loss.

Model: P(i beats j) = σ(θ_i − θ_j). Each pointwise rater r turns its scores into a soft
preference per sampled pair, p_r(i, j) = σ((s_r,i − s_r,j) / (τ · spread_r)), where spread_r
is the rater's interquartile range (so every rater speaks on the same scale whatever its
units) and τ a temperature; a tie is p = 0.5. A pairwise rater (QuRating's LLM judge: two
documents read together) gives its P(i beats j) on its own pairs directly. The unified score
θ maximises the likelihood of all raters' soft outcomes together, fitted by Hunter's (2004)
MM iteration, with a few virtual games against an average item (a Beta-like prior) so that a
document that won or lost every comparison still has a finite score. Pure numpy: it runs in
a Spark driver.

``pairwise_loss`` is QuRating's objective (``train_qurater.py``): binary cross-entropy between
σ(r_a − r_b) and the soft label p, whose gradient in the score difference is σ(Δ) − p.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))


def spread(scores: np.ndarray) -> float:
    """Interquartile range, falling back to the standard deviation, then to 1."""
    q1, q3 = np.percentile(scores, [25, 75])
    return float(q3 - q1) or float(np.std(scores)) or 1.0


def preferences(scores: np.ndarray, a: np.ndarray, b: np.ndarray, temperature: float) -> np.ndarray:
    """One rater's soft preference P(a beats b) for each pair."""
    scores = np.asarray(scores, dtype=float)
    return sigmoid((scores[a] - scores[b]) / (temperature * spread(scores)))


def fit(
    n: int,
    a: np.ndarray,
    b: np.ndarray,
    p: np.ndarray,
    prior_games: float = 1.0,
    max_iter: int = 2000,
    tol: float = 1e-8,
) -> np.ndarray:
    """θ (mean 0) of ``n`` items from soft outcomes ``p`` = P(a beats b), pairs may repeat."""
    a, b, p = np.asarray(a, int), np.asarray(b, int), np.asarray(p, float)
    if not (len(a) == len(b) == len(p)):
        raise ValueError("a, b and p must have one entry per comparison")
    if np.any((p < 0) | (p > 1)):
        raise ValueError("outcomes must be probabilities in [0, 1]")
    wins = np.bincount(a, p, n) + np.bincount(b, 1 - p, n) + prior_games / 2
    strength = np.ones(n)
    for _ in range(max_iter):
        inverse = 1.0 / (strength[a] + strength[b])
        games = np.bincount(a, inverse, n) + np.bincount(b, inverse, n)
        games += prior_games / (strength + 1.0)
        updated = wins / games
        updated /= np.exp(np.mean(np.log(updated)))  # fix the scale: geometric mean 1
        change = np.max(np.abs(np.log(updated) - np.log(strength)))
        strength = updated
        if change < tol:
            break
    theta = np.log(strength)
    return theta - theta.mean()


Comparisons = tuple[np.ndarray, np.ndarray, np.ndarray]  # (a, b, P(a beats b))


def aggregate(
    scores: Mapping[str, np.ndarray],
    a: np.ndarray,
    b: np.ndarray,
    temperature: float = 0.5,
    prior_games: float = 1.0,
    judged: Mapping[str, Comparisons] | None = None,
) -> np.ndarray:
    """The unified score: one Bradley–Terry fit over every pointwise rater's preferences on
    the pairs (a, b) and every pairwise rater's own judgments (``judged``: its pairs and its
    P(a beats b), e.g. an LLM that read both documents together)."""
    names = sorted(scores)
    n = len(scores[names[0]])
    parts = [(a, b, preferences(scores[r], a, b, temperature)) for r in names]
    parts += [tuple(np.asarray(x) for x in judged[r]) for r in sorted(judged or {})]
    left, right, p = (np.concatenate([part[i] for part in parts]) for i in range(3))
    return fit(n, left, right, p, prior_games)


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's ρ (average ranks for ties); nan when either side is constant."""
    from scipy.stats import spearmanr

    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(spearmanr(x, y).statistic)


def pairwise_agreement(x: np.ndarray, y: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Share of the pairs both orderings decide (no tie) on which they agree."""
    dx, dy = np.sign(x[a] - x[b]), np.sign(y[a] - y[b])
    decided = (dx != 0) & (dy != 0)
    return float(np.mean(dx[decided] == dy[decided])) if decided.any() else float("nan")


def agreement_report(
    scores: Mapping[str, np.ndarray],
    unified: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    judged: Mapping[str, Comparisons] | None = None,
) -> dict[str, float]:
    """Inter-rater and rater-vs-unified Spearman ρ and pairwise agreement, flat for MLflow
    (a pairwise rater: how often the unified order agrees with its decided judgments)."""
    out: dict[str, float] = {}
    for r, (ja, jb, jp) in sorted((judged or {}).items()):
        ja, jb, jp = np.asarray(ja, int), np.asarray(jb, int), np.asarray(jp, float)
        decided = jp != 0.5
        agree = np.sign(unified[ja] - unified[jb]) == np.sign(jp - 0.5)
        out[f"unified:{r}.pairwise"] = float(agree[decided].mean()) if decided.any() else np.nan
        out[f"{r}.judgments"] = float(len(jp))
    names = sorted(scores)
    for i, r in enumerate(names):
        for s in names[i + 1 :]:
            out[f"raters.{r}:{s}.spearman"] = spearman(scores[r], scores[s])
            out[f"raters.{r}:{s}.pairwise"] = pairwise_agreement(scores[r], scores[s], a, b)
        out[f"unified:{r}.spearman"] = spearman(unified, scores[r])
        out[f"unified:{r}.pairwise"] = pairwise_agreement(unified, scores[r], a, b)
    return out


def pairwise_loss(delta, target):
    """Mean BCE of σ(delta) against soft labels ``target`` (torch tensors), stable in delta."""
    import torch.nn.functional as F

    return F.binary_cross_entropy_with_logits(delta, target)
