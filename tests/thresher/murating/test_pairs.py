import numpy as np
import pytest

from thresher.murating.bradley_terry import sigmoid
from thresher.murating.pairs import PAIR_TYPES, percentile_ranks, stratified_pairs, training_pairs


def test_stratified_pairs_spread_gaps_over_the_strata_and_drop_near_ties():
    reference = np.arange(200, dtype=float)
    a, b = stratified_pairs(reference, 400, np.random.default_rng(1), strata=4, min_gap=0.05)
    assert len(a) == 400 and np.all(a != b)
    gap = np.abs(percentile_ranks(reference)[a] - percentile_ranks(reference)[b])
    assert gap.min() >= 0.05
    counts = np.histogram(gap, bins=np.linspace(0.05, 1, 5))[0]
    # uniform pairs would put ~44 % of gaps in the first bin and ~6 % in the last
    assert counts.min() >= 80, counts


def test_training_pairs_per_type(judged_docs):
    pairs = training_pairs(judged_docs, 40, 60, 30, seed=3)
    assert set(pairs["pair_type"]) == set(PAIR_TYPES)
    mono = pairs[pairs.pair_type == "monolingual"]
    assert (mono.language_a == mono.language_b).all() and (mono.unit_a != mono.unit_b).all()
    np.testing.assert_allclose(mono.label, sigmoid(mono.score_a - mono.score_b))
    cross = pairs[pairs.pair_type == "cross_lingual"]
    assert len(cross) and (cross.language_a != cross.language_b).all()
    assert (cross.unit_a != cross.unit_b).all()
    parallel = pairs[pairs.pair_type == "parallel"]
    assert len(parallel) and (parallel.unit_a == parallel.unit_b).all()
    assert (parallel.language_a != parallel.language_b).all() and (parallel.label == 0.5).all()


def test_pairs_never_mix_splits_and_carry_provenance(judged_docs):
    pairs = training_pairs(judged_docs, 40, 60, 30, seed=3)
    split_of = dict(zip(judged_docs.doc_key, judged_docs.split, strict=True))
    assert (pairs.doc_a.map(split_of) == pairs.split).all()
    assert (pairs.doc_b.map(split_of) == pairs.split).all()
    assert set(pairs.split) == {"train", "held_out"}
    assert pairs.pair_id.is_unique and (pairs.source_a == "synthetic").all()
    # the held-out share follows the units held out (6 of 24)
    share = (pairs.split == "held_out").mean()
    assert 0.1 < share < 0.4


def test_training_pairs_are_reproducible(judged_docs):
    first = training_pairs(judged_docs, 40, 60, 30, seed=3)
    assert first.equals(training_pairs(judged_docs, 40, 60, 30, seed=3))
    assert not first.equals(training_pairs(judged_docs, 40, 60, 30, seed=4))


@pytest.mark.parametrize("n", [0, 1])
def test_too_few_items_give_no_pairs(n):
    a, b = stratified_pairs(np.zeros(n), 10, np.random.default_rng(0))
    assert len(a) == len(b) == 0
