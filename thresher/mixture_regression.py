"""Regression and choice of a QuaDMix search (PAPERS.md: QuaDMix, RegMix). numpy + lightgbm.

``fit_regression`` maps parameter vectors (``mixture_search.param_vector``) to proxy losses
with LightGBM and a ridge baseline, scored by out-of-fold MAE and Spearman's ρ; ``choose``
scores fresh draws of the paper's sampler with the fitted booster and averages the best.
lightgbm and scipy are imported where they are used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from thresher import quadmix
from thresher.mixture_search import param_vector, params_from_vector
from thresher.quadmix import QuadMixParams

MIN_CV_POINTS = 10
RIDGE_ALPHAS = (1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1000.0)


@dataclass
class RegressionResult:
    """Out-of-fold predictions of LightGBM, the ridge baseline and the mean predictor, their
    held-out errors with bootstrap intervals, and the booster fitted on every point."""

    actual: np.ndarray
    lightgbm: np.ndarray
    linear: np.ndarray
    mean: np.ndarray = None
    metrics: dict[str, float] = field(default_factory=dict)
    intervals: dict[str, list[float]] = field(default_factory=dict)
    booster: object = None


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b).statistic)


def fit_lightgbm(x: np.ndarray, y: np.ndarray, seed: int = 1):
    """RegMix's regressor (gbdt, learning rate 0.01, up to 1,000 rounds, early stopping),
    with leaves and minimum leaf size scaled down for searches of a few dozen proxies.

    The number of rounds is chosen by LightGBM's own 5-fold cross-validation on ``x`` (from
    ``MIN_CV_POINTS`` points; fewer train 100 rounds).
    """
    import lightgbm as lgb

    n = len(y)
    params = {
        "objective": "regression",
        "learning_rate": 0.01,
        "num_leaves": 15 if n >= 200 else 4,
        "min_data_in_leaf": max(2, min(20, n // 10)),
        "min_data_in_bin": 1,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "seed": seed,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": 1,
        "verbose": -1,
    }
    data = lgb.Dataset(x, y, params={"min_data_in_bin": 1, "verbose": -1}, free_raw_data=False)
    if n < MIN_CV_POINTS:  # too few to hold any out: a fixed, short run
        return lgb.train(params, data, num_boost_round=100)
    history = lgb.cv(
        params,
        data,
        num_boost_round=1000,
        nfold=5,
        stratified=False,
        seed=seed,
        callbacks=[lgb.early_stopping(50, verbose=False)],
    )
    rounds = len(next(iter(history.values())))
    return lgb.train(params, data, num_boost_round=max(1, rounds))


@dataclass
class Ridge:
    """Linear baseline: ridge on standardised features, α picked by exact leave-one-out."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    alpha: float

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, alphas=RIDGE_ALPHAS) -> Ridge:
        mean, scale = x.mean(axis=0), x.std(axis=0)
        scale[scale == 0] = 1.0
        z, centre = (x - mean) / scale, y.mean()
        u, s, vt = np.linalg.svd(z, full_matrices=False)
        uty = u.T @ (y - centre)
        best = None
        for alpha in alphas:
            shrink = s**2 / (s**2 + alpha)
            fitted = centre + u @ (shrink * uty)
            leverage = (u**2) @ shrink + 1.0 / len(y)  # the intercept's share included
            loo = (y - fitted) / np.maximum(1.0 - leverage, 1e-9)
            error = float(np.mean(loo**2))
            if best is None or error < best[0]:
                best = (error, alpha)
        alpha = best[1]
        coef = vt.T @ (s / (s**2 + alpha) * uty)
        return cls(mean, scale, coef, float(centre), float(alpha))

    def predict(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / self.scale @ self.coef + self.intercept


def fit_regression(
    x: np.ndarray, y: np.ndarray, folds: int = 5, seed: int = 1, bootstrap: int = 2000
) -> RegressionResult:
    """Held-out errors of LightGBM, the ridge baseline and the mean predictor by ``folds``-fold
    cross-validation, with 95 % bootstrap intervals.

    Every proxy is predicted once by models that never saw it (the mean predictor: the mean
    loss of the other folds); MAE and Spearman's ρ are computed over those out-of-fold
    predictions (with a few dozen proxies a single split would leave a handful of test
    points). The intervals resample the proxies (``bootstrap`` times), the differences of
    MAE paired per proxy. The returned booster is fitted on everything.
    """
    from thresher.stats import bootstrap_ci

    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    n = len(y)
    if n < max(folds, 4):
        raise ValueError(f"{n} finished proxies: at least {max(folds, 4)} are needed to fit")
    assignment = np.random.default_rng(seed).permutation(n) % folds
    oof_gbm, oof_linear, oof_mean = np.empty(n), np.empty(n), np.empty(n)
    for fold in range(folds):
        test, train = assignment == fold, assignment != fold
        oof_gbm[test] = fit_lightgbm(x[train], y[train], seed).predict(x[test])
        oof_linear[test] = Ridge.fit(x[train], y[train]).predict(x[test])
        oof_mean[test] = y[train].mean()
    predictions = {"lightgbm": oof_gbm, "linear": oof_linear, "mean_baseline": oof_mean}
    errors = {name: np.abs(pred - y) for name, pred in predictions.items()}
    metrics = {
        "proxies": float(n),
        "lightgbm_mae": float(errors["lightgbm"].mean()),
        "linear_mae": float(errors["linear"].mean()),
        "mean_baseline_mae": float(errors["mean_baseline"].mean()),
        "spearman": spearman(oof_gbm, y),
        "linear_spearman": spearman(oof_linear, y),
    }
    metrics["lightgbm_minus_mean_mae"] = metrics["lightgbm_mae"] - metrics["mean_baseline_mae"]
    metrics["lightgbm_minus_linear_mae"] = metrics["lightgbm_mae"] - metrics["linear_mae"]
    gain_over_mean = errors["lightgbm"] - errors["mean_baseline"]
    gain_over_linear = errors["lightgbm"] - errors["linear"]
    statistics = {
        **{f"{name}_mae": (lambda i, e=e: e[i].mean()) for name, e in errors.items()},
        "lightgbm_minus_mean_mae": lambda i: gain_over_mean[i].mean(),
        "lightgbm_minus_linear_mae": lambda i: gain_over_linear[i].mean(),
        "spearman": lambda i: spearman(oof_gbm[i], y[i]),
    }
    intervals = {
        name: list(bootstrap_ci(statistic, n, bootstrap, seed))
        for name, statistic in statistics.items()
    }
    booster = fit_lightgbm(x, y, seed)
    return RegressionResult(y, oof_gbm, oof_linear, oof_mean, metrics, intervals, booster)


@dataclass
class Choice:
    params: QuadMixParams
    predicted_loss: float
    top_predictions: list[float]
    candidates: int


def choose(
    booster,
    criteria: Sequence[str],
    domains: Sequence[str],
    candidates: int,
    top_k: int,
    seed: int,
    lambda_scale: str,
) -> Choice:
    """Score ``candidates`` fresh draws; the chosen set is the mean of the ``top_k`` best.

    The candidates come from their own stream (``rng([seed, 2**32 - 1])``, outside any
    search's index range), so they are fresh draws, not the proxies' sets again.
    """
    rng = np.random.default_rng([int(seed), 2**32 - 1])
    vectors = np.stack(
        [
            param_vector(quadmix.sample_params(criteria, domains, rng, lambda_scale))
            for _ in range(candidates)
        ]
    )
    predicted = booster.predict(vectors)
    best = np.argsort(predicted, kind="stable")[:top_k]
    chosen = params_from_vector(criteria, domains, vectors[best].mean(axis=0))
    predicted_chosen = float(booster.predict(param_vector(chosen)[None, :])[0])
    return Choice(chosen, predicted_chosen, predicted[best].tolist(), candidates)
