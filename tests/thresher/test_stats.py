"""Intervals: Student-t over seeds, paired differences, bootstrap percentiles."""

from __future__ import annotations

import numpy as np
import pytest

from thresher import stats


def test_mean_ci_is_the_student_t_half_width():
    summary = stats.mean_ci([1.0, 2.0, 3.0])
    # t(0.975, 2) = 4.3027; std 1; n 3
    assert summary["mean"] == 2.0 and summary["ci95"] == pytest.approx(4.3027 / 3**0.5, rel=1e-4)
    assert stats.mean_ci([5.0])["ci95"] is None and stats.mean_ci([])["mean"] is None


def test_paired_difference_verdicts():
    a = {1: 3.0, 2: 3.1, 3: 2.9}
    assert stats.paired_difference(a, {1: 3.5, 2: 3.6, 3: 3.45})["verdict"] == "lower"
    assert stats.paired_difference(a, {1: 2.5, 2: 2.6, 3: 2.45})["verdict"] == "higher"
    noisy = stats.paired_difference(a, {1: 3.4, 2: 2.7, 3: 3.0})
    assert noisy["verdict"] == "within noise" and noisy["seeds"] == [1, 2, 3]


def test_bootstrap_interval_covers_the_mean():
    x = np.random.default_rng(0).normal(5.0, 1.0, 200)
    low, high = stats.bootstrap_ci(lambda i: x[i].mean(), len(x), 500)
    assert low < x.mean() < high and high - low == pytest.approx(2 * 1.96 / 200**0.5, rel=0.3)
