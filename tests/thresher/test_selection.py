"""The selection study's arms: the same quota for all, different documents inside languages."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from thresher import selection
from thresher.config import SELECTION_ARMS
from thresher.mixture_quota import Quota
from thresher.quadmix import QuadMixParams

LANGUAGES = ("de", "en", "ja")


@pytest.fixture(scope="module")
def pool():
    rng = np.random.default_rng(4)
    n = 900
    return SimpleNamespace(
        tokens=(rng.lognormal(7, 0.7, n) + 200).astype(np.int64),
        languages=rng.choice(LANGUAGES, n, p=[0.2, 0.6, 0.2]),
        domains=rng.choice(["big", "mid", "small"], n, p=[0.75, 0.2, 0.05]),
        sigmas=rng.uniform(size=(n, 2)),
        nodes=[f"2026-11-01/d{i}" for i in range(n)],
        criteria=("rules", "reference_classifier"),
    )


@pytest.mark.parametrize("arm", SELECTION_ARMS)  # every arm the settings accept
def test_every_arm_meets_the_same_quota_and_language_shares(pool, arm):
    quota = Quota(int(pool.tokens.sum() * 0.25), "uniform")
    searched = QuadMixParams.uniform(pool.criteria, ("*",), omega=0.3, eps=0.01)
    murating = (np.arange(len(pool.tokens)) % 4 == 0).astype(float)  # a quarter of the pool
    out = selection.arm_copies(arm, pool, quota, 1, searched, murating)
    tokens = out["copies"] * pool.tokens
    assert abs(tokens.sum() - quota.budget_tokens) <= 2 * pool.tokens.max()
    for lang in LANGUAGES:
        share = tokens[pool.languages == lang].sum() / tokens.sum()
        assert share == pytest.approx(1 / 3, abs=0.01), lang
    if arm == "murating":  # only the MuRating mixture's documents
        assert (out["copies"][murating == 0] == 0).all()


def test_quality_only_takes_the_best_documents_of_each_language(pool):
    quota = Quota(int(pool.tokens.sum() * 0.25), "uniform")
    out = selection.arm_copies("quality_only", pool, quota, 1)
    merged = pool.sigmas.mean(axis=1)
    for lang in LANGUAGES:
        members = pool.languages == lang
        chosen, left = merged[members & (out["copies"] > 0)], merged[members & (out["copies"] == 0)]
        assert chosen.max() <= left.min()  # a prefix of the quality order
    random = selection.arm_copies("random", pool, quota, 1)
    assert merged[out["copies"] > 0].mean() < merged[random["copies"] > 0].mean() - 0.2


def test_domain_balanced_gives_domains_equal_tokens_as_far_as_they_go(pool):
    quota = Quota(int(pool.tokens.sum() * 0.25), "uniform")
    out = selection.arm_copies("domain_balanced", pool, quota, 1)
    tokens = out["copies"] * pool.tokens
    largest = pool.tokens.max()
    whole = 0
    for lang in LANGUAGES:
        members = pool.languages == lang
        sizes = {
            d: pool.tokens[members & (pool.domains == d)].sum() for d in ("big", "mid", "small")
        }
        level = selection.water_level(list(sizes.values()), quota.budget_tokens / 3)
        for domain, size in sizes.items():
            taken = tokens[members & (pool.domains == domain)].sum()
            assert abs(taken - min(size, level)) <= 2 * largest, (lang, domain)
            whole += size < level
    assert whole >= 2  # the small domain of de and ja: smaller than its share, taken whole


def test_water_level():
    assert selection.water_level([10, 100, 100], 90) == 40  # 10 whole, 40 + 40
    assert selection.water_level([10, 20], 60) == 30  # beyond the pool: equal, repeated
    assert selection.water_level([50, 50], 40) == 20
