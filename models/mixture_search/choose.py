"""Fit the search's regressor on its finished proxies and choose the mixture parameters.

Entry point::

    python -m models.mixture_search.choose --search-dir DIR [--parent-run-id ID] \
        [--folds 5] [--candidates 100000] [--top-k 10]

Every finished proxy under ``<search-dir>/proxies/`` (those of earlier runs of the same
search included) is one (parameters → loss) point. LightGBM and a ridge baseline are scored by
out-of-fold MAE and Spearman's ρ, LightGBM refitted on all points scores ``--candidates``
fresh draws of the paper's sampler, and the mean of the ``--top-k`` best is the choice:
written as a new parameters version ``<search-dir>/choice/params/<version>.json`` and
returned (with the JSON itself) for the Spark task that builds the final mixture. Two MLflow
runs under the search's parent: ``regression`` (metrics, predicted-vs-actual plot) and
``choice`` (the chosen parameters).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from models.mixture_search.proxy import FINISHED
from thresher import mixture_regression, mixture_search
from thresher.config import Settings
from thresher.entrypoint import BadInput, open_tracker, run_entry_point, task_output
from thresher.quadmix import QuadMixParams
from thresher.report_page import ReportPage, write_page


def finished_proxies(search: Path) -> tuple[list[QuadMixParams], np.ndarray, int]:
    """Parameters and losses of every proxy with a loss; and how many had too little data."""
    params, losses, too_small = [], [], 0
    for record in sorted((search / "proxies").glob(f"*/{FINISHED}")):
        result = json.loads(record.read_text())
        if result["loss"] is None:
            too_small += 1
            continue
        params.append(QuadMixParams.from_json((record.parent / "params.json").read_text()))
        losses.append(float(result["loss"]))
    shapes = {(p.criteria, p.domains) for p in params}
    if len(shapes) > 1:
        raise BadInput(f"{search} mixes proxies over different criteria/domains: {shapes}")
    return params, np.asarray(losses), too_small


def plot_predictions(fit: mixture_regression.RegressionResult, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = fit.metrics
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.scatter(fit.actual, fit.linear, s=18, alpha=0.6, marker="s", color="tab:gray",
               label=f"ridge: MAE {m['linear_mae']:.4f}, ρ {m['linear_spearman']:.2f}")  # fmt: skip
    ax.scatter(fit.actual, fit.lightgbm, s=22, color="tab:blue",
               label=f"LightGBM: MAE {m['lightgbm_mae']:.4f}, ρ {m['spearman']:.2f}")  # fmt: skip
    low = float(min(fit.actual.min(), fit.lightgbm.min(), fit.linear.min()))
    high = float(max(fit.actual.max(), fit.lightgbm.max(), fit.linear.max()))
    ax.plot([low, high], [low, high], color="black", linewidth=0.8)
    ax.set_xlabel("proxy validation loss (actual)")
    ax.set_ylabel("predicted, out of fold")
    ax.set_title(f"{len(fit.actual)} proxies, {int(m['folds'])}-fold cross-validation")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def parse_args(argv: Sequence[str], settings: Settings) -> argparse.Namespace:
    search = settings.mixture_search
    parser = argparse.ArgumentParser(prog="python -m models.mixture_search.choose")
    parser.add_argument(
        "--search-dir", required=True, help="the search's folder (relative: under checkpoints)"
    )
    parser.add_argument("--folds", type=int, default=search.folds)
    parser.add_argument("--candidates", type=int, default=search.candidates)
    parser.add_argument("--top-k", type=int, default=search.top_k)
    parser.add_argument("--sample-seed", type=int, default=search.sample_seed)
    parser.add_argument("--lambda-scale", default=settings.mixture.lambda_scale)
    parser.add_argument("--parent-run-id", default="", help="MLflow run of the whole search")
    parser.add_argument("--experiment", default=search.experiment)
    args = parser.parse_args(argv)
    if args.folds < 2 or args.top_k < 1 or args.candidates < args.top_k:
        raise BadInput("--folds must be >= 2, --top-k >= 1 and --candidates >= --top-k")
    return args


def result_page(
    fit: mixture_regression.RegressionResult, summary: dict, too_small: int
) -> ReportPage:
    """The search's one page: the regressor against its baselines, then the choice."""
    m = fit.metrics
    page = ReportPage(
        f"Mixture search: parameters {summary['params_version']}",
        f"{len(fit.actual)} proxies with a loss ({too_small} too small to train); "
        f"{int(m['folds'])}-fold out-of-fold predictions.",
    )
    page.section("Regression", "Mean absolute error of the predicted proxy loss; lower is better.")
    page.table(
        ("model", "MAE", "Spearman ρ"),
        [("LightGBM", m["lightgbm_mae"], m["spearman"]),
         ("ridge (linear baseline)", m["linear_mae"], m["linear_spearman"]),
         ("mean predictor (baseline)", m["mean_baseline_mae"], float("nan"))],
    )  # fmt: skip
    page.section("Choice", f"Mean of the {summary['top_k']} best of {summary['candidates']:,} "
                 "sampled parameter sets, as LightGBM predicts them.")  # fmt: skip
    page.facts({"predicted loss": summary["predicted_loss"],
                "best proxy's loss": summary["best_proxy_loss"],
                "best proxy's parameters": summary["best_proxy_params_version"]})  # fmt: skip
    page.table(("rank", "predicted loss"), enumerate(summary["top_predictions"], start=1))
    return page


