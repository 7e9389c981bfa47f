"""Summary of a POSO grid: GAUC per model and user group over seeds, and each variant's
improvement with a 95 % confidence interval.

Improvements are paired by seed: a variant and its reference trained with the same seed
share the initial weights of every common layer and the order of batches, so the per-seed
difference removes most of the seed's own effect. The interval is Student's t over those
differences (n - 1 degrees of freedom); "improves" / "worse" mean the interval excludes 0,
"within noise" that it does not.

    python -m models.poso.summary --group GROUP [--output DIR]   # from MLflow runs
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from pathlib import Path

from models.poso.networks import MODELS

GROUPS = ("overall", "new", "regular")
BASELINE = "baseline"
# Two-sided 95 % Student t quantiles, by degrees of freedom (1 … 30).
T_975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
         2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
         2.060, 2.056, 2.052, 2.048, 2.045, 2.042)  # fmt: skip


def spread(values: list[float]) -> dict:
    """Mean, sample standard deviation and 95 % CI half-width (None below two values)."""
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    t = T_975[min(n - 1, len(T_975)) - 1] if n > 1 else None
    ci95 = t * std / math.sqrt(n) if t is not None else None
    return {"mean": mean, "std": std, "ci95": ci95, "n": n, "values": values}


def verdict(difference: dict) -> str:
    if difference["ci95"] is None:
        return "one seed: no interval"
    low, high = difference["mean"] - difference["ci95"], difference["mean"] + difference["ci95"]
    return "improves" if low > 0 else "worse" if high < 0 else "within noise"


def _gauc(result: dict, group: str) -> float | None:
    return result["test"][group]["gauc"]


def summarise(results: list[dict]) -> dict:
    """``results``: train.py's result dicts (one per model and seed) → the grid's summary."""
    by_model: dict[str, dict[int, dict]] = defaultdict(dict)
    for result in results:
        by_model[result["model"]][result["seed"]] = result
    models = {}
    for model, runs in sorted(by_model.items()):
        entry = {"seeds": sorted(runs)}
        for group in GROUPS:
            values = [_gauc(r, group) for r in runs.values() if _gauc(r, group) is not None]
            entry[f"gauc_{group}"] = spread(values) if values else None
            aucs = [r["test"][group]["auc"] for r in runs.values()
                    if r["test"][group]["auc"] is not None]  # fmt: skip
            entry[f"auc_{group}"] = spread(aucs) if aucs else None
        entry["epochs"] = spread([r["epochs"] for r in runs.values()])
        entry["wall_s"] = spread([r["wall_s"] for r in runs.values()])
        models[model] = entry
    improvements = {}
    for model in by_model:
        references = [BASELINE]
        twin = MODELS[model].twin
        if twin and twin != BASELINE:
            references.append(twin)
        for reference in references:
            if model == reference or reference not in by_model:
                continue
            seeds = sorted(set(by_model[model]) & set(by_model[reference]))
            entry = {"seeds": seeds}
            for group in GROUPS:
                pairs = [(_gauc(by_model[model][s], group), _gauc(by_model[reference][s], group))
                         for s in seeds]  # fmt: skip
                diffs = [a - b for a, b in pairs if a is not None and b is not None]
                entry[group] = spread(diffs) if diffs else None
                if entry[group] is not None:
                    entry[group]["verdict"] = verdict(entry[group])
            improvements[f"{model}_vs_{reference}"] = entry
    first = results[0] if results else {}
    return {"models": models, "improvements": improvements, "groups": first.get("groups")}


def _fmt(s: dict | None, signed: bool = False) -> str:
    if s is None:
        return "–"
    sign = "+" if signed else ""
    ci = f" ± {s['ci95']:.4f}" if s["ci95"] is not None else ""
    return f"{s['mean']:{sign}.4f}{ci}"


def markdown_table(summary: dict) -> str:
    lines = ["| model | GAUC overall | GAUC new | GAUC regular | epochs | wall s |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for model, m in summary["models"].items():
        lines.append(f"| {model} | {_fmt(m['gauc_overall'])} | {_fmt(m['gauc_new'])} | "
                     f"{_fmt(m['gauc_regular'])} | {m['epochs']['mean']:.1f} | "
                     f"{m['wall_s']['mean']:.0f} |")  # fmt: skip
    lines += ["", "| improvement (paired by seed, 95 % CI) | overall | new users | regular users |",
              "|---|---|---|---|"]  # fmt: skip
    for name, imp in summary["improvements"].items():
        cells = [f"{_fmt(imp[g], signed=True)} ({imp[g]['verdict']})" if imp[g] else "–"
                 for g in GROUPS]  # fmt: skip
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(summary: dict, path: Path) -> Path:
    """Bars of each variant's GAUC gain over the baseline, new vs regular users, with CIs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in summary["improvements"] if n.endswith(f"_vs_{BASELINE}")]
    fig, ax = plt.subplots(figsize=(1.6 * max(len(names), 2) + 2, 3.6))
    width = 0.38
    for offset, group in ((-width / 2, "new"), (width / 2, "regular")):
        rows = [summary["improvements"][n][group] for n in names]
        means = [r["mean"] if r else 0.0 for r in rows]
        errors = [r["ci95"] or 0.0 if r else 0.0 for r in rows]
        ax.bar([i + offset for i in range(len(names))], means, width, yerr=errors, capsize=4,
               label=f"{group} users")  # fmt: skip
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(names)), [n.removesuffix(f"_vs_{BASELINE}") for n in names])
    ax.set_ylabel("Δ test GAUC vs baseline")
    ax.set_title("POSO gain per user group (mean over seeds, 95 % CI)")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def results_from_mlflow(settings, group: str) -> list[dict]:
    """``result.json`` of every finished training run tagged with ``group``."""
    import tempfile

    from thresher import tracking

    client = tracking.client(settings)
    runs = client.search_runs(
        [tracking.experiment_id(settings)],
        f"tags.`thresher.poso.group` = '{group}' and attributes.status = 'FINISHED'",
    )
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        for run in runs:
            local = client.download_artifacts(run.info.run_id, "result.json", scratch)
            results.append(json.loads(Path(local).read_text()))
    return results


