"""POSO grid on MovieLens-100K: the DAG's grid, each POSO variant against its plain twin on
new, regular and all users, with 95 % intervals over paired seeds.

Runs the poso DAG's steps (``thresher.experiments.POSO``, through ``bench.experiments``) in a
throwaway home (``bench/.work/poso``), without Airflow:

1. ``events``: ``spark_jobs.movielens`` on the ML-100K files inside the ``recbole`` package,
   the held-out-user / time split of ``PosoSettings``;
2. ``open``: the grid's parent MLflow run (``models.poso.experiment``; SQLite under the home);
3. ``train``: ``python -m models.poso.train`` for every cell of ``models.poso.grid``, the DAG's
   arguments, ``--workers`` cells at a time (as the DAG's local executor runs parallel
   tasks), one torch thread each;
4. ``summary``: the paired differences and the comparison plot on the parent run.

Writes ``bench/results/poso.json`` — how many new and regular users and events each split
scores, GAUC per model and group, every variant's paired difference to its twin (and every
model's to the baseline) with its interval and verdict, the wall time, and what else loaded
the machine — and ``bench/results/poso_comparison.png`` (the plot logged to MLflow).

    .venv/bin/python -m bench.poso [--seeds N] [--models a,b] [--max-epochs N] [--workers 2]

Settings come from ``PosoSettings`` (``THRESHER_POSO_*``); the flags override the grid.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "poso.json"
WORK = REPO / "bench" / ".work" / "poso"


def busiest_processes(count: int = 6) -> list[str]:
    """The processes using most CPU now (the machine is shared): ``%cpu command``."""
    done = subprocess.run(
        ["ps", "-eo", "pcpu,comm", "--sort=-pcpu", "--no-headers"], capture_output=True, text=True
    )
    return [" ".join(line.split()) for line in done.stdout.splitlines()[:count]]


def machine_load() -> dict:
    return {
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "busiest_processes": busiest_processes(),
    }


def item_rate_reference(events: str) -> dict:
    """Test GAUC per group of a score with no model and no seed: each item's positive rate in
    the training split (the global rate for an item never trained on). A constant scores 0.5."""
    import numpy as np

    from models.poso import data, metrics

    splits = data.encode(data.read_events(events)).splits
    train, test = splits["train"], splits["test"]
    items = train["item"].numpy()
    size = int(max(items.max(), test["item"].numpy().max())) + 1
    seen = np.bincount(items, minlength=size)
    liked = np.bincount(items, weights=train["label"].numpy(), minlength=size)
    rate = np.where(seen > 0, liked / np.maximum(seen, 1), train["label"].numpy().mean())
    found = metrics.group_metrics(
        test["label"].numpy(),
        rate[test["item"].numpy()],
        test["user_key"].numpy(),
        test["is_new"].numpy(),
    )
    return {group: found[group]["gauc"] for group in metrics.GROUPS}


def run(workers: int, plot_path: Path) -> dict:
    import torch

    from bench.experiments import run_experiment
    from models.poso import train
    from thresher.config import Settings
    from thresher.experiments import POSO

    settings = Settings.from_env()
    poso = settings.poso
    before = machine_load()
    outputs, seconds = run_experiment(POSO, settings, parallel=workers)
    events, closed = outputs["events"], outputs["summary"]
    threads = 1 if settings.executor == "local" else 0  # models.poso.grid.cell_arguments
    reference = item_rate_reference(events["export_path"])
    found = closed["summary"]
    from models.poso import summary as poso_summary

    poso_summary.plot(found, plot_path)
    print(closed["table"])
    twins = {
        c["variant"]: {g: c[g] for g in ("reference", *poso_summary.GROUPS)}
        for c in found["improvements"].values()
        if c["role"] == "twin"
    }
    return {
        "dataset": f"{poso.dataset}: {poso.input_path or 'MovieLens-100K inside recbole 1.2.1'}",
        "task": (
            f"rating >= {poso.positive_rating:g} (Satisfied); new user = fewer than "
            f"{poso.new_user_threshold} interactions before the event; split {poso.split}: "
            f"{poso.held_out_valid_users:g} / {poso.held_out_test_users:g} of users held out "
            f"(their first {poso.new_user_threshold} events = valid / test new users), the "
            f"other users' events split by time {1 - poso.valid_fraction - poso.test_fraction:g}"
            f"/{poso.valid_fraction:g}/{poso.test_fraction:g}"
        ),
        "events_job": {
            "stages": events["stages"],
            "splits": events["splits"],
            "wall_s": seconds["events"],
        },
        "scored": found["scored"],
        "settings": {
            "models": list(poso.models),
            "seeds": list(range(1, poso.seeds + 1)),
            "split": poso.split,
            "held_out_valid_users": poso.held_out_valid_users,
            "held_out_test_users": poso.held_out_test_users,
            "new_user_threshold": poso.new_user_threshold,
            "max_epochs": poso.max_epochs,
            "patience": poso.patience,
            "learning_rate": poso.learning_rate,
            "gate_scale": poso.gate_scale,
            "torch_threads": threads,
            "workers": workers,
            "batch_size": train.TrainConfig.batch_size,
            "monitor": train.MONITOR,
        },
        "paired_vs_twin": twins,
        "reference_test_gauc": {"item_positive_rate": reference, "constant": 0.5},
        "verdicts": found["verdicts"],
        "models": found["models"],
        "improvements": found["improvements"],
        "groups": found["groups"],
        "table": closed["table"],
        "mlflow": {
            "parent_run_id": closed["run_id"],
            "child_runs": closed["runs"],
            "experiment": poso.experiment,
        },
        "grid_wall_s": seconds["train"],
        "total_wall_s": round(sum(seconds.values()), 1),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "torch": torch.__version__,
            "nice": os.nice(0),
            "before": before,
            "after": machine_load(),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.poso")
    parser.add_argument("--models", help="comma-separated (default: THRESHER_POSO_MODELS)")
    parser.add_argument("--seeds", type=int, help="default: THRESHER_POSO_SEEDS")
    parser.add_argument("--max-epochs", type=int, help="default: THRESHER_POSO_MAX_EPOCHS")
    parser.add_argument("--workers", type=int, default=2, help="cells trained at once")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    shutil.rmtree(WORK, ignore_errors=True)  # measure whole runs, not resumptions
    os.environ["THRESHER_HOME"] = str(WORK / "home")  # the entry points read their settings
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    for flag, name in (("models", "MODELS"), ("seeds", "SEEDS"), ("max_epochs", "MAX_EPOCHS")):
        if getattr(args, flag) is not None:
            os.environ[f"THRESHER_POSO_{name}"] = str(getattr(args, flag))
    plot = args.output.with_name(args.output.stem + "_comparison.png")
    result = run(args.workers, plot)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.output} and {plot} (grid {result['grid_wall_s']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
