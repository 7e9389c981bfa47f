"""QuaDMix parameter search (PAPERS.md: QuaDMix, RegMix): parameter sets and their mixtures.

1. ``sample_set``: parameter set k of a search is the paper's sampler
   (``quadmix.sample_params``) drawn from ``rng([seed, k])``, so any one proxy can be redone
   alone and a larger K extends a search instead of replacing it.
2. ``mixture_copies``: the copies a parameter set gives each document, from the sampler
   inputs ``spark_jobs.search_features`` exports: the same q̄, exact r̄, S(r̄) and seeded draws
   as the Spark mixture (``spark_jobs.sampling``), so a proxy needs no Spark.
3. The search's parent MLflow run (``open_search_run``, ``close_search_run``): driver steps of
   ``thresher.experiments.MIXTURE_SEARCH``.

The regressor and the choice are in ``thresher.mixture_regression``, what the search found
(noise, learning curve, confirmation) in ``thresher.mixture_search_report``. numpy only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np

from thresher import quadmix
from thresher.mixture_quota import Quota, apply_quota
from thresher.quadmix import QuadMixParams

PER_DOMAIN = ("lam", "omega", "eta", "eps")


def sample_set(
    criteria: Sequence[str], domains: Sequence[str], seed: int, index: int, lambda_scale: str
) -> QuadMixParams:
    """Parameter set ``index`` of the search seeded ``seed`` (the paper's sampler)."""
    if index < 0:
        raise ValueError(f"index must be non-negative, got {index}")
    rng = np.random.default_rng([int(seed), int(index)])
    return quadmix.sample_params(criteria, domains, rng, lambda_scale)


def feature_names(params: QuadMixParams) -> list[str]:
    names = [f"alpha.{d}.{c}" for d in params.domains for c in params.criteria]
    return names + [f"{k}.{d}" for k in PER_DOMAIN for d in params.domains]


def param_vector(params: QuadMixParams) -> np.ndarray:
    """The (N + 4)·M parameters as one vector, in ``feature_names`` order."""
    parts = [np.asarray(params.alpha, dtype=np.float64).ravel()]
    parts += [np.asarray(getattr(params, k), dtype=np.float64) for k in PER_DOMAIN]
    return np.concatenate(parts)


def params_from_vector(
    criteria: Sequence[str], domains: Sequence[str], vector: np.ndarray
) -> QuadMixParams:
    n, m = len(criteria), len(domains)
    vector = np.asarray(vector, dtype=np.float64)
    if vector.shape != (m * (n + 4),):
        raise ValueError(f"expected {m * (n + 4)} values for {m} domains x {n} criteria")
    # not renormalised: a mean of simplex rows sums to 1 up to rounding, which QuadMixParams
    # accepts, and a set's own vector must give back exactly that set (the same version)
    alpha = vector[: m * n].reshape(m, n)
    rest = vector[m * n :].reshape(4, m)
    return QuadMixParams(
        tuple(criteria),
        tuple(domains),
        tuple(tuple(row) for row in alpha.tolist()),
        *(tuple(row) for row in rest.tolist()),
    )


def mixture_copies(
    params: QuadMixParams,
    sigmas: np.ndarray,
    languages: Sequence[str],
    domains: Sequence[str],
    tokens: np.ndarray,
    nodes: Sequence[str],
    seed: int,
    quota: Quota,
) -> dict:
    """q̄, r̄, S(r̄), the quota's scales and the drawn copies, as ``spark_jobs.mixture`` computes
    them.

    ``sigmas`` is (documents × criteria) in ``params.criteria`` order, ranked within each
    language. q̄ adds the weighted σ in the order Spark does and r̄ is the exact token-weighted
    rank within each (language, domain), ties included, so for the same inputs the copies
    equal the Spark mixture's in its exact rank mode.
    """
    sigmas = np.asarray(sigmas, dtype=np.float64)
    tokens = np.asarray(tokens, dtype=np.float64)
    domains = np.asarray(domains, dtype=object)
    languages = np.asarray(languages, dtype=object)
    rows = np.empty(len(domains), dtype=np.int64)
    for name in sorted(set(domains.tolist())):
        rows[domains == name] = params.domain_index(name)
    weights = np.asarray(params.alpha)[rows]
    quality = np.zeros(len(domains))
    for n in range(len(params.criteria)):
        quality = quality + weights[:, n] * sigmas[:, n]
    rank = np.zeros(len(domains))
    groups = {(lang, dom) for lang, dom in zip(languages.tolist(), domains.tolist(), strict=True)}
    for lang, dom in sorted(groups):
        members = np.flatnonzero((languages == lang) & (domains == dom))
        rank[members] = quadmix.weighted_percentile_rank(quality[members], tokens[members])
    expected = quadmix.sampling_function(
        rank, *(np.asarray(getattr(params, k))[rows] for k in PER_DOMAIN)
    )
    uniforms = quadmix.uniform_draws(seed, list(nodes))
    drawn = apply_quota(expected, uniforms, tokens.astype(np.int64), languages, quota)
    return {
        "quality": quality,
        "rank": rank,
        "expected_copies": drawn.expected,
        "copies": drawn.copies,
        "quota": drawn.record(quota),
    }


def search_settings(settings, final_mixture: str | None = None):
    """``settings`` logging to the search's experiment (and naming the final mixture)."""
    import dataclasses

    from thresher.experiments import MIXTURE_SEARCH

    changed = MIXTURE_SEARCH.tracking_settings(settings)
    if final_mixture:
        mixture = dataclasses.replace(settings.mixture, name=final_mixture)
        changed = dataclasses.replace(changed, mixture=mixture)
    return changed


def open_search_run(ctx) -> dict:
    """The search's parent MLflow run (found again by the run's key), with its K parameter sets.

    The sets are logged as ``search/sampled_params.json``: what each mapped proxy will draw
    from its index, so the search space is inspectable before any proxy has trained.
    """
    from thresher import tracking

    settings = search_settings(ctx.settings)
    search, features = settings.mixture_search, ctx.outputs["features"]
    run_id = tracking.open_run(
        settings,
        ctx.run_key,
        f"mixture_search {features['dir'].rsplit('/', 1)[-1]}",
        {"thresher.experiment": ctx.experiment, **ctx.tags},
    )
    sets = [
        sample_set(
            features["criteria"],
            features["domains"],
            search.sample_seed,
            k,
            settings.mixture.lambda_scale,
        )
        for k in range(search.proxies)
    ]
    logged = tracking.client(settings).get_run(run_id).data.params
    fresh = {
        "search.proxies": search.proxies,
        "search.sample_seed": search.sample_seed,
        "search.dir": features["dir"],
        "search.features_fingerprint": features["fingerprint"],
        "search.criteria": ",".join(features["criteria"]),
        "search.domains": ",".join(features["domains"]),
        "search.budget_tokens": settings.proxy.budget_tokens,
        "search.language_policy": settings.mixture.language_policy,
    }
    fresh = {k: v for k, v in fresh.items() if k not in logged}  # a retry logs nothing twice
    if fresh:
        tracking.log_params(settings, run_id, fresh)
    tracking.log_json(
        settings,
        run_id,
        [{"index": k, "version": p.version, **json.loads(p.to_json())} for k, p in enumerate(sets)],
        "search/sampled_params.json",
    )
    return {"run_id": run_id, "proxies": len(sets), "versions": [p.version for p in sets]}


def close_search_run(settings, run_id: str, report: dict, mixture: dict) -> None:
    """Log the search's findings and the final mixture to the parent run, and finish it."""
    from thresher import tracking

    settings = search_settings(settings)
    metrics = {f"search.{k}": v for k, v in report.get("metrics", {}).items()}
    metrics.update({k: v for k, v in mixture.items() if isinstance(v, int | float)})
    finite = {k: float(v) for k, v in metrics.items() if v is not None and np.isfinite(float(v))}
    tracking.log_metrics(settings, run_id, finite)
    tracking.log_json(settings, run_id, {"report": report, "mixture": mixture}, "search/final.json")
    tracking.finish_run(settings, run_id)
