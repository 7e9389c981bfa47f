"""AUC and GAUC on data small enough to score by hand."""

from __future__ import annotations

import numpy as np
import pytest

from models.poso.metrics import auc, flatten, gauc, group_metrics


def test_auc_counts_correctly_ordered_pairs():
    # Pairs (pos, neg): 0.35>0.1 yes, 0.35>0.4 no, 0.8>0.1 yes, 0.8>0.4 yes → 3/4.
    assert auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == 0.75


def test_auc_counts_ties_as_half_and_is_undefined_for_one_class():
    assert auc(np.array([0, 1, 1]), np.array([0.5, 0.5, 0.9])) == 0.75
    assert auc(np.array([1, 1]), np.array([0.2, 0.3])) is None


# User a: perfect (AUC 1, 2 events). User b: its positive 0.2 beats one of two negatives
# (AUC 0.5, 3 events). User c: positives only, so it has no AUC and is left out.
LABELS = np.array([1, 0, 1, 0, 0, 1, 1])
SCORES = np.array([0.9, 0.1, 0.2, 0.5, 0.1, 0.3, 0.6])
USERS = np.array(["a", "a", "b", "b", "b", "c", "c"])


def test_gauc_weights_users_by_their_events():
    value, counted = gauc(LABELS, SCORES, USERS)
    assert counted == 2
    assert value == pytest.approx((2 * 1.0 + 3 * 0.5) / 5)


def test_gauc_uniform_is_the_plain_mean_over_users():
    value, counted = gauc(LABELS, SCORES, USERS, weighting="uniform")
    assert (value, counted) == (pytest.approx(0.75), 2)


def test_gauc_is_not_the_pooled_auc():
    # Pooled, b and c are compared with a (and each other): another number entirely.
    assert auc(LABELS, SCORES) == pytest.approx(10 / 12)
    assert gauc(LABELS, SCORES, USERS)[0] != pytest.approx(auc(LABELS, SCORES))


def test_gauc_without_any_scorable_user():
    assert gauc(np.array([1, 1]), np.array([0.1, 0.2]), np.array([1, 2])) == (None, 0)


def test_group_metrics_split_new_and_regular_events():
    is_new = np.array([True, True, False, False, False, False, False])
    out = group_metrics(LABELS, SCORES, USERS, is_new)
    assert out["new"]["events"] == 2 and out["regular"]["events"] == 5
    assert out["new"]["gauc"] == 1.0 and out["new"]["gauc_users"] == 1  # user a only
    assert out["regular"]["gauc"] == pytest.approx(0.5)  # b scorable, c one class
    assert out["overall"]["gauc"] == pytest.approx(0.7)
    assert out["new"]["positive_rate"] == 0.5
    flat = flatten("test", out)
    assert flat["test.new.gauc"] == 1.0 and "test.regular.gauc_users" in flat
