"""The QuaDMix mixture search on CPU: ``make bench-mixsearch`` → ``bench/results/mixsearch.json``.

The pool of ``make bench-selection`` (``bench.selection_pool``), and the steps of
``thresher.experiments.MIXTURE_SEARCH`` run by the benchmarks' executor (``bench.experiments``)
exactly as the ``mixture_search`` DAG runs them: search features; the shared tokenizer; the
parent MLflow run with the K sampled parameter sets; K proxies (set 0 with its learning curve)
and the seed-noise repeats, two at a time; LightGBM against the mean predictor and ridge, with
bootstrap intervals, and the choice; the chosen parameters and the best random draw confirmed
with every seed; the report; the final Spark mixture.

Every proxy trains under the quota and is scored on the search half of the held-out text
(never the pool). The choice is what ``make bench-selection``'s ``quadmix_searched`` arm uses.
``THRESHER_MIXTURE_SEARCH_*`` and ``THRESHER_PROXY_*`` variables change the search
(``scripts/mixture_study_gpu.sh`` runs it with GPU proxies).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "mixsearch.json"
log = logging.getLogger("bench.mixsearch")


def main(argv: list[str] | None = None) -> int:
    from bench import selection_pool
    from bench.selection import changed_settings, machine, run_on_pool

    parser = argparse.ArgumentParser(prog="python -m bench.mixsearch", description=__doc__)
    parser.add_argument("--work", type=Path, default=selection_pool.WORK)
    parser.add_argument("--parallel", type=int, default=2, help="proxies trained at once")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    from thresher.experiments import MIXTURE_SEARCH

    run = run_on_pool(MIXTURE_SEARCH, args.work, args.parallel)
    settings, pool, manifest, outputs = run.settings, run.pool, run.manifest, run.outputs
    report, choice = outputs["report"], outputs["choose"]
    search = settings.mixture_search
    proxies = [r for r in outputs["proxy"] if r.get("seed") == 1]
    result = {
        "regression": report["regression"],
        "seed_noise": report["seed_noise"],
        "learning_curve": report["learning_curve"],
        "confirmation": report["confirmation"],
        "choice": {
            k: choice[k]
            for k in (
                "params_version",
                "params",
                "predicted_loss",
                "best_proxy_loss",
                "best_proxy_params_version",
                "candidates",
                "top_k",
            )
        },
        "final_mixture": {
            k: v
            for k, v in outputs["final_mixture"].items()
            if k.startswith("mixture") or k == "quota"
        },
        "proxies": {
            "sampled": search.proxies,
            "finished": sum(r["loss"] is not None for r in proxies),
            "noise_sets": search.noise_sets,
            "seeds": search.seeds,
            "losses": sorted(r["loss"] for r in proxies if r["loss"] is not None),
        },
        "proxy": {
            **dataclass_dict(settings.proxy),
            "parameters": report["parameters"],
            "target": "mean over languages of bits per byte on the search half of the "
            "held-out text (FLORES, UDHR, XCOPA premises, Tatoeba)",
        },
        "pool": {
            "fingerprint": pool["fingerprint"],
            "packages": len(manifest),
            "documents": outputs["features"]["documents"],
            "tokens": outputs["features"]["tokens"],
            "criteria": outputs["features"]["criteria_versions"],
            "domains": outputs["features"]["domains"],
        },
        "language_policy": settings.mixture.language_policy,
        "changed_settings": changed_settings(settings),
        "mlflow_parent_run": outputs["open"]["run_id"],
        "wall_s": round(time.perf_counter() - run.started, 1),
        "stages_s": run.seconds,
        "load": run.load.summary(),
        "machine": machine(),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    metrics = report["regression"]["metrics"]
    print(
        json.dumps(
            {
                "wall_s": result["wall_s"],
                **{
                    k: metrics[k]
                    for k in ("lightgbm_mae", "mean_baseline_mae", "linear_mae", "spearman")
                },
                "confirmation": report["confirmation"]["verdict"],
            }
        )
    )
    return 0


def dataclass_dict(value) -> dict:
    from thresher.settings.loading import as_data

    return as_data(value)


if __name__ == "__main__":
    raise SystemExit(main())
