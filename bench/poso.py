"""POSO grid on MovieLens-100K: the DAG's grid, each POSO variant against its plain twin on
new, regular and all users, with 95 % intervals over paired seeds.

Runs the poso DAG's steps in a throwaway home (``bench/.work/poso``), each through the code
its task calls (no Airflow):

1. ``spark_jobs.movielens`` (its CLI, so its JVM ends with it) on the ML-100K files inside
   the ``recbole`` package: the held-out-user / time split of ``PosoSettings``;
2. the grid's parent MLflow run (``models.poso.experiment``; SQLite under the home);
3. ``models.poso.train`` for every cell of ``models.poso.grid`` with the DAG's arguments
   (``grid.training_arguments``), ``--workers`` cells at a time (as the DAG's local executor
   runs parallel tasks), one torch thread each;
4. ``close_experiment_run``: the summary and the comparison plot on the parent run.

Writes ``bench/results/poso.json`` — how many new and regular users and events each split
scores, GAUC per model and group, every variant's paired difference to its twin (and every
model's to the baseline) with its interval and verdict, the wall time, and what else loaded
the machine — and ``bench/results/poso_comparison.png`` (the plot logged to MLflow).

    .venv/bin/python -m bench.poso [--seeds N] [--models a,b] [--max-epochs N] [--workers 2]
                                   [--events PATH]

Settings come from ``PosoSettings`` (``THRESHER_POSO_*``); the flags override the grid.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "poso.json"
WORK = REPO / "bench" / ".work" / "poso"
PARTITION = "2026-11-20"


def prepare_events(home: Path) -> tuple[dict, float]:
    """Run the Spark job (its CLI, so its JVM ends with it) into ``home``'s lake; return its
    summary and its seconds."""
    command = [sys.executable, "-m", "spark_jobs.movielens", "--date", PARTITION]
    started = time.perf_counter()
    done = subprocess.run(command, env=os.environ, cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    summary = json.loads(done.stdout[done.stdout.index("{") :])
    return summary, time.perf_counter() - started


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


def train_cells(arguments: list[list[str]], workers: int) -> None:
    """``models.poso.train`` on every argument list, ``workers`` processes at a time."""
    from models.poso import train

    if workers <= 1:
        for cell in arguments:
            train.main(cell)
        return
    # spawn, not fork: a forked child would inherit this process's torch and MLflow state.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        list(pool.map(train.main, arguments))


def run(events: str | None, threads: int, workers: int, plot_path: Path) -> dict:
    import torch

    from models.poso import experiment, grid, train
    from thresher.config import Settings

    settings = Settings.from_env()
    poso = settings.poso
    data, data_s = {"stages": None, "splits": None}, 0.0
    before = machine_load()
    if events is None:
        data, data_s = prepare_events(Path(os.environ["THRESHER_HOME"]))
        events = data["export_path"]
    opened = experiment.open_experiment_run(
        settings,
        f"bench/poso/{time.time_ns()}",
        "bench poso",
        events=data,
        tags={"thresher.via": "bench"},
    )
    arguments = [
        grid.training_arguments(
            cell,
            poso,
            events=events,
            output=f"poso/bench/{cell.name}",
            run_key=f"bench/poso/{opened['run_id']}/{cell.name}",
            parent_run_id=opened["run_id"],
            date=PARTITION,
            threads=threads,
        )
        for cell in grid.cells(poso)
    ]
    grid_started = time.perf_counter()
    train_cells(arguments, workers)
    grid_s = time.perf_counter() - grid_started
    closed = experiment.close_experiment_run(settings, opened["run_id"])
    reference = item_rate_reference(events)
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
            "stages": data["stages"],
            "splits": data["splits"],
            "wall_s": round(data_s, 1),
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
        "grid_wall_s": round(grid_s, 1),
        "total_wall_s": round(grid_s + data_s, 1),
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
    # One torch thread: on a shared 2-core machine two threads measured 5-20x slower per epoch.
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="cells trained at once")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--events", help="an existing events export: skip the Spark job")
    args = parser.parse_args(argv)
    shutil.rmtree(WORK, ignore_errors=True)  # measure whole runs, not resumptions
    os.environ["THRESHER_HOME"] = str(WORK / "home")  # the entry points read their settings
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    for flag, name in (("models", "MODELS"), ("seeds", "SEEDS"), ("max_epochs", "MAX_EPOCHS")):
        if getattr(args, flag) is not None:
            os.environ[f"THRESHER_POSO_{name}"] = str(getattr(args, flag))
    plot = args.output.with_name(args.output.stem + "_comparison.png")
    result = run(args.events, args.threads, args.workers, plot)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.output} and {plot} (grid {result['grid_wall_s']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
