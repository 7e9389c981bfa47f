"""A mixture's token quota (QuaDMix's fixed training budget) and its language shares. numpy.

QuaDMix's S(r̄) is an expected copy count. Under a fixed budget the whole S is scaled: a
document gets ⌊c·S + 1 − u⌋ copies (``quadmix.copy_counts`` of c·S with its seeded u) and the
scale c is fitted so that the mixture's tokens meet the target. For fixed draws u that count is
a step function of c, each step one document gaining one copy, so bisection on c finds the
step where the target is crossed: the mixture meets it within one document's tokens, whatever
the parameters (``fit_scale``). The draws stay the paper's — each document's copies are
⌊cS⌋ + Bernoulli(cS − ⌊cS⌋) from its own u — only c is fitted.

Languages are a decision of their own (Thresher's addition, PAPERS.md): every language gets a
target share of the tokens (``language_shares``: ``natural``, ``uniform``, ``temperature``
p ∝ n^α as mT5 and XLM-R sample, or ``explicit``), its documents are ranked among themselves
and its own scale meets its target. Languages are fitted in a fixed order and each one's
rounding is carried into the next target (``fit_languages``), so the total is within one
document of the budget too, and each language within two documents of its share.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from thresher.quadmix import copy_counts
from thresher.settings.curation import LANGUAGE_POLICIES

__all__ = [
    "LANGUAGE_POLICIES",
    "QuotaError",
    "ScaleFit",
    "fit_languages",
    "fit_scale",
    "language_shares",
    "language_targets",
    "quota_record",
    "realised_tokens",
]
# Bisection halves the scale interval; a double has 52 bits of mantissa, so after this many
# halvings two distinct step positions are always separated.
MAX_HALVINGS = 200


class QuotaError(ValueError):
    """A quota that no scale can meet (no document of a language can be drawn), or shares
    that do not describe the pool."""


def language_shares(
    pool_tokens: Mapping[str, float],
    policy: str,
    alpha: float = 0.3,
    explicit: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """Each language's target share of a mixture's tokens (they sum to 1).

    ``pool_tokens``: tokens per language of the documents the mixture draws from.
    ``natural``: shares as in the pool; ``uniform``: equal; ``temperature``: ∝ n^α (α = 1 is
    natural, 0 uniform); ``explicit``: ``explicit`` as given (languages it leaves out get 0;
    a share for a language the pool lacks is an error).
    """
    present = {lang: float(n) for lang, n in sorted(pool_tokens.items()) if n > 0}
    if not present:
        raise QuotaError("the pool holds no tokens in any language")
    if policy == "explicit":
        given = {lang: float(v) for lang, v in (explicit or {}).items()}
        if not given or any(v < 0 for v in given.values()) or abs(sum(given.values()) - 1) > 1e-6:
            raise QuotaError(f"explicit language shares must be >= 0 and sum to 1, got {given}")
        missing = sorted(lang for lang, v in given.items() if v > 0 and lang not in present)
        if missing:
            raise QuotaError(f"languages {missing} have a target share but no documents")
        return {lang: given.get(lang, 0.0) for lang in present}
    exponent = {"natural": 1.0, "uniform": 0.0, "temperature": alpha}.get(policy)
    if exponent is None:
        raise QuotaError(f"language policy must be one of {LANGUAGE_POLICIES}, got {policy!r}")
    weights = {lang: n**exponent for lang, n in present.items()}
    total = sum(weights.values())
    return {lang: w / total for lang, w in weights.items()}


def language_targets(
    shares: Mapping[str, float], budget: float, expected_tokens: Mapping[str, float]
) -> dict[str, float]:
    """Target tokens per language: ``budget`` split by ``shares``; without a budget (0) the
    unscaled mixture's own size, Σ S·tokens over ``expected_tokens``, is split instead."""
    total = float(budget) if budget > 0 else math.fsum(expected_tokens.values())
    return {lang: share * total for lang, share in shares.items()}


@dataclass(frozen=True)
class ScaleFit:
    """The scale of one group's S, and the tokens it gives against the target."""

    scale: float
    target: float
    realised: int
    # Tokens of the document whose copy the crossing step adds (or removes): the tolerance.
    step_tokens: int = 0


def expected_size(expected, tokens) -> float:
    """Σ S·tokens, correctly rounded whatever the order of the documents (``math.fsum``): the
    same pool gives the same targets and scales however it was partitioned or sorted."""
    return math.fsum(np.asarray(expected, dtype=np.float64) * np.asarray(tokens, dtype=np.float64))


def realised_tokens(scale: float, expected, uniforms, tokens) -> int:
    """Tokens of the mixture at ``scale``: Σ tokens · ⌊scale·S + 1 − u⌋."""
    copies = copy_counts(scale * np.asarray(expected, dtype=np.float64), uniforms)
    return int((np.asarray(tokens, dtype=np.int64) * copies).sum())


