"""The search's regressor and choice on synthetic targets with a known answer."""

from __future__ import annotations

import numpy as np
import pytest

from thresher import mixture_regression as mr
from thresher.mixture_search import param_vector, sample_set
from thresher.quadmix import QuadMixParams

CRITERIA = ("rules", "reference_classifier")
DOMAINS = ("news", "science", "travel")


def _synthetic_loss(params: QuadMixParams) -> float:
    """Known optimum: science keeps 7 % of its tokens and weighs rules 0.8."""
    return (params.omega[1] / 0.1 - 0.7) ** 2 + (params.alpha[1][0] - 0.8) ** 2


def test_regression_and_search_find_a_known_optimum():
    sets = [sample_set(CRITERIA, DOMAINS, 2, k, "linear") for k in range(200)]
    x = np.stack([param_vector(p) for p in sets])
    noise = np.random.default_rng(0).normal(0, 0.01, len(sets))
    y = np.array([_synthetic_loss(p) for p in sets]) + noise

    fit = mr.fit_regression(x, y, folds=5, seed=1, bootstrap=200)

    assert fit.lightgbm.shape == fit.linear.shape == fit.mean.shape == y.shape
    m = fit.metrics
    assert m["lightgbm_mae"] < m["linear_mae"] < m["mean_baseline_mae"]
    assert m["spearman"] > 0.9
    # every interval holds its estimate; the gain over the mean predictor is beyond noise
    for name, (low, high) in fit.intervals.items():
        assert low <= m[name] <= high, name
    assert fit.intervals["lightgbm_minus_mean_mae"][1] < 0
    # the mean predictor is out of fold: each point predicted by the mean of the other folds
    assert len(np.unique(fit.mean)) == 5 and not np.allclose(fit.mean, y.mean())
    choice = mr.choose(fit.booster, CRITERIA, DOMAINS, 5000, 10, 1, "linear")
    assert choice.params.omega[1] == pytest.approx(0.07, abs=0.01)
    assert choice.params.alpha[1][0] == pytest.approx(0.8, abs=0.1)
    assert _synthetic_loss(choice.params) < np.quantile(y, 0.02)
    assert len(choice.top_predictions) == 10 and choice.candidates == 5000
    assert choice.top_predictions == sorted(choice.top_predictions)


def test_too_few_points_to_fit_are_refused():
    with pytest.raises(ValueError, match="at least"):
        mr.fit_regression(np.zeros((3, 4)), np.zeros(3), folds=5)


def test_ridge_recovers_a_linear_target():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 5))
    y = x @ np.array([1.0, -2.0, 0.0, 0.5, 3.0]) + 4.0
    model = mr.Ridge.fit(x, y)
    assert model.alpha == pytest.approx(1e-3)
    assert np.abs(model.predict(x) - y).max() < 0.01
