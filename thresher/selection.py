"""The arms of the selection study: how each one chooses its documents under the same quota.

Every arm draws from the same pool (``gold.search_features_<mixture>``: σ per criterion
ranked within each language, domain, language, tokens), meets the same quota (the budget,
split between languages by the mixture's language policy, each language within one or two
documents of its target: ``thresher.mixture_quota``) and differs only in which documents it
takes inside each language:

- ``random``: every document equally likely (S ≡ 1, scaled to the quota);
- ``quality_only``: the best documents by the merged score q̄ (equal weights over the
  criteria, smaller is better), in order, until the language's target;
- ``domain_balanced``: each domain of a language an equal share of its target (a domain
  smaller than its share is taken whole and the rest is shared by the others), random
  inside a domain — diversity without quality;
- ``quadmix_default`` / ``quadmix_searched``: QuaDMix (quality × domain) with the default
  parameters or a search's choice (``thresher.mixture_search.mixture_copies``);
- ``murating``: the documents of ``gold.mixture_murating`` (MuRating's per-language top
  share), weighted by their copies there and scaled to the quota.

numpy only; the seed draws the copies (and, in the proxy, seeds training).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from thresher import mixture_quota, mixture_search, quadmix
from thresher.mixture_quota import Quota, ScaleFit
from thresher.quadmix import QuadMixParams


def _by_language(languages) -> dict[str, np.ndarray]:
    languages = np.asarray(languages, dtype=object)
    return {lang: np.flatnonzero(languages == lang) for lang in sorted(set(languages.tolist()))}


def _targets(tokens: np.ndarray, members: dict[str, np.ndarray], quota: Quota, expected=None):
    shares = mixture_quota.language_shares(
        {lang: int(tokens[m].sum()) for lang, m in members.items()},
        quota.policy,
        quota.alpha,
        quota.explicit,
    )
    sizes = {
        lang: float(((1.0 if expected is None else expected[m]) * tokens[m]).sum())
        for lang, m in members.items()
    }
    return shares, mixture_quota.language_targets(shares, quota.budget_tokens, sizes)


def top_quality(quality, tokens, languages, quota: Quota) -> dict:
    """Documents in order of q̄ (smaller first) within each language until its target; a
    target beyond the language's pool takes the whole pool as often as it fits first."""
    tokens = np.asarray(tokens, dtype=np.int64)
    members = _by_language(languages)
    shares, targets = _targets(tokens, members, quota)
    copies = np.zeros(len(tokens), dtype=np.int64)
    fits, carry = {}, 0.0
    for lang in sorted(targets):
        m, target = members[lang], targets[lang]
        goal = max(target - carry, 0.0)
        whole, rest = divmod(goal, float(tokens[m].sum()))
        order = m[np.argsort(np.asarray(quality)[m], kind="stable")]
        cumulative = np.cumsum(tokens[order])
        cut = int(np.searchsorted(cumulative, rest))  # first prefix reaching the rest
        if cut < len(order) and cumulative[cut] - rest > rest - (cumulative[cut - 1] if cut else 0):
            taken = cut  # the prefix just below is closer
        else:
            taken = min(cut + 1, len(order))
        copies[m] = int(whole)
        copies[order[:taken]] += 1
        realised = int((copies[m] * tokens[m]).sum())
        fits[lang] = ScaleFit(float("nan") if target and not realised else 1.0, target, realised)
        carry += realised - target
    record = mixture_quota.quota_record(fits, quota.budget_tokens, quota.policy, shares)
    return {"copies": copies, "quota": record}


def balanced_domains(tokens, languages, domains, uniforms, quota: Quota) -> dict:
    """Equal tokens per domain within each language (water-filling: a domain smaller than its
    share is taken whole), random documents inside each domain."""
    tokens = np.asarray(tokens, dtype=np.int64)
    domains = np.asarray(domains, dtype=object)
    members = _by_language(languages)
    shares, targets = _targets(tokens, members, quota)
    copies = np.zeros(len(tokens), dtype=np.int64)
    fits, carry = {}, 0.0
    for lang in sorted(targets):
        m = members[lang]
        goal = max(targets[lang] - carry, 0.0)
        groups = {d: m[domains[m] == d] for d in sorted(set(domains[m].tolist()))}
        sizes = {d: float(tokens[g].sum()) for d, g in groups.items()}
        level = water_level(list(sizes.values()), goal)
        goals = {d: min(size, level) for d, size in sizes.items()}
        realised = 0
        for d, g in groups.items():  # each domain's rounding carried into the next one
            target = max(goals[d] - (realised - sum(goals[e] for e in groups if e < d)), 0.0)
            fit = mixture_quota.fit_scale(np.ones(len(g)), uniforms[g], tokens[g], target)
            copies[g] = quadmix.copy_counts(fit.scale * np.ones(len(g)), uniforms[g])
            realised += fit.realised
        fits[lang] = ScaleFit(1.0, targets[lang], realised)
        carry += realised - targets[lang]
    record = mixture_quota.quota_record(fits, quota.budget_tokens, quota.policy, shares)
    return {"copies": copies, "quota": record}


def water_level(sizes: Sequence[float], goal: float) -> float:
    """The level L with Σ min(size, L) = goal (every domain its equal share, the small ones
    whole); beyond the pool, the level at which equal shares (with repeats) reach the goal."""
    ordered = sorted(sizes)
    remaining, left = goal, len(ordered)
    for size in ordered:
        if size * left >= remaining:
            return remaining / left
        remaining -= size
        left -= 1
    return goal / len(ordered)  # the goal exceeds the pool: equal shares, repeated


def arm_copies(
    arm: str,
    pool,
    quota: Quota,
    seed: int,
    searched: QuadMixParams | None = None,
    murating_copies: np.ndarray | None = None,
) -> dict:
    """``{"copies", "quota"}`` of ``arm`` over ``pool`` (a features pool: sigmas, languages,
    domains, tokens, nodes, criteria)."""
    tokens = np.asarray(pool.tokens, dtype=np.int64)
    uniforms = quadmix.uniform_draws(seed, list(pool.nodes))
    if arm == "random":
        drawn = mixture_quota.apply_quota(
            np.ones(len(tokens)), uniforms, tokens, pool.languages, quota
        )
        return {"copies": drawn.copies, "quota": drawn.record(quota)}
    if arm == "quality_only":
        return top_quality(np.asarray(pool.sigmas).mean(axis=1), tokens, pool.languages, quota)
    if arm == "domain_balanced":
        return balanced_domains(tokens, pool.languages, pool.domains, uniforms, quota)
    if arm in ("quadmix_default", "quadmix_searched"):
        params = (
            QuadMixParams.uniform(pool.criteria, ("*",)) if arm == "quadmix_default" else searched
        )
        if params is None:
            raise ValueError("quadmix_searched needs the search's parameters")
        drawn = mixture_search.mixture_copies(
            params, pool.sigmas, pool.languages, pool.domains, tokens, pool.nodes, seed, quota
        )
        return {"copies": drawn["copies"], "quota": drawn["quota"]}
    if arm == "murating":
        if murating_copies is None:
            raise ValueError("the murating arm needs gold.mixture_murating's copies")
        weights = np.asarray(murating_copies, dtype=np.float64)
        drawn = mixture_quota.apply_quota(weights, uniforms, tokens, pool.languages, quota)
        return {"copies": drawn.copies, "quota": drawn.record(quota)}
    raise ValueError(f"unknown arm {arm!r}")
