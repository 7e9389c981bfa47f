"""The quota on Spark: one scale of S per language, fitted so the mixture meets its tokens.

``thresher.mixture_quota`` holds the rule (the copies ⌊c·S + 1 − u⌋ are a step function of c;
bisection finds the step that crosses the target). Here it runs over a distributed frame of
(language, tokens, expected S, uniform u) without collecting the documents: each pass is one
aggregation per language at probe scales, narrowing a bracket [lo, hi] around every
language's target until few documents still change copies inside it; those few are
collected and ``mixture_quota.fit_scale`` finishes on the driver, language after language,
carrying each one's rounding into the next. The bracket keeps a margin of the largest
document's tokens on both sides of the target, so a carried target still lies inside it.
The final copies are drawn with the same expression, so they add up to what was fitted.
"""

from __future__ import annotations

import logging
import math

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from thresher import mixture_quota
from thresher.mixture_quota import Quota, ScaleFit

log = logging.getLogger(__name__)

# Documents changing copies inside a language's bracket that the driver finishes on.
LOCAL_DOCUMENTS = 50_000
MAX_PASSES = 64


def _scale(scales: dict[str, float]) -> Column:
    pairs = [x for lang, c in sorted(scales.items()) for x in (F.lit(lang), F.lit(float(c)))]
    return F.element_at(F.create_map(*pairs), F.col("language"))


def copies_at(scale: Column) -> Column:
    """⌊c·S + 1 − u⌋, evaluated as ``quadmix.copy_counts`` evaluates it (same IEEE order)."""
    return F.floor(scale * F.col("expected") + F.lit(1.0) - F.col("uniform"))


def pool_statistics(drawn: DataFrame) -> dict[str, dict[str, float]]:
    """Per language: pool tokens, expected tokens Σ S·tokens, the largest document, documents."""
    rows = drawn.groupBy("language").agg(
        F.sum("tokens").alias("pool_tokens"),
        # exact decimal sums: the same pool gives the same targets however it is partitioned
        F.sum((F.col("expected") * F.col("tokens")).cast("decimal(38,12)")).alias(
            "expected_tokens"
        ),
        F.max("tokens").alias("largest"),
        F.count("*").alias("documents"),
    )
    return {
        r["language"]: {**r.asDict(), "expected_tokens": float(r["expected_tokens"] or 0)}
        for r in rows.collect()
    }


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def _measure(drawn: DataFrame, probes: list[dict[str, float]], lo, hi) -> dict[str, list]:
    """Realised tokens at each probe's scales and the documents changing within [lo, hi]."""
    columns = [
        F.sum(F.col("tokens") * copies_at(_scale(p))).alias(f"probe{i}")
        for i, p in enumerate(probes)
    ]
    changing = copies_at(_scale(hi)) != copies_at(_scale(lo))
    columns.append(F.sum(changing.cast("long")).alias("changing"))
    rows = drawn.groupBy("language").agg(*columns).collect()
    return {
        r["language"]: [int(r[f"probe{i}"]) for i in range(len(probes))] + [int(r["changing"])]
        for r in rows
    }


def fit(drawn: DataFrame, documents: int, quota: Quota) -> tuple[dict[str, ScaleFit], dict, int]:
    """Each language's scale under ``quota``, its target share and the pool's largest
    document. A pool of at most ``LOCAL_DOCUMENTS`` has its four numbers per document
    collected once and fitted on the driver (one Spark job); a larger one is narrowed by
    aggregations (``fit_scales``) and never collected."""
    if documents <= LOCAL_DOCUMENTS:
        local = drawn.select("language", "expected", "uniform", "tokens").toPandas()
        parts = {lang: part for lang, part in local.groupby("language")}
        stats = {
            lang: {
                "pool_tokens": int(p["tokens"].sum()),
                "expected_tokens": mixture_quota.expected_size(p["expected"], p["tokens"]),
            }
            for lang, p in parts.items()
        }
        largest = int(local["tokens"].max()) if len(local) else 0
    else:
        stats = pool_statistics(drawn)
        largest = int(max(s["largest"] for s in stats.values()))
    shares = mixture_quota.language_shares(
        {lang: s["pool_tokens"] for lang, s in stats.items()},
        quota.policy,
        quota.alpha,
        quota.explicit,
    )
    targets = mixture_quota.language_targets(
        shares, quota.budget_tokens, {lang: s["expected_tokens"] for lang, s in stats.items()}
    )
    if documents <= LOCAL_DOCUMENTS:
        groups = {
            lang: (p["expected"].to_numpy(), p["uniform"].to_numpy(), p["tokens"].to_numpy())
            for lang, p in parts.items()
        }
        return mixture_quota.fit_languages(groups, targets), shares, largest
    return fit_scales(drawn, targets, stats), shares, largest


