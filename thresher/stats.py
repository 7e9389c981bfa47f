"""Intervals every experiment reports: Student-t over seeds, paired differences, bootstrap.

No claim without its interval: a mean over n seeds comes with the half-width of its 95 %
Student-t interval, a difference between two arms is paired by seed (the same seed draws the
same random numbers in both), and a statistic over a search's proxies is bootstrapped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

LEVEL = 0.95


def mean_ci(values: Sequence[float], level: float = LEVEL) -> dict:
    """``mean``, ``ci95`` (the half-width; None for fewer than two values), ``std``, ``n``."""
    from scipy import stats

    x = np.asarray([v for v in values if v is not None], dtype=np.float64)
    n = len(x)
    if n == 0:
        return {"mean": None, "ci95": None, "std": None, "n": 0}
    if n == 1:
        return {"mean": float(x[0]), "ci95": None, "std": None, "n": 1}
    std = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * std / math.sqrt(n))
    return {"mean": float(x.mean()), "ci95": half, "std": std, "n": n}


def wilson(successes: int, n: int, z: float = 1.96) -> list[float]:
    """95% Wilson interval of a proportion of ``n`` (a share of documents, not of seeds)."""
    share = successes / n
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(centre - half, 4), round(centre + half, 4)]


def paired_difference(a: dict, b: dict, level: float = LEVEL) -> dict:
    """``a − b`` over the keys (seeds) both hold, with its interval and a verdict:
    ``lower``/``higher`` when the interval excludes 0, else ``within noise``."""
    keys = sorted(set(a) & set(b))
    summary = mean_ci([a[k] - b[k] for k in keys], level)
    mean, half = summary["mean"], summary["ci95"]
    if mean is None or half is None:
        verdict = "too few seeds"
    elif mean + half < 0:
        verdict = "lower"
    elif mean - half > 0:
        verdict = "higher"
    else:
        verdict = "within noise"
    return {**summary, "seeds": keys, "verdict": verdict}


def bootstrap_ci(
    statistic: Callable[[np.ndarray], float],
    n: int,
    resamples: int = 2000,
    seed: int = 1,
    level: float = LEVEL,
) -> tuple[float, float]:
    """Percentile interval of ``statistic(indices)`` over ``resamples`` resamples of 0..n-1."""
    rng = np.random.default_rng(seed)
    values = np.array([statistic(rng.integers(0, n, size=n)) for _ in range(resamples)])
    values = values[np.isfinite(values)]
    tail = (1 - level) / 2 * 100
    return float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))
