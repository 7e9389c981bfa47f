"""What a mixture search found, with its controls: the report step of ``MIXTURE_SEARCH``.

- **Regression** (from the choose step): LightGBM's out-of-fold MAE against the mean predictor
  and against ridge, each difference with its bootstrap interval, and Spearman's ρ.
- **Seed noise**: the first ``noise_sets`` parameter sets trained with every seed. The pooled
  within-set standard deviation is how much a proxy's score moves for reasons that are not
  its parameters; the spread of the K seed-1 scores is what the regressor has to explain.
- **Learning curve** of proxy 0: held-out bits per byte at evenly spaced steps, beside the
  unigram baseline (the model has learned when it is well below it).
- **Confirmation**: the chosen parameters and the best random draw, each trained with every
  seed; their difference paired by seed, with its interval.

Written to the parent run as ``search/report.json``; the metrics go there too.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from thresher.stats import mean_ci, paired_difference


def seed_noise(proxies: list[dict], noise_sets: int) -> dict:
    """Within-set spread (seeds) of the first ``noise_sets`` sets against the between-set
    spread of every set's seed-1 score."""
    by_set: dict[int, dict[int, float]] = defaultdict(dict)
    for result in proxies:
        if result.get("loss") is not None and result.get("index") is not None:
            by_set[result["index"]][result["seed"]] = result["loss"]
    repeated = {k: v for k, v in by_set.items() if k < noise_sets and len(v) > 1}
    variances = [np.var(list(v.values()), ddof=1) for v in repeated.values()]
    within = float(math.sqrt(np.mean(variances))) if variances else None
    first = [v[1] for v in by_set.values() if 1 in v]
    between = float(np.std(first, ddof=1)) if len(first) > 1 else None
    return {
        "sets": {
            str(k): {
                "by_seed": {str(s): x for s, x in sorted(v.items())},
                **mean_ci(list(v.values())),
            }
            for k, v in sorted(repeated.items())
        },
        "within_set_std": within,
        "between_set_std": between,
        # > 1: parameter sets differ by more than seeds move one set; the search can tell
        # them apart. Its square is about the share of the spread that is not noise.
        "signal_to_noise": between / within if within and between else None,
        "range_of_seed1_scores": [min(first), max(first)] if first else None,
    }


def confirmation(results: list[dict]) -> dict:
    """Chosen against best random draw, paired by seed (lower bits per byte is better)."""
    by_role: dict[str, dict[int, float]] = defaultdict(dict)
    versions = {}
    for result in results:
        if result.get("loss") is not None:
            by_role[result["role"]][result["seed"]] = result["loss"]
            versions[result["role"]] = result["params_version"]
    chosen, best = by_role.get("chosen", {}), by_role.get("best_random", {})
    difference = paired_difference(chosen, best)
    return {
        "chosen": {
            **mean_ci(list(chosen.values())),
            "by_seed": chosen,
            "params_version": versions.get("chosen"),
        },
        "best_random": {
            **mean_ci(list(best.values())),
            "by_seed": best,
            "params_version": versions.get("best_random"),
        },
        "chosen_minus_best_random": difference,
        "verdict": {
            "lower": "chosen beats the best random draw beyond seed noise",
            "higher": "the best random draw beats the chosen parameters",
        }.get(difference["verdict"], "no difference beyond seed noise"),
    }


def report(ctx) -> dict:
    """The report step: every finding above, logged to the parent run (a driver step)."""
    from thresher import tracking
    from thresher.mixture_search import search_settings

    settings = search_settings(ctx.settings)
    search = settings.mixture_search
    proxies, choice = list(ctx.outputs["proxy"]), ctx.outputs["choose"]
    curve = next((r["curve"] for r in proxies if r.get("curve")), None)
    found = {
        "regression": {k: choice[k] for k in ("metrics", "intervals")},
        "seed_noise": seed_noise(proxies, search.noise_sets),
        "learning_curve": curve,
        "confirmation": confirmation(list(ctx.outputs["confirm"])),
        "too_small": sum(r.get("loss") is None for r in proxies),
        "parameters": next((r["parameters"] for r in proxies if r.get("parameters")), None),
    }
    noise, confirm = found["seed_noise"], found["confirmation"]
    metrics = {
        **choice["metrics"],
        "within_set_std": noise["within_set_std"],
        "between_set_std": noise["between_set_std"],
        "chosen_bpb": confirm["chosen"]["mean"],
        "best_random_bpb": confirm["best_random"]["mean"],
        "chosen_minus_best_random": confirm["chosen_minus_best_random"]["mean"],
    }
    found["metrics"] = {k: float(v) for k, v in metrics.items() if v is not None}
    run_id = ctx.outputs["open"]["run_id"]
    tracking.log_json(settings, run_id, found, "search/report.json")
    return found
