"""Mixture search: indexed parameter sets, their vectors, the numpy mixture, search folders."""

from __future__ import annotations

import numpy as np
import pytest

from thresher import mixture_search as ms
from thresher.mixture_quota import Quota
from thresher.quadmix import QuadMixParams

CRITERIA = ("rules", "reference_classifier")
DOMAINS = ("news", "science", "travel")


@pytest.mark.parametrize("scale", ["linear", "exponential"])
def test_indexed_sets_follow_the_papers_ranges(scale):
    sets = [ms.sample_set(CRITERIA, DOMAINS, 5, k, scale) for k in range(400)]
    alpha = np.array([p.alpha for p in sets])
    lam, omega, eta, eps = (np.array([getattr(p, k) for p in sets]) for k in ms.PER_DOMAIN)
    assert (alpha >= 0).all() and np.allclose(alpha.sum(axis=2), 1.0)
    low_lam = 0.0 if scale == "linear" else 1.0
    assert lam.min() >= low_lam and lam.max() <= 1000.0 and lam.max() > 900.0
    assert omega.min() >= 0 and omega.max() <= 0.1 and omega.max() > 0.099
    assert eta.min() >= 0 and eta.max() <= 1 and eps.min() >= 0 and eps.max() <= 1e-3
    # ω̃ = 0.1·U(0,1): about uniform over [0, 0.1]
    assert np.mean(omega < 0.05) == pytest.approx(0.5, abs=0.05)


def test_set_k_depends_on_seed_and_index_alone():
    again = ms.sample_set(CRITERIA, DOMAINS, 5, 17, "linear")
    assert again == ms.sample_set(CRITERIA, DOMAINS, 5, 17, "linear")
    versions = {ms.sample_set(CRITERIA, DOMAINS, 5, k, "linear").version for k in range(50)}
    assert len(versions) == 50
    assert ms.sample_set(CRITERIA, DOMAINS, 6, 17, "linear") != again
    with pytest.raises(ValueError):
        ms.sample_set(CRITERIA, DOMAINS, 5, -1, "linear")


def test_a_parameter_vector_round_trips_and_names_its_entries():
    params = ms.sample_set(CRITERIA, DOMAINS, 1, 0, "linear")
    vector = ms.param_vector(params)
    names = ms.feature_names(params)
    assert len(vector) == len(names) == (len(CRITERIA) + 4) * len(DOMAINS)
    assert vector[names.index("omega.science")] == params.omega[1]
    assert vector[names.index("alpha.travel.rules")] == params.alpha[2][0]
    assert ms.params_from_vector(CRITERIA, DOMAINS, vector) == params


def test_mixture_copies_by_hand():
    # one criterion; tokens 10, 30, 20, 40; c and d tie: r̄ = b 0.3, c 0.9, d 0.9, a 1.0
    params = QuadMixParams(("q",), ("all",), ((1.0,),), (1000.0,), (0.5,), (1.0,), (0.0,))
    drawn = ms.mixture_copies(
        params,
        np.array([[0.3], [0.1], [0.2], [0.2]]),
        ["en"] * 4,
        ["all"] * 4,
        np.array([10, 30, 20, 40]),
        ["a", "b", "c", "d"],
        seed=1,
        quota=Quota(),
    )
    assert drawn["rank"].tolist() == pytest.approx([1.0, 0.3, 0.9, 0.9])
    # S(0.3) = 2 / (1 + e^{-200}) = 2 copies; beyond ω only ε = 0; one language, no budget:
    # its target is the unscaled size (60 tokens), met at scale 1
    assert drawn["copies"].tolist() == [0, 2, 0, 0]
    assert drawn["quota"]["realised_tokens"] == 60


def test_mixture_copies_rank_each_domain_with_its_own_weights():
    params = QuadMixParams(
        ("x", "y"),
        ("p", "q"),
        ((1.0, 0.0), (0.0, 1.0)),
        (1000.0, 1000.0),
        (0.6, 0.6),
        (1.0, 1.0),
        (0.0, 0.0),
    )
    sigmas = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    drawn = ms.mixture_copies(
        params, sigmas, ["en"] * 4, ["p", "p", "q", "q"], np.ones(4), list("abcd"), 1, Quota()
    )
    # domain p weighs x (a is best), domain q weighs y (d is best); the best of two equal
    # documents has r̄ = 0.5 < ω, so S ≈ 2, the other r̄ = 1 > ω
    assert drawn["rank"].tolist() == [0.5, 1.0, 1.0, 0.5]
    assert drawn["copies"].tolist() == [2, 0, 0, 2]