def fit_scales(
    drawn: DataFrame, targets: dict[str, float], stats: dict[str, dict[str, float]]
) -> dict[str, ScaleFit]:
    """One scale per language of ``drawn`` (language, tokens, expected, uniform), persisted,
    by passes of aggregations over it: nothing but the last bracket's documents is collected."""
    margin = max((s["largest"] for s in stats.values()), default=0)
    # a language whose documents all have S = 0 is unreachable (mixture_quota.fit_languages)
    active = {lang for lang, t in targets.items() if t > 0 and stats[lang]["expected_tokens"] > 0}
    lo = {lang: 0.0 for lang in targets}
    hi = {
        lang: (targets[lang] + margin) / stats[lang]["expected_tokens"] if lang in active else 0.0
        for lang in targets
    }
    base = {lang: 0 for lang in targets}
    for _ in range(MAX_PASSES):  # hi: realised ≥ target + margin, doubling
        found = _measure(drawn, [hi], lo, hi)
        short = [lang for lang in active if found[lang][0] < targets[lang] + margin]
        if not short:
            break
        hi.update({lang: 2 * hi[lang] for lang in short})
    # Once a probe lands inside the margin, the two sides shrink separately: ``inner_lo`` and
    # ``inner_hi`` are the innermost probes known to be inside it.
    inner_lo: dict[str, float | None] = {lang: None for lang in targets}
    inner_hi: dict[str, float | None] = {lang: None for lang in targets}
    for passes in range(MAX_PASSES):
        below = {lang: (lo[lang] + _or(inner_lo[lang], hi[lang])) / 2 for lang in targets}
        above = {lang: (hi[lang] + _or(inner_hi[lang], lo[lang])) / 2 for lang in targets}
        found = _measure(drawn, [below, above], lo, hi)
        wide = [lang for lang in active if found[lang][2] > LOCAL_DOCUMENTS]
        if not wide:
            log.info("quota: brackets narrowed in %d passes", passes)
            break
        for lang in wide:
            low_target, high_target = targets[lang] - margin, targets[lang] + margin
            at_below, at_above, _ = found[lang]
            if at_below <= low_target:
                lo[lang], base[lang] = below[lang], at_below
            elif at_below >= high_target:
                hi[lang] = below[lang]
            else:
                inner_lo[lang] = below[lang]
                inner_hi[lang] = _or(inner_hi[lang], below[lang])
            if inner_hi[lang] is None or above[lang] <= inner_hi[lang]:
                continue  # no separate upper probe yet
            if at_above >= high_target:
                hi[lang] = above[lang]
            else:
                inner_hi[lang] = above[lang]
    inside = copies_at(_scale(hi)) != copies_at(_scale(lo))
    local = (
        drawn.where(inside)
        .select("language", "expected", "uniform", "tokens")
        .toPandas()
        .groupby("language")
    )
    groups = {lang: part for lang, part in local}
    fits: dict[str, ScaleFit] = {}
    carry = 0.0
    for lang in sorted(targets):
        target = targets[lang]
        if lang not in active:
            fits[lang] = ScaleFit(0.0 if target <= 0 else float("nan"), max(target, 0.0), 0)
            continue
        part = groups.get(lang)
        arrays = (
            (part["expected"].to_numpy(), part["uniform"].to_numpy(), part["tokens"].to_numpy())
            if part is not None
            else ([], [], [])
        )
        fit = mixture_quota.fit_scale(
            *arrays, max(target - carry, 0.0), lo=lo[lang], hi=hi[lang], base=base[lang]
        )
        fits[lang] = ScaleFit(fit.scale, target, fit.realised, fit.step_tokens)
        carry += fit.realised - target
    return fits


def draw_copies(drawn: DataFrame, fits: dict[str, ScaleFit]) -> DataFrame:
    """``drawn`` with ``expected_copies`` = c·S and ``copies`` = ⌊c·S + 1 − u⌋ per language
    (an unreachable language, scale NaN, none)."""
    scale = _scale({lang: 0.0 if math.isnan(f.scale) else f.scale for lang, f in fits.items()})
    return drawn.withColumn("expected_copies", scale * F.col("expected")).withColumn(
        "copies", copies_at(scale).cast("int")
    )
