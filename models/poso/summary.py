"""Summary of a POSO grid: GAUC per model and user group over seeds, and each POSO variant
against its plain twin (and every model against the baseline) with a 95 % confidence interval.

Differences are paired by seed: a variant and its reference trained with the same seed share
the initial weights of every common layer and the order of batches, so the per-seed
difference removes most of the seed's own effect. The interval is Student's t over those
differences (n - 1 degrees of freedom); "improves" / "worse" mean the interval excludes 0,
"within noise" that it does not. The interval is over training seeds on one fixed test set:
it says how sure the gain is for these users, not for another draw of users.

The verdict the experiment exists for (the paper's direction): a variant *helps new users*
when its new-user difference to its twin improves and its regular-user difference is not
worse. ``models.poso.experiment`` logs this summary to the grid's MLflow run.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

from models.poso.grid import TWINS

GROUPS = ("overall", "new", "regular")
BASELINE = "baseline"
# Two-sided 95 % Student t quantiles, by degrees of freedom (1 … 30).
T_975 = (
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
)


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


def paired(by_model: dict, variant: str, reference: str, role: str) -> dict:
    """``variant`` − ``reference`` test GAUC per group, over the seeds both trained."""
    seeds = sorted(set(by_model[variant]) & set(by_model[reference]))
    entry: dict = {"variant": variant, "reference": reference, "role": role, "seeds": seeds}
    for group in GROUPS:
        pairs = [
            (_gauc(by_model[variant][s], group), _gauc(by_model[reference][s], group))
            for s in seeds
        ]
        diffs = [a - b for a, b in pairs if a is not None and b is not None]
        entry[group] = spread(diffs) if diffs else None
        if entry[group] is not None:
            entry[group]["verdict"] = verdict(entry[group])
    return entry


def helps_new_users(comparison: dict) -> bool:
    """The paper's direction: new users gain beyond the interval, regular users lose nothing
    beyond it."""
    new, regular = comparison["new"], comparison["regular"]
    return bool(new and new["verdict"] == "improves" and regular and regular["verdict"] != "worse")


def summarise(results: list[dict]) -> dict:
    """``results``: train.py's result dicts (one per model and seed) → the grid's summary."""
    by_model: dict[str, dict[int, dict]] = defaultdict(dict)
    for result in results:
        by_model[result["model"]][result["seed"]] = result
    models = {}
    for model, runs in sorted(by_model.items()):
        entry: dict = {"seeds": sorted(runs)}
        for group in GROUPS:
            values = [_gauc(r, group) for r in runs.values() if _gauc(r, group) is not None]
            entry[f"gauc_{group}"] = spread(values) if values else None
            aucs = [
                r["test"][group]["auc"]
                for r in runs.values()
                if r["test"][group]["auc"] is not None
            ]
            entry[f"auc_{group}"] = spread(aucs) if aucs else None
        entry["epochs"] = spread([r["epochs"] for r in runs.values()])
        entry["wall_s"] = spread([r["wall_s"] for r in runs.values()])
        models[model] = entry
    improvements = {}
    for variant, twin in TWINS.items():
        if variant in by_model and twin in by_model:
            improvements[f"{variant}_vs_{twin}"] = paired(by_model, variant, twin, "twin")
    for model in by_model:
        name = f"{model}_vs_{BASELINE}"
        if model != BASELINE and BASELINE in by_model and name not in improvements:
            improvements[name] = paired(by_model, model, BASELINE, "baseline")
    verdicts = {
        c["variant"]: {
            "twin": c["reference"],
            "new": c["new"]["verdict"] if c["new"] else None,
            "regular": c["regular"]["verdict"] if c["regular"] else None,
            "helps_new_users": helps_new_users(c),
        }
        for c in improvements.values()
        if c["role"] == "twin"
    }
    first = results[0] if results else {}
    return {
        "models": models,
        "improvements": improvements,
        "verdicts": verdicts,
        "groups": first.get("groups"),
        "scored": scored(first),
    }


def scored(result: dict) -> dict:
    """What the evaluation splits score, per group: events, users, and users GAUC counts
    (both classes present). Labels alone decide these, so every run of a grid agrees."""
    out = {}
    for split in ("valid", "test"):
        if split not in result:
            continue
        users = result.get("groups", {}).get(split, {})
        out[split] = {
            group: {
                "events": result[split][group]["events"],
                "users": users.get(group, {}).get("users") if group != "overall" else None,
                "gauc_users": result[split][group]["gauc_users"],
            }
            for group in GROUPS
        }
    return out


def _fmt(s: dict | None, signed: bool = False) -> str:
    if s is None:
        return "–"
    sign = "+" if signed else ""
    ci = f" ± {s['ci95']:.4f}" if s["ci95"] is not None else ""
    return f"{s['mean']:{sign}.4f}{ci}"


def markdown_table(summary: dict) -> str:
    lines = [
        "| model | GAUC overall | GAUC new | GAUC regular | epochs | wall s |",
        "|---|---|---|---|---|---|",
    ]
    for model, m in summary["models"].items():
        lines.append(
            f"| {model} | {_fmt(m['gauc_overall'])} | {_fmt(m['gauc_new'])} | "
            f"{_fmt(m['gauc_regular'])} | {m['epochs']['mean']:.1f} | "
            f"{m['wall_s']['mean']:.0f} |"
        )
    lines += [
        "",
        "| Δ GAUC (paired by seed, 95 % CI) | against | overall | new users | regular users |",
        "|---|---|---|---|---|",
    ]
    ordered = sorted(summary["improvements"].values(), key=lambda c: c["role"] != "twin")
    for imp in ordered:
        cells = [
            f"{_fmt(imp[g], signed=True)} ({imp[g]['verdict']})" if imp[g] else "–" for g in GROUPS
        ]
        against = f"{imp['reference']} ({imp['role']})"
        lines.append(f"| {imp['variant']} | {against} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(summary: dict, path: Path) -> Path:
    """Left: test GAUC per model and user group (mean over seeds, 95 % CI). Right: each POSO
    variant's paired difference to its plain twin per group, with its 95 % CI."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = list(summary["models"])
    twins = [c for c in summary["improvements"].values() if c["role"] == "twin"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(4 + 1.3 * len(models) + 1.6 * len(twins), 4))
    width = 0.26
    for k, group in enumerate(GROUPS):
        offset = (k - 1) * width
        label = f"{group} users" if group != "overall" else "all users"
        for axes, cells in (
            (left, [summary["models"][m][f"gauc_{group}"] for m in models]),
            (right, [c[group] for c in twins]),
        ):
            # a cell is a mean with its 95 % interval, or None where no seed had one
            axes.bar(
                [i + offset for i in range(len(cells))],
                [c["mean"] if c else 0.0 for c in cells],
                width,
                yerr=[(c["ci95"] or 0.0) if c else 0.0 for c in cells],
                capsize=3,
                label=label,
            )
    means = [
        summary["models"][m][f"gauc_{g}"]["mean"]
        for m in models
        for g in GROUPS
        if summary["models"][m][f"gauc_{g}"]
    ]
    if means:
        left.set_ylim(max(0.0, min(means) - 0.05), min(1.0, max(means) + 0.03))
    left.set_xticks(range(len(models)), models, rotation=20)
    left.set_ylabel("test GAUC")
    left.set_title("GAUC per model and group (95 % CI over seeds)")
    left.legend(fontsize=8)
    right.axhline(0, color="black", linewidth=0.8)
    right.set_xticks(range(len(twins)), [f"{c['variant']}\n− {c['reference']}" for c in twins])
    right.set_ylabel("Δ test GAUC, paired by seed")
    right.set_title("POSO variant − its plain twin (95 % CI)")
    right.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
