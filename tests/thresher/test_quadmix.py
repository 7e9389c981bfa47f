import math

import numpy as np
import pytest

from thresher import quadmix
from thresher.quadmix import QuadMixParams


def test_sampling_function_value_at_zero_and_at_omega():
    lam, omega, eta, eps = 50.0, 0.3, 2.0, 0.001
    at_zero = quadmix.sampling_function(0.0, lam, omega, eta, eps)
    assert at_zero == pytest.approx((2 / (1 + math.exp(-lam * omega))) ** eta + eps)
    # at r̄ = ω the sigmoid term is (2/2)^η = 1
    assert quadmix.sampling_function(omega, lam, omega, eta, eps) == pytest.approx(1 + eps)


def test_sampling_function_is_non_increasing_with_an_eps_floor_beyond_omega():
    r = np.linspace(0, 1, 2001)
    for lam, omega, eta, eps in [
        (1000.0, 0.1, 1.0, 0.0),
        (3.0, 0.9, 0.2, 0.5),
        (1e4, 0.05, 0.9, 1e-3),
    ]:
        s = quadmix.sampling_function(r, lam, omega, eta, eps)
        assert np.all(np.diff(s) <= 1e-12)
        assert np.all(s[r > omega] == eps)
        assert np.all(s[r <= omega] >= 1 + eps - 1e-12)  # the top ω of tokens keeps ≥ one copy
        assert s[0] <= 2**eta + eps


def test_sampling_function_broadcasts_per_document_parameters():
    s = quadmix.sampling_function([0.0, 0.5], [10.0, 10.0], [0.1, 0.9], 1.0, [0.0, 0.25])
    assert s[0] == pytest.approx(2 / (1 + math.exp(-1.0)))
    assert s[1] == pytest.approx(2 / (1 + math.exp(-4.0)) + 0.25)


def test_copy_counts_have_the_expected_mean_and_floor():
    expected = np.array([0.0, 0.3, 1.0, 1.75, 2.5])
    keys = [f"doc-{i}" for i in range(20000)]
    u = quadmix.uniform_draws(7, keys)
    for s in expected:
        copies = quadmix.copy_counts(np.full(len(keys), s), u)
        assert set(np.unique(copies)) <= {math.floor(s), math.floor(s) + 1}
        assert copies.mean() == pytest.approx(s, abs=0.02)


def test_uniform_draws_depend_only_on_seed_and_key():
    keys = [f"d{i}" for i in range(1000)]
    u = quadmix.uniform_draws(3, keys)
    assert np.all((u >= 0) & (u < 1))
    assert np.array_equal(quadmix.uniform_draws(3, keys[::-1]), u[::-1])  # order-free
    assert np.array_equal(quadmix.uniform_draws(3, keys[:10]), u[:10])  # batch-free
    assert not np.array_equal(quadmix.uniform_draws(4, keys), u)
    assert abs(u.mean() - 0.5) < 0.05


def test_params_round_trip_through_json_with_a_content_version():
    params = quadmix.sample_params(("a", "b", "c"), ("news", "code"), np.random.default_rng(0))
    again = QuadMixParams.from_json(params.to_json())
    assert again == params
    assert again.version == params.version and len(params.version) == 16
    assert QuadMixParams.from_json(again.to_json()).to_json() == params.to_json()
    other = quadmix.sample_params(("a", "b", "c"), ("news", "code"), np.random.default_rng(1))
    assert other.version != params.version


def test_params_are_validated():
    with pytest.raises(ValueError, match="sum to 1"):
        QuadMixParams(("a", "b"), ("d",), ((0.5, 0.6),), (1.0,), (0.1,), (1.0,), (0.0,))
    with pytest.raises(ValueError, match="one value per domain"):
        QuadMixParams(("a",), ("d", "e"), ((1.0,), (1.0,)), (1.0,), (0.1,), (1.0,), (0.0,))
    with pytest.raises(ValueError, match="parameter set"):
        QuadMixParams.from_json('{"format": "other"}')
    params = QuadMixParams.uniform(("a",), ("news", "*"))
    assert params.domain_index("news") == 0 and params.domain_index("code") == 1
    with pytest.raises(KeyError):
        QuadMixParams.uniform(("a",), ("news",)).domain_index("code")


@pytest.mark.parametrize("scale", quadmix.LAMBDA_SCALES)
def test_parameter_sampler_ranges(scale):
    rng = np.random.default_rng(42)
    draws = [quadmix.sample_params(("q1", "q2"), ("x", "y", "z"), rng, scale) for _ in range(500)]
    alpha = np.array([p.alpha for p in draws])
    lam, omega, eta, eps = (
        np.array([getattr(p, k) for p in draws]) for k in ("lam", "omega", "eta", "eps")
    )
    assert alpha.shape == (500, 3, 2)
    assert np.allclose(alpha.sum(axis=2), 1.0) and (alpha >= 0).all()
    assert (omega >= 0).all() and (omega <= 0.1).all() and omega.max() > 0.09
    assert (eta >= 0).all() and (eta <= 1).all()
    assert (eps >= 0).all() and (eps <= 1e-3).all() and eps.max() > 0.9e-3
    if scale == "linear":
        assert (lam >= 0).all() and (lam <= 1e3).all() and np.median(lam) > 300
    else:
        assert (lam >= 1).all() and (lam <= 1e3).all() and np.median(lam) < 100
    with pytest.raises(ValueError, match="lambda_scale"):
        quadmix.sample_params(("q",), ("x",), rng, "log")


def test_weighted_percentile_rank_is_token_weighted_and_tie_inclusive():
    quality = np.array([0.3, 0.1, 0.2, 0.2])
    tokens = np.array([10, 30, 20, 40])
    # sorted: 0.1 (30) → 30/100; the two 0.2 ties → (30 + 20 + 40)/100; 0.3 → 1
    assert quadmix.weighted_percentile_rank(quality, tokens).tolist() == pytest.approx(
        [1.0, 0.3, 0.9, 0.9]
    )
