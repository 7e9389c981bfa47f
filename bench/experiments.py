"""The benchmarks' executor of a declared experiment (``thresher.experiments``).

The same steps, in the same order, as the experiment's DAG (``thresher_tasks.experiments``):
Spark and driver steps are called in this process with a ``StepContext``; model steps run as
``python -m <module> <arguments>`` subprocesses — what the DAG's local-process operator runs —
with the resolved settings as ``THRESHER_SETTINGS`` and nothing else of this process's
``THRESHER_*`` environment, ``parallel`` at a time. Each subprocess's output is kept in
``<logs>/<step>-<i>.log``; a failed one stops the run with its log's tail.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from thresher.config import SETTINGS_ENV, Settings
from thresher.entrypoint import RESULT_PATH_ENV
from thresher.experiments import MODEL, Experiment, StepContext, import_entry

log = logging.getLogger("bench.experiments")
# Kept for the model processes: where the shared corpora are, how Spark and Python behave.
PASSED_ON = ("THRESHER_SHARED_DATA",)


def model_environment(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("THRESHER_") or k in PASSED_ON}
    return {**env, SETTINGS_ENV: settings.to_json(), "PYTHONUNBUFFERED": "1"}


def run_model_tasks(
    step: str,
    module: str,
    argument_lists: list[list[str]],
    settings: Settings,
    logs: Path,
    parallel: int = 2,
) -> list[dict]:
    """Run ``python -m module args`` for every argument list, ``parallel`` at a time; their
    JSON results in order."""
    logs.mkdir(parents=True, exist_ok=True)
    environment = model_environment(settings)

    def one(index: int) -> dict:
        with tempfile.TemporaryDirectory() as folder:
            result = Path(folder) / "result.json"
            out = logs / f"{step}-{index}.log"
            started = time.perf_counter()
            with out.open("w") as handle:
                done = subprocess.run(
                    [sys.executable, "-m", module, *argument_lists[index]],
                    env={**environment, RESULT_PATH_ENV: str(result)},
                    stdout=handle,
                    stderr=subprocess.STDOUT,
                    check=False,
                )
            if done.returncode != 0:
                tail = out.read_text()[-3000:]
                raise RuntimeError(f"{module} {argument_lists[index]} failed:\n{tail}")
            log.info(
                "%s %d/%d in %.0f s",
                step,
                index + 1,
                len(argument_lists),
                time.perf_counter() - started,
            )
            return json.loads(result.read_text())

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        return list(pool.map(one, range(len(argument_lists))))


def run_experiment(
    experiment: Experiment,
    settings: Settings,
    params: dict | None = None,
    parallel: int = 2,
    logs: Path | None = None,
) -> tuple[dict, dict]:
    """Every step of ``experiment``; returns (results by step, seconds by step)."""
    now = dt.datetime.now(dt.UTC)
    run_key = f"bench/{experiment.name}/{now.isoformat(timespec='seconds')}"
    logs = logs or Path(settings.home) / "logs" / experiment.name
    params = experiment.run_params(settings, params)
    outputs: dict = {}
    seconds: dict = {}
    for step in experiment.steps:
        started = time.perf_counter()
        if step.kind == MODEL:
            lists = step.argument_lists(settings, lambda name, key: str(outputs[name][key]))
            results = run_model_tasks(step.name, step.entry, lists, settings, logs, parallel)
            outputs[step.name] = results if step.mapped else results[0]
        else:
            ctx = StepContext(
                settings,
                experiment.name,
                run_key,
                now.date(),
                dict(outputs),
                params,
                {"thresher.via": "bench"},
            )
            outputs[step.name] = import_entry(step.entry)(ctx)
        seconds[step.name] = round(time.perf_counter() - started, 1)
        log.info("%s.%s: %.0f s", experiment.name, step.name, seconds[step.name])
    return outputs, seconds