def main(argv: Sequence[str]) -> dict:
    settings = Settings.from_env()
    args = parse_args(argv, settings)
    settings = dataclasses.replace(
        settings, tracking=dataclasses.replace(settings.tracking, experiment=args.experiment)
    )
    search = task_output(args.search_dir, settings)
    params, losses, too_small = finished_proxies(search)
    if len(params) < max(args.folds, 4):
        raise BadInput(
            f"{search} has {len(params)} proxies with a loss ({too_small} too small to train): "
            f"at least {max(args.folds, 4)} are needed"
        )
    criteria, domains = params[0].criteria, params[0].domains
    x = np.stack([mixture_search.param_vector(p) for p in params])
    fit = mixture_regression.fit_regression(x, losses, args.folds, args.sample_seed)
    fit.metrics.update(folds=float(args.folds), too_small=float(too_small))
    out = search / "choice"
    out.mkdir(parents=True, exist_ok=True)
    regression = {
        **fit.metrics,
        "features": mixture_search.feature_names(params[0]),
        "points": [
            {"params_version": p.version, "actual": a, "lightgbm": g, "linear": r}
            for p, a, g, r in zip(params, losses, fit.lightgbm, fit.linear, strict=True)
        ],
    }
    (out / "regression.json").write_text(json.dumps(regression, indent=2))
    plot = plot_predictions(fit, out / "predicted_vs_actual.png")

    parent = args.parent_run_id
    tags = {"mlflow.parentRunId": parent} if parent else {}
    key = f"mixture_search/{parent or 'standalone'}"
    tracker = open_tracker(settings, f"{key}/regression/{search}", "regression", tags)
    tracker.log_params({"folds": args.folds, "proxies": len(params), "model": "lightgbm",
                        "baseline": "ridge"})  # fmt: skip
    tracker.log_metrics({k: v for k, v in fit.metrics.items() if np.isfinite(v)}, step=0)
    tracker.log_artifact(out / "regression.json")
    tracker.log_artifact(plot)
    tracker.finish()

    choice = mixture_regression.choose(
        fit.booster, criteria, domains, args.candidates, args.top_k, args.sample_seed,
        args.lambda_scale,
    )  # fmt: skip
    version = choice.params.version
    params_path = out / "params" / f"{version}.json"
    params_path.parent.mkdir(parents=True, exist_ok=True)
    params_path.write_text(choice.params.to_json())
    best_proxy = int(np.argmin(losses))
    summary = {
        "params_version": version,
        "params_path": str(params_path),
        "params": json.loads(choice.params.to_json()),
        "predicted_loss": choice.predicted_loss,
        "top_predictions": choice.top_predictions,
        "candidates": choice.candidates,
        "top_k": args.top_k,
        "best_proxy_loss": float(losses[best_proxy]),
        "best_proxy_params_version": params[best_proxy].version,
    }
    (out / "choice.json").write_text(json.dumps(summary, indent=2))
    chooser = open_tracker(settings, f"{key}/choice/{search}", "choice", tags)
    chooser.log_params({"params_version": version, "candidates": args.candidates,
                        "top_k": args.top_k})  # fmt: skip
    chooser.log_metrics({"predicted_loss": choice.predicted_loss,
                         "best_proxy_loss": summary["best_proxy_loss"]}, step=0)  # fmt: skip
    chooser.log_artifact(params_path, "params")
    chooser.log_artifact(out / "choice.json")
    chooser.log_artifact(write_page(result_page(fit, summary, too_small), out))
    chooser.finish()
    return {
        **summary,
        **{k: fit.metrics[k] for k in ("lightgbm_mae", "linear_mae", "spearman")},
        "proxies": len(params),
        "too_small": too_small,
        "regression_run_id": tracker.run_id,
        "choice_run_id": chooser.run_id,
    }


if __name__ == "__main__":
    run_entry_point(main)
