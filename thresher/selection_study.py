"""The selection study's driver steps: its parent MLflow run and the summary of every arm.

``summarise`` turns the arms' results (one per arm and seed, from ``models.selection.arm``)
into what ``bench/results/selection.json`` holds: per arm the bits per byte per language and
their mean over languages, each a mean over seeds with its 95 % Student-t half-width
(``ci95``), the choice tasks' accuracy beside chance and MLC, and the difference to
``random`` paired by seed. A plot of bits per byte per language per arm, with the intervals,
is logged to the parent run.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from pathlib import Path

from thresher.stats import mean_ci, paired_difference


def study_settings(settings):
    """``settings`` logging to the study's MLflow experiment."""
    from thresher.experiments import SELECTION_STUDY

    return SELECTION_STUDY.tracking_settings(settings)


def open_study(ctx) -> dict:
    """The study's parent run (found again by the run's key), with what is held fixed."""
    from thresher import tracking

    settings = study_settings(ctx.settings)
    features = ctx.outputs["features"]
    run_id = tracking.open_run(
        settings,
        ctx.run_key,
        f"selection_study {features['dir'].rsplit('/', 1)[-1]}",
        {"thresher.experiment": ctx.experiment, **ctx.tags},
    )
    fixed = {
        "study.dir": features["dir"],
        "study.features_fingerprint": features["fingerprint"],
        "study.arms": ",".join(settings.selection.arms),
        "study.seeds": settings.selection.seeds,
        "study.budget_tokens": settings.proxy.budget_tokens,
        "study.language_policy": settings.mixture.language_policy,
        "study.proxy": f"{settings.proxy.size} × {settings.proxy.max_steps} steps",
    }
    logged = tracking.client(settings).get_run(run_id).data.params
    fresh = {k: v for k, v in fixed.items() if k not in logged}
    if fresh:
        tracking.log_params(settings, run_id, fresh)
    return {"run_id": run_id}


def summarise_arms(results: list[dict]) -> dict:
    """Per arm: means over seeds with intervals, and the paired difference to ``random``."""
    finished: dict[str, dict[int, dict]] = defaultdict(dict)
    arms: dict[str, dict] = {}
    for result in results:
        if result.get("status") == "finished":
            finished[result["arm"]][result["seed"]] = result
        else:
            arms.setdefault(result["arm"], {"skipped": result.get("detail", result["status"])})
    baseline = {seed: r["bpb_mean"] for seed, r in finished.get("random", {}).items()}
    # random first: every other arm's beyond_intervals reads its interval
    for arm, by_seed in sorted(finished.items(), key=lambda item: item[0] != "random"):
        languages = sorted({lang for r in by_seed.values() for lang in r["bpb_by_language"]})
        tasks = sorted({task for r in by_seed.values() for task in r.get("choice", {})})
        mean = mean_ci([r["bpb_mean"] for r in by_seed.values()])
        arms[arm] = {
            "seeds": sorted(by_seed),
            "bpb_by_language": {
                lang: mean_ci([r["bpb_by_language"][lang] for r in by_seed.values()])
                for lang in languages
            },
            "bpb_mean": mean["mean"],
            "ci95": mean["ci95"],
            "accuracy": {
                task: {
                    **mean_ci([r["choice"][task]["accuracy"] for r in by_seed.values()]),
                    "chance": next(iter(by_seed.values()))["choice"][task]["chance"],
                }
                for task in tasks
            },
            "mlc": {
                task: mean_ci([r["choice"][task]["mlc"] for r in by_seed.values()])
                for task in tasks
            },
            "realised_tokens": mean_ci([r["quota"]["realised_tokens"] for r in by_seed.values()]),
            "language_shares": {
                lang: mean_ci(
                    [r["quota"]["languages"][lang]["realised_share"] for r in by_seed.values()]
                )
                for lang in next(iter(by_seed.values()))["quota"]["languages"]
            },
            "epochs": mean_ci([r["epochs"] for r in by_seed.values()]),
            "documents": mean_ci([r["documents"] for r in by_seed.values()]),
        }
        if arm != "random" and baseline:
            mine = {seed: r["bpb_mean"] for seed, r in by_seed.items()}
            arms[arm]["minus_random"] = paired_difference(mine, baseline)
            random_ci = arms.get("random", {}).get("ci95")
            if random_ci is not None and mean["ci95"] is not None:
                gap = arms["random"]["bpb_mean"] - mean["mean"]
                arms[arm]["beyond_intervals"] = gap > random_ci + mean["ci95"]
    return dict(sorted(arms.items()))


