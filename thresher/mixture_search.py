"""QuaDMix parameter search (PAPERS.md: QuaDMix, RegMix): parameter sets and their mixtures.

1. ``sample_set``: parameter set k of a search is the paper's sampler
   (``quadmix.sample_params``) drawn from ``rng([seed, k])``, so any one proxy can be redone
   alone and a larger K extends a search instead of replacing it.
2. ``mixture_copies``: the copies a parameter set gives each document, from the sampler
   inputs ``spark_jobs.search_features`` exports: the same q̄, exact r̄, S(r̄) and seeded draws
   as the Spark mixture (``spark_jobs.sampling``), so a proxy needs no Spark.
3. ``search_dir``: where a search's proxies live, keyed by what changes their loss.
4. The search's parent MLflow run (``open_search_run``, ``close_search_run``).

The regressor and the choice are in ``thresher.mixture_regression``. numpy only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from thresher import quadmix
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
    domains: Sequence[str],
    tokens: np.ndarray,
    nodes: Sequence[str],
    seed: int,
) -> dict[str, np.ndarray]:
    """q̄, r̄, S(r̄) and drawn copies per document, as ``spark_jobs.mixture`` computes them.

    ``sigmas`` is (documents × criteria) in ``params.criteria`` order. q̄ adds the weighted σ
    in the order Spark does and r̄ is the exact token-weighted rank (ties included), so for
    the same inputs the copies equal the Spark mixture's in its exact rank mode.
    """
    sigmas = np.asarray(sigmas, dtype=np.float64)
    tokens = np.asarray(tokens, dtype=np.float64)
    domains = np.asarray(domains, dtype=object)
    names = sorted(set(domains.tolist()))
    rows = np.empty(len(domains), dtype=np.int64)
    for name in names:
        rows[domains == name] = params.domain_index(name)
    weights = np.asarray(params.alpha)[rows]
    quality = np.zeros(len(domains))
    for n in range(len(params.criteria)):
        quality = quality + weights[:, n] * sigmas[:, n]
    rank = np.zeros(len(domains))
    for name in names:
        members = np.flatnonzero(domains == name)
        rank[members] = quadmix.weighted_percentile_rank(quality[members], tokens[members])
    expected = quadmix.sampling_function(
        rank, *(np.asarray(getattr(params, k))[rows] for k in PER_DOMAIN)
    )
    copies = quadmix.copy_counts(expected, quadmix.uniform_draws(seed, list(nodes)))
    return {"quality": quality, "rank": rank, "expected_copies": expected, "copies": copies}


@dataclass(frozen=True)
class ProxyTraining:
    """What makes two proxies comparable: the same model, run, eval set and mixture seed."""

    size: str
    max_steps: int
    sequence_length: int
    batch_size: int
    learning_rate: float
    vocab_size: int
    seed: int
    eval_set: str
    mixture_seed: int

    @classmethod
    def from_settings(cls, settings) -> ProxyTraining:
        search = settings.mixture_search
        return cls(
            size=search.size,
            max_steps=search.max_steps,
            sequence_length=search.sequence_length,
            batch_size=search.batch_size,
            learning_rate=search.learning_rate,
            vocab_size=search.vocab_size,
            seed=search.seed,
            eval_set=search.eval_set,
            mixture_seed=settings.mixture.seed,
        )

    def key(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:8]


def search_dir(name: str, fingerprint: str, training: ProxyTraining) -> str:
    """Relative folder of one search: its features' fingerprint and the proxies' training.

    Everything that changes a proxy's loss is in the path, so a re-run (or a larger K) finds
    the finished proxies of every earlier run of the same search there.
    """
    return f"mixture_search/{name}/{fingerprint}-{training.key()}"


def search_settings(settings, final_mixture: str | None = None):
    """``settings`` logging to the search's experiment (and naming the final mixture)."""
    import dataclasses

    tracking = dataclasses.replace(settings.tracking, experiment=settings.mixture_search.experiment)
    changed = dataclasses.replace(settings, tracking=tracking)
    if final_mixture:
        mixture = dataclasses.replace(settings.mixture, name=final_mixture)
        changed = dataclasses.replace(changed, mixture=mixture)
    return changed


def open_search_run(settings, run_key: str, run_name: str, features: dict, tags=None) -> dict:
    """The search's parent MLflow run (found again by ``run_key``), with its K parameter sets.

    The sets are logged as ``search/sampled_params.json``: what each mapped proxy will draw
    from its index, so the search space is inspectable before any proxy has trained.
    """
    from thresher import tracking

    settings = search_settings(settings)
    search = settings.mixture_search
    run_id = tracking.open_run(settings, run_key, run_name, tags)
    sets = [
        sample_set(
            features["criteria"], features["domains"], search.sample_seed, k,
            settings.mixture.lambda_scale,
        )
        for k in range(search.proxies)
    ]  # fmt: skip
    mlflow = tracking.client(settings)
    logged = mlflow.get_run(run_id).data.params
    fresh = {
        "search.proxies": search.proxies,
        "search.sample_seed": search.sample_seed,
        "search.dir": features["search_dir"],
        "search.features_fingerprint": features["fingerprint"],
        "search.criteria": ",".join(features["criteria"]),
        "search.domains": ",".join(features["domains"]),
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


def close_search_run(settings, run_id: str, choice: dict, mixture: dict) -> None:
    """Log the choice and the final mixture to the parent run, and finish it."""
    from thresher import tracking

    settings = search_settings(settings)
    names = ("lightgbm_mae", "linear_mae", "spearman", "proxies", "too_small", "predicted_loss")
    metrics = {k: choice[k] for k in names}
    metrics.update({k: v for k, v in mixture.items() if isinstance(v, int | float)})
    finite = {k: float(v) for k, v in metrics.items() if v is not None and np.isfinite(float(v))}
    tracking.log_metrics(settings, run_id, finite)
    summary = {"choice": choice, "mixture": mixture}
    tracking.log_json(settings, run_id, summary, "search/choice.json")
    tracking.finish_run(settings, run_id)