def fit_scale(
    expected,
    uniforms,
    tokens,
    target: float,
    lo: float = 0.0,
    hi: float | None = None,
    base: int = 0,
) -> ScaleFit:
    """The scale at which the documents' tokens cross ``target``, to one document.

    realised(c) = ``base`` + Σ tokens · (copies(c) − copies(``lo``)): with the defaults the
    whole mixture's tokens at scale c. A caller that narrowed [``lo``, ``hi``] elsewhere (the
    Spark job) passes only the documents whose copies still change inside it, with ``base``
    the tokens at ``lo`` of everything. Of the two sides of the step that crosses the target,
    the closer one is returned: |realised − target| ≤ that step's document's tokens.
    """
    e = np.asarray(expected, dtype=np.float64)
    u = np.asarray(uniforms, dtype=np.float64)
    t = np.asarray(tokens, dtype=np.int64)
    if target <= base:
        return ScaleFit(lo, float(target), int(base))
    if not (e * t > 0).any():
        raise QuotaError(f"no document can be drawn (S = 0 for all) to reach {target:.0f} tokens")
    start = copy_counts(lo * e, u)

    def realised(c: float) -> int:
        return base + int((t * (copy_counts(c * e, u) - start)).sum())

    if hi is None:  # from the expected size, doubled until the target is crossed
        hi = lo + max(target - base, 1.0) / expected_size(e, t)
        for _ in range(MAX_HALVINGS):
            if realised(hi) >= target:
                break
            hi = lo + 2 * (hi - lo)
    for _ in range(MAX_HALVINGS):  # invariant: realised(lo) < target <= realised(hi)
        changed = copy_counts(hi * e, u) - copy_counts(lo * e, u)
        if changed.sum() <= 1:
            break
        mid = lo + (hi - lo) / 2
        if not lo < mid < hi:
            break
        if realised(mid) >= target:
            hi = mid
        else:
            lo = mid
    below, above = realised(lo), realised(hi)
    step = int((t * (copy_counts(hi * e, u) - copy_counts(lo * e, u))).max(initial=0))
    if above - target < target - below:
        return ScaleFit(hi, float(target), above, step)
    return ScaleFit(lo, float(target), below, step)


def fit_languages(
    groups: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    targets: Mapping[str, float],
) -> dict[str, ScaleFit]:
    """One scale per language (``groups``: expected copies, uniforms, tokens), in sorted order,
    each target moved by what the languages before it over- or undershot: the total stays
    within one document of Σ targets and each language within two documents of its own.

    A language none of whose documents the parameters can draw (S = 0 for all) gets nothing:
    it is ``unreachable`` (``ScaleFit.scale`` NaN), and its tokens are not given to another
    language — the shares are a decision, so the quota is missed and the record says why.
    """
    fits: dict[str, ScaleFit] = {}
    carry = 0.0
    for lang in sorted(targets):
        target = targets[lang]
        expected, uniforms, tokens = groups[lang]
        if target <= 0:
            fits[lang] = ScaleFit(0.0, 0.0, 0)
            continue
        if not (np.asarray(expected) * np.asarray(tokens) > 0).any():
            fits[lang] = ScaleFit(float("nan"), target, 0)
            continue
        fit = fit_scale(expected, uniforms, tokens, max(target - carry, 0.0))
        fits[lang] = ScaleFit(fit.scale, target, fit.realised, fit.step_tokens)
        carry += fit.realised - target
    return fits


def quota_record(fits: Mapping[str, ScaleFit], budget: float, policy: str, shares) -> dict:
    """What a recipe and MLflow record: requested and realised tokens, in total and per language."""
    realised = sum(f.realised for f in fits.values())
    requested = sum(f.target for f in fits.values())
    return {
        "budget_tokens": float(budget),
        "requested_tokens": requested,
        "realised_tokens": realised,
        "language_policy": policy,
        "unreachable": sorted(lang for lang, f in fits.items() if np.isnan(f.scale)),
        "languages": {
            lang: {
                "target_share": float(shares[lang]),
                "target_tokens": f.target,
                "realised_tokens": f.realised,
                "realised_share": f.realised / realised if realised else 0.0,
                "scale": None if np.isnan(f.scale) else f.scale,
            }
            for lang, f in sorted(fits.items())
        },
    }


@dataclass(frozen=True)
class Quota:
    """How a mixture's tokens are fixed: a budget (0: the unscaled size) and language shares."""

    budget_tokens: int = 0
    policy: str = "natural"
    alpha: float = 0.3
    explicit: Mapping[str, float] | None = None

    @classmethod
    def of(cls, mixture, budget_tokens: int | None = None) -> Quota:
        """The quota of ``MixtureSettings`` (its budget, or ``budget_tokens`` instead)."""
        budget = mixture.budget_tokens if budget_tokens is None else budget_tokens
        return cls(budget, mixture.language_policy, mixture.language_alpha, mixture.explicit_shares)


@dataclass
class QuotaDraw:
    """Copies under a quota, with the scales and shares that produced them."""

    copies: np.ndarray
    expected: np.ndarray  # c·S per document
    fits: dict[str, ScaleFit]
    shares: dict[str, float]

    def record(self, quota: Quota) -> dict:
        return quota_record(self.fits, quota.budget_tokens, quota.policy, self.shares)


def apply_quota(expected, uniforms, tokens, languages, quota: Quota) -> QuotaDraw:
    """Scale S per language to the quota's targets and draw the copies (numpy, one machine):
    what ``spark_jobs.quota`` computes over a distributed frame, for the same inputs."""
    e = np.asarray(expected, dtype=np.float64)
    u = np.asarray(uniforms, dtype=np.float64)
    t = np.asarray(tokens, dtype=np.int64)
    langs = np.asarray(languages, dtype=object)
    names = sorted(set(langs.tolist()))
    members = {lang: np.flatnonzero(langs == lang) for lang in names}
    shares = language_shares(
        {lang: int(t[m].sum()) for lang, m in members.items()},
        quota.policy,
        quota.alpha,
        quota.explicit,
    )
    sizes = {lang: expected_size(e[m], t[m]) for lang, m in members.items()}
    targets = language_targets(shares, quota.budget_tokens, sizes)
    fits = fit_languages({lang: (e[m], u[m], t[m]) for lang, m in members.items()}, targets)
    scale = np.zeros(len(e))
    for lang, m in members.items():
        scale[m] = np.nan_to_num(fits[lang].scale)  # an unreachable language: nothing
    scaled = scale * e
    return QuotaDraw(copy_counts(scaled, u), scaled, fits, shares)