def main(argv: list[str] | None = None) -> dict:
    """Summarise the grid ``--group`` from MLflow into an MLflow run ``<group>/summary``."""
    import dataclasses
    import tempfile

    from thresher import tracking
    from thresher.config import Settings

    parser = argparse.ArgumentParser(prog="python -m models.poso.summary")
    parser.add_argument("--group", required=True)
    parser.add_argument("--experiment", default="thresher-poso")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    settings = dataclasses.replace(
        settings, tracking=dataclasses.replace(settings.tracking, experiment=args.experiment)
    )
    results = results_from_mlflow(settings, args.group)
    if not results:
        raise RuntimeError(f"no finished training runs tagged thresher.poso.group={args.group}")
    summary = summarise(results)
    run_id = tracking.open_run(settings, f"{args.group}/summary", f"{args.group} summary",
                               {"thresher.poso.summary_of": args.group})  # fmt: skip
    client = tracking.client(settings)
    with tempfile.TemporaryDirectory() as scratch:
        png = plot(summary, Path(scratch) / "poso_gain.png")
        client.log_artifact(run_id, str(png), "summary")
    client.log_text(run_id, markdown_table(summary), "summary/poso_summary.md")
    tracking.log_json(settings, run_id, summary, "summary/poso_summary.json")
    headline = {f"{model}.gauc_{g}": m[f"gauc_{g}"]["mean"] for model, m in
                summary["models"].items() for g in GROUPS if m[f"gauc_{g}"]}  # fmt: skip
    tracking.log_metrics(settings, run_id, headline)
    tracking.finish_run(settings, run_id)
    return {"mlflow_run_id": run_id, "runs": len(results), "models": sorted(summary["models"])}


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
