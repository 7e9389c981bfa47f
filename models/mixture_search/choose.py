"""Fit the search's regressor on its finished proxies and choose the mixture parameters.

Entry point::

    python -m models.mixture_search.choose --search-dir DIR [--parent-run-id ID]

Every finished seed-1 proxy of a sampled set under ``<search-dir>/proxies/`` (those of earlier
runs of the same search included) is one (parameters → bits per byte) point. LightGBM is
scored against the mean predictor and a ridge baseline by out-of-fold MAE (with bootstrap
intervals) and Spearman's ρ; refitted on all points it scores ``candidates`` fresh draws of
the paper's sampler, and the mean of the ``top_k`` best is the choice (``mixture_search``
settings): written as a new parameters version ``<search-dir>/choice/params/<version>.json``
and returned (with the JSON itself, and the best proxy's parameters: the confirm step's
control). Two MLflow runs under the search's parent: ``regression`` (metrics, intervals,
predicted-vs-actual plot) and ``choice`` (the chosen parameters).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from models.mixture_search.proxy import FINISHED
from thresher import mixture_regression, mixture_search
from thresher.config import Settings
from thresher.entrypoint import BadInput, open_task_tracker, run_entry_point, task_output
from thresher.quadmix import QuadMixParams
from thresher.report_page import ReportPage, write_page


def finished_proxies(search: Path) -> tuple[list[QuadMixParams], np.ndarray, list[str], int]:
    """Parameters, losses and parameter files of every sampled set's seed-1 proxy with a loss;
    and how many had too little data. Seed repeats and confirmations are not points."""
    params, losses, files, too_small = [], [], [], 0
    for record in sorted((search / "proxies").glob(f"*/seed-1/{FINISHED}")):
        result = json.loads(record.read_text())
        if result.get("index") is None:
            continue
        if result["loss"] is None:
            too_small += 1
            continue
        file = record.parent.parent / "params.json"
        params.append(QuadMixParams.from_json(file.read_text()))
        losses.append(float(result["loss"]))
        files.append(str(file))
    shapes = {(p.criteria, p.domains) for p in params}
    if len(shapes) > 1:
        raise BadInput(f"{search} mixes proxies over different criteria/domains: {shapes}")
    return params, np.asarray(losses), files, too_small


def plot_predictions(fit: mixture_regression.RegressionResult, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = fit.metrics
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.scatter(
        fit.actual,
        fit.linear,
        s=18,
        alpha=0.6,
        marker="s",
        color="tab:gray",
        label=f"ridge: MAE {m['linear_mae']:.4f}, ρ {m['linear_spearman']:.2f}",
    )
    ax.scatter(
        fit.actual,
        fit.lightgbm,
        s=22,
        color="tab:blue",
        label=f"LightGBM: MAE {m['lightgbm_mae']:.4f}, ρ {m['spearman']:.2f}",
    )
    low = float(min(fit.actual.min(), fit.lightgbm.min(), fit.linear.min()))
    high = float(max(fit.actual.max(), fit.lightgbm.max(), fit.linear.max()))
    ax.plot([low, high], [low, high], color="black", linewidth=0.8)
    ax.set_xlabel("proxy held-out bits per byte (actual)")
    ax.set_ylabel("predicted, out of fold")
    ax.set_title(
        f"{len(fit.actual)} proxies, {int(m['folds'])}-fold cross-validation; "
        f"mean predictor MAE {m['mean_baseline_mae']:.4f}",
        fontsize=9,
    )
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m models.mixture_search.choose")
    parser.add_argument("--search-dir", required=True, help="relative: under the checkpoints")
    parser.add_argument("--parent-run-id", default="", help="MLflow run of the whole search")
    return parser.parse_args(argv)


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
        [
            ("LightGBM", m["lightgbm_mae"], m["spearman"]),
            ("ridge (linear baseline)", m["linear_mae"], m["linear_spearman"]),
            ("mean predictor (baseline)", m["mean_baseline_mae"], float("nan")),
        ],
    )
    page.section(
        "Choice",
        f"Mean of the {summary['top_k']} best of {summary['candidates']:,} "
        "sampled parameter sets, as LightGBM predicts them.",
    )
    page.facts(
        {
            "predicted loss": summary["predicted_loss"],
            "best proxy's loss": summary["best_proxy_loss"],
            "best proxy's parameters": summary["best_proxy_params_version"],
        }
    )
    page.table(("rank", "predicted loss"), enumerate(summary["top_predictions"], start=1))
    return page


def main(argv: Sequence[str]) -> dict:
    args = parse_args(argv)
    settings = mixture_search.search_settings(Settings.from_env())
    config = settings.mixture_search
    search = task_output(args.search_dir, settings)
    params, losses, files, too_small = finished_proxies(search)
    if len(params) < max(config.folds, 4):
        raise BadInput(
            f"{search} has {len(params)} proxies with a loss ({too_small} too small to train): "
            f"at least {max(config.folds, 4)} are needed"
        )
    criteria, domains = params[0].criteria, params[0].domains
    x = np.stack([mixture_search.param_vector(p) for p in params])
    fit = mixture_regression.fit_regression(
        x, losses, config.folds, config.sample_seed, config.bootstrap
    )
    fit.metrics.update(folds=float(config.folds), too_small=float(too_small))
    out = search / "choice"
    out.mkdir(parents=True, exist_ok=True)
    regression = {
        **fit.metrics,
        "intervals": fit.intervals,
        "features": mixture_search.feature_names(params[0]),
        "points": [
            {"params_version": p.version, "actual": a, "lightgbm": g, "linear": r, "mean": m}
            for p, a, g, r, m in zip(
                params, losses, fit.lightgbm, fit.linear, fit.mean, strict=True
            )
        ],
    }
    (out / "regression.json").write_text(json.dumps(regression, indent=2))
    plot = plot_predictions(fit, out / "predicted_vs_actual.png")

    parent = args.parent_run_id
    tracker = open_task_tracker(
        settings, "mixture_search", "regression", search, "regression", parent
    )
    tracker.log_params(
        {
            "folds": config.folds,
            "proxies": len(params),
            "model": "lightgbm",
            "baselines": "mean,ridge",
        }
    )
    tracker.log_metrics({k: v for k, v in fit.metrics.items() if np.isfinite(v)}, step=0)
    tracker.log_artifact(out / "regression.json")
    tracker.log_artifact(plot)
    tracker.finish()

    choice = mixture_regression.choose(
        fit.booster,
        criteria,
        domains,
        config.candidates,
        config.top_k,
        config.sample_seed,
        settings.mixture.lambda_scale,
    )
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
        "top_k": config.top_k,
        "best_proxy_loss": float(losses[best_proxy]),
        "best_proxy_params_version": params[best_proxy].version,
        "best_proxy_params_path": files[best_proxy],
    }
    (out / "choice.json").write_text(json.dumps(summary, indent=2))
    chooser = open_task_tracker(settings, "mixture_search", "choice", search, "choice", parent)
    chooser.log_params(
        {"params_version": version, "candidates": config.candidates, "top_k": config.top_k}
    )
    chooser.log_metrics(
        {"predicted_loss": choice.predicted_loss, "best_proxy_loss": summary["best_proxy_loss"]},
        step=0,
    )
    chooser.log_artifact(params_path, "params")
    chooser.log_artifact(out / "choice.json")
    chooser.log_artifact(write_page(result_page(fit, summary, too_small), out))
    chooser.finish()
    return {
        **summary,
        "metrics": fit.metrics,
        "intervals": fit.intervals,
        "proxies": len(params),
        "too_small": too_small,
        "regression_run_id": tracker.run_id,
        "choice_run_id": chooser.run_id,
    }


if __name__ == "__main__":
    run_entry_point(main)