def plot_bpb(arms: dict, path: Path) -> Path:
    """Grouped bars: bits per byte per language (and the mean) per arm, 95 % intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = {a: v for a, v in arms.items() if "bpb_by_language" in v}
    languages = sorted({lang for v in shown.values() for lang in v["bpb_by_language"]})
    columns = [*languages, "mean"]
    width = 0.8 / max(len(shown), 1)
    fig, ax = plt.subplots(figsize=(max(8, len(columns) * 1.1), 4.5))
    for i, (arm, values) in enumerate(shown.items()):
        rows = [values["bpb_by_language"][lang] for lang in languages]
        means = [r["mean"] for r in rows] + [values["bpb_mean"]]
        errors = [r["ci95"] or 0 for r in rows] + [values["ci95"] or 0]
        xs = [x + (i - (len(shown) - 1) / 2) * width for x in range(len(columns))]
        ax.bar(xs, means, width, yerr=errors, capsize=2, label=arm)
    ax.set_xticks(range(len(columns)), columns)
    ax.set_ylabel("held-out bits per byte (lower is better)")
    # the lowest bar of any language (not only the means), less its interval, stays in view
    low = min(
        (
            r["mean"] - (r["ci95"] or 0)
            for v in shown.values()
            for r in v["bpb_by_language"].values()
        ),
        default=0.0,
    )
    ax.set_ylim(bottom=max(0.0, low * 0.8))
    ax.set_title("Selection arms on held-out text (test half), mean over seeds, 95 % CI")
    ax.legend(fontsize=8, ncol=3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def summarise(ctx) -> dict:
    """The summary step: the results document, logged with the plot; closes the parent run."""
    from thresher import tracking

    settings = study_settings(ctx.settings)
    features, run_id = ctx.outputs["features"], ctx.outputs["open"]["run_id"]
    arms = summarise_arms(list(ctx.outputs["arm"]))
    heldout = settings.heldout
    results = {
        "budget_tokens": settings.proxy.budget_tokens,
        "seeds": settings.selection.seeds,
        "pool": {
            k: features[k]
            for k in (
                "features",
                "documents",
                "tokens",
                "criteria_versions",
                "domains",
                "source_versions",
            )
            if k in features
        },
        "eval_sets": {
            "perplexity": list(heldout.sets),
            "choice": list(heldout.choice_sets),
            "half": "test",
            "items_per_set_and_language": heldout.limit,
            "languages": list(settings.languages),
            "variant": heldout.variant,
        },
        "proxy": {
            "size": settings.proxy.size,
            "max_steps": settings.proxy.max_steps,
            "batch_size": settings.proxy.batch_size,
            "sequence_length": settings.proxy.sequence_length,
            "vocab_size": settings.proxy.vocab_size,
        },
        "language_policy": settings.mixture.language_policy,
        "arms": arms,
        "mlflow_parent_run": run_id,
    }
    metrics = {f"{arm}.bpb_mean": v["bpb_mean"] for arm, v in arms.items() if "bpb_mean" in v}
    metrics.update(
        {
            f"{arm}.minus_random": v["minus_random"]["mean"]
            for arm, v in arms.items()
            if v.get("minus_random", {}).get("mean") is not None
        }
    )
    tracking.log_metrics(settings, run_id, metrics)
    tracking.log_json(settings, run_id, results, "selection/results.json")
    with tempfile.TemporaryDirectory() as folder:
        plot = plot_bpb(arms, Path(folder) / "bpb_by_language.png")
        tracking.client(settings).log_artifact(run_id, str(plot), "selection")
    tracking.finish_run(settings, run_id)
    return results
