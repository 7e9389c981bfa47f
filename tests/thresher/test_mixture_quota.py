"""The quota: QuaDMix's fixed budget met within one document, and language shares as targets."""

from __future__ import annotations

import numpy as np
import pytest

from thresher import mixture_quota as mq
from thresher import mixture_search, quadmix
from thresher.mixture_quota import Quota, QuotaError

CRITERIA = ("rules", "reference_classifier")
DOMAINS = ("news", "science", "travel")
LANGUAGES = ("de", "en", "ja")


def make_pool(n: int = 900, seed: int = 0):
    """A pool of three languages of unequal size (en 3× ja) and lognormal document sizes."""
    rng = np.random.default_rng(seed)
    languages = rng.choice(LANGUAGES, size=n, p=[0.3, 0.5, 0.2])
    domains = rng.choice(DOMAINS, size=n, p=[0.5, 0.3, 0.2])
    tokens = (rng.lognormal(7.5, 0.8, size=n) + 200).astype(np.int64)
    sigmas = rng.uniform(size=(n, len(CRITERIA)))
    nodes = [f"2026-11-01/doc-{i}" for i in range(n)]
    return languages, domains, tokens, sigmas, nodes


@pytest.mark.parametrize("lambda_scale", ["linear", "exponential"])
def test_the_quota_is_met_within_one_document_for_random_parameter_draws(lambda_scale):
    languages, domains, tokens, sigmas, nodes = make_pool()
    largest = int(tokens.max())
    pool = int(tokens.sum())
    for k in range(25):
        params = mixture_search.sample_set(CRITERIA, DOMAINS, 11, k, lambda_scale)
        budget = int(pool * (0.05, 0.3, 1.7)[k % 3])  # below, near and above the pool's size
        for policy in ("natural", "uniform"):
            drawn = mixture_search.mixture_copies(
                params,
                sigmas,
                languages,
                domains,
                tokens,
                nodes,
                seed=k,
                quota=Quota(budget, policy),
            )
            realised = int((drawn["copies"] * tokens).sum())
            assert abs(realised - budget) <= largest, (k, policy, realised, budget)
            assert drawn["quota"]["realised_tokens"] == realised
            for lang, row in drawn["quota"]["languages"].items():
                assert abs(row["realised_tokens"] - row["target_tokens"]) <= 2 * largest, lang
            # the draws stay the paper's: ⌊cS⌋ or ⌊cS⌋ + 1 copies of every document
            floor = np.floor(drawn["expected_copies"])
            assert ((drawn["copies"] == floor) | (drawn["copies"] == floor + 1)).all()


@pytest.mark.parametrize(
    ("policy", "explicit"),
    [
        ("natural", None),
        ("uniform", None),
        ("temperature", None),
        ("explicit", {"en": 0.2, "de": 0.3, "ja": 0.5}),
    ],
)
def test_language_shares_match_their_targets_within_one_point(policy, explicit):
    languages, domains, tokens, sigmas, nodes = make_pool(n=1500, seed=1)
    params = mixture_search.sample_set(CRITERIA, DOMAINS, 3, 0, "linear")
    quota = Quota(int(tokens.sum() * 0.4), policy, 0.3, explicit)
    drawn = mixture_search.mixture_copies(
        params, sigmas, languages, domains, tokens, nodes, 1, quota
    )
    pool = {lang: int(tokens[languages == lang].sum()) for lang in LANGUAGES}
    expected = {
        "natural": {lang: n / sum(pool.values()) for lang, n in pool.items()},
        "uniform": {lang: 1 / 3 for lang in LANGUAGES},
        "temperature": {
            lang: n**0.3 / sum(m**0.3 for m in pool.values()) for lang, n in pool.items()
        },
        "explicit": explicit,
    }[policy]
    total = (drawn["copies"] * tokens).sum()
    for lang in LANGUAGES:
        share = (drawn["copies"] * tokens)[languages == lang].sum() / total
        assert share == pytest.approx(expected[lang], abs=0.01), lang
        assert drawn["quota"]["languages"][lang]["target_share"] == pytest.approx(expected[lang])


def test_without_a_budget_the_unscaled_size_is_split_by_the_shares():
    languages, domains, tokens, sigmas, nodes = make_pool(seed=2)
    params = quadmix.QuadMixParams.uniform(CRITERIA, ("*",))
    drawn = mixture_search.mixture_copies(
        params, sigmas, languages, domains, tokens, nodes, 1, Quota(0, "natural")
    )
    expected = quadmix.sampling_function(drawn["rank"], 10.0, 0.9, 1.0, 0.0)
    assert drawn["quota"]["requested_tokens"] == pytest.approx((expected * tokens).sum())
    scales = [row["scale"] for row in drawn["quota"]["languages"].values()]
    assert all(0.9 < c < 1.1 for c in scales)  # natural shares: about the unscaled mixture


def test_fit_scale_edges():
    tokens = np.array([100, 200, 300])
    uniforms = quadmix.uniform_draws(1, ["a", "b", "c"])
    assert mq.fit_scale([1.0, 1.0, 1.0], uniforms, tokens, 0).realised == 0
    with pytest.raises(QuotaError, match="S = 0"):
        mq.fit_scale([0.0, 0.0, 0.0], uniforms, tokens, 500)
    # only one document can be drawn: the budget is met by copying it
    fit = mq.fit_scale([0.0, 0.0, 0.5], uniforms, tokens, 1000)
    assert fit.realised in (900, 1200)
    assert abs(mq.realised_tokens(fit.scale, [0.0, 0.0, 0.5], uniforms, tokens) - 1000) <= 300


def test_language_shares_are_validated():
    pool = {"en": 300, "de": 100, "ja": 0}
    assert mq.language_shares(pool, "natural") == {"de": 0.25, "en": 0.75}  # ja holds nothing
    assert mq.language_shares(pool, "uniform") == {"de": 0.5, "en": 0.5}
    with pytest.raises(QuotaError, match="no documents"):
        mq.language_shares(pool, "explicit", explicit={"en": 0.5, "ja": 0.5})
    with pytest.raises(QuotaError, match="sum to 1"):
        mq.language_shares(pool, "explicit", explicit={"en": 0.5, "de": 0.2})
    with pytest.raises(QuotaError, match="policy"):
        mq.language_shares(pool, "loud")
    assert mq.language_shares(pool, "explicit", explicit={"en": 1.0}) == {"de": 0.0, "en": 1.0}


def test_a_language_the_parameters_cannot_draw_is_unreachable_not_replaced():
    tokens = np.array([100, 200, 300, 400])
    uniforms = quadmix.uniform_draws(1, list("abcd"))
    drawn = mq.apply_quota(
        [1.0, 1.0, 0.0, 0.0], uniforms, tokens, ["en", "en", "de", "de"], Quota(600, "natural")
    )
    record = drawn.record(Quota(600, "natural"))
    assert record["unreachable"] == ["de"] and record["languages"]["de"]["scale"] is None
    # English keeps its natural share (0.3 of 600); German's 0.7 is not handed to it
    assert record["languages"]["en"]["realised_tokens"] in (100, 200, 300)
    assert (drawn.copies[2:] == 0).all()
