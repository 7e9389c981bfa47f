"""POSO grid on MovieLens-100K: every model × seed, GAUC overall / new / regular users.

Runs the pipeline's own code in a throwaway home (``bench/.work/poso``): the Spark job
(``spark_jobs.movielens``) on the ML-100K files inside the ``recbole`` package, then
``models.poso.train`` for each model and seed (fresh outputs, tracking off, in this
process, ``--threads`` torch threads), then ``models.poso.summary``. Writes
``bench/results/poso.json``: per model the mean, spread and 95 % CI over seeds of test
GAUC overall, for new and for regular users, epochs and wall time; each POSO variant's
paired gain over the baseline (and over its plain twin) with its verdict; the sample
imbalance between groups; and the wall time of the whole grid.

    .venv/bin/python -m bench.poso [--seeds 3] [--models baseline,poso_mlp,...] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "poso.json"
WORK = REPO / "bench" / ".work" / "poso"


def prepare_events(home: Path, partition: str) -> tuple[str, dict, float]:
    """Run the Spark job (its CLI, so its JVM ends with it) into ``home``'s lake; return the
    export path, the job's summary and its seconds."""
    env = {**os.environ, "THRESHER_HOME": str(home)}
    command = [sys.executable, "-m", "spark_jobs.movielens", "--date", partition]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    summary = json.loads(done.stdout[done.stdout.index("{") :])
    return summary["export_path"], summary, time.perf_counter() - started


def run(
    models: list[str], seeds: int, max_epochs: int, patience: int, threads: int,
    events: str | None = None, device: str = "auto", plot_path: Path | None = None,
) -> dict:  # fmt: skip
    import torch

    from models.poso import summary as poso_summary
    from models.poso.train import TrainConfig, train

    data, data_s = {"stages": None, "splits": None}, 0.0
    if events is None:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        events, data, data_s = prepare_events(WORK / "home", "2026-11-20")
    load_before = os.getloadavg()[0]  # the machine is shared: say how busy it was
    grid_started = time.perf_counter()
    results = []
    for model in models:
        for seed in range(1, seeds + 1):
            output = WORK / "runs" / f"{model}_s{seed}"
            shutil.rmtree(output, ignore_errors=True)  # measure whole runs, not resumptions
            config = TrainConfig(
                events=events, model=model, seed=seed, output=str(output),
                max_epochs=max_epochs, patience=patience, threads=threads, device=device,
            )  # fmt: skip
            results.append(train(config))
    grid_s = time.perf_counter() - grid_started
    summary = poso_summary.summarise(results)
    table = poso_summary.markdown_table(summary)
    poso_summary.plot(summary, plot_path or RESULTS.with_name("poso_gain.png"))
    print(table)
    return {
        "dataset": "MovieLens-100K (recbole 1.2.1 atomic files)",
        "task": "rating >= 4 (Satisfied); time-ordered split 80/10/10; new user = "
        "< 10 interactions before the event",
        "events_job": {
            "stages": data["stages"],
            "splits": data["splits"],
            "wall_s": round(data_s, 1),
        },
        "settings": {
            "models": models,
            "seeds": list(range(1, seeds + 1)),
            "max_epochs": max_epochs,
            "patience": patience,
            "torch_threads": threads,
            "batch_size": 512,
            "embedding_dim": 16,
            "hidden": [64, 32],
            "gate_scale": 2.0,
            "monitor": "valid overall GAUC",
        },  # fmt: skip
        "models": summary["models"],
        "improvements": summary["improvements"],
        "groups": summary["groups"],
        "table": table,
        "grid_wall_s": round(grid_s, 1),
        "total_wall_s": round(grid_s + data_s, 1),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "torch": torch.__version__,
            "device": results[0]["device"],
            "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        },  # fmt: skip
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.poso")
    parser.add_argument("--models", default="baseline,mmoe,poso_mlp,poso_mmoe,poso_mha")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--max-epochs", type=int, default=20)
    parser.add_argument("--patience", type=int, default=3)
    # One torch thread: on a shared 2-core machine two threads measured 5-20x slower per epoch.
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--events", help="an existing events export: skip the Spark job")
    parser.add_argument("--device", default="auto", help="torch device (auto: cuda if present)")
    args = parser.parse_args(argv)
    os.environ["THRESHER_TRACKING_TRACKING_URI"] = "off"
    result = run(args.models.split(","), args.seeds, args.max_epochs, args.patience,
                 args.threads, args.events, args.device,
                 args.output.with_name("poso_gain.png"))  # fmt: skip
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.output} (grid {result['grid_wall_s']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
