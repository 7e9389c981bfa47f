"""The POSO grid's MLflow run: one parent run per grid, one child run per (model, seed).

``open_grid`` opens the parent before the cells train and logs the grid, the split
settings and the events job's counts per split and user group (``poso/events.json``). Each
cell (``models.poso.train --parent-run-id``) is a child run. ``close_experiment_run`` reads
the finished children's ``result.json`` back, and logs to the parent the summary
(``poso/summary.json``, ``poso/summary.md``), the comparison plot (``poso/comparison.png``:
GAUC per model and group, and each POSO variant's paired difference to its twin, with 95 %
intervals) and the headline metrics, then finishes it: the ``open`` and ``summary`` steps
(``open_grid``, ``close_grid``) of the declared experiment (``thresher.experiments.POSO``) that
the DAG and ``make bench-poso`` run.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from models.poso import grid, summary
from thresher import names
from thresher.config import Settings
from thresher.experiments import POSO, StepContext


def experiment_settings(settings: Settings) -> Settings:
    """The settings with MLflow's experiment set to the POSO one (``poso.experiment``)."""
    return POSO.tracking_settings(settings)


def open_grid(ctx: StepContext) -> dict:
    """The ``open`` step of ``thresher.experiments.POSO``: the grid's parent run (found again
    by the run's key on a retry) with what it will run and the events' counts, and where the
    cells keep their checkpoints (one folder per run, so a retried cell resumes from its last
    epoch) and find their runs again."""
    from thresher import tracking

    settings = experiment_settings(ctx.settings)
    poso = settings.poso
    events = ctx.outputs["events"]
    label = ctx.run_key.rsplit("/", 1)[-1]
    # The run's folder under the checkpoint root: its id as a label (no "/", no leading ".").
    folder = names.label("run folder", label.replace(":", "-").replace("+", "-"))
    tags = {"thresher.experiment": ctx.experiment, **ctx.tags}
    run_id = tracking.open_run(settings, ctx.run_key, f"poso {label}", tags)
    cells = grid.cells(poso)
    params = {
        "poso.grid.models": ",".join(poso.models),
        "poso.grid.seeds": str(poso.seeds),
        "poso.grid.cells": str(len(cells)),
        "poso.grid.twins": ",".join(f"{v}:{t}" for v, t in grid.twins_in(poso.models).items()),
    }
    logged = tracking.client(settings).get_run(run_id).data.params
    fresh = {k: v for k, v in params.items() if k not in logged}  # a retry logs nothing twice
    if fresh:
        tracking.log_params(settings, run_id, fresh)
    tracking.log_json(settings, run_id, events, "poso/events.json")
    return {
        "run_id": run_id,
        "cells": len(cells),
        "run_key": ctx.run_key,
        "output_dir": f"poso/{events['dataset']}/{folder}",
    }


def child_results(settings: Settings, run_id: str) -> list[dict]:
    """``result.json`` of every finished child of the parent ``run_id``."""
    from thresher import tracking

    settings = experiment_settings(settings)
    client = tracking.client(settings)
    runs = client.search_runs(
        [tracking.experiment_id(settings)],
        f"tags.`mlflow.parentRunId` = '{_run_id(run_id)}' and attributes.status = 'FINISHED'",
    )
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        for run in runs:
            local = client.download_artifacts(run.info.run_id, "result.json", scratch)
            results.append(json.loads(Path(local).read_text()))
    return results


def close_experiment_run(settings: Settings, run_id: str) -> dict:
    """Summarise the children into the parent run and finish it; return the summary."""
    from thresher import tracking

    settings = experiment_settings(settings)
    results = child_results(settings, run_id)
    if not results:
        raise RuntimeError(f"MLflow run {run_id} has no finished child runs to summarise")
    found = summary.summarise(results)
    table = summary.markdown_table(found)
    client = tracking.client(settings)
    with tempfile.TemporaryDirectory() as scratch:
        png = summary.plot(found, Path(scratch) / "comparison.png")
        client.log_artifact(run_id, str(png), "poso")
    client.log_text(run_id, table, "poso/summary.md")
    tracking.log_json(settings, run_id, found, "poso/summary.json")
    headline = {
        f"{model}.gauc_{g}": m[f"gauc_{g}"]["mean"]
        for model, m in found["models"].items()
        for g in summary.GROUPS
        if m[f"gauc_{g}"]
    }
    for name, comparison in found["improvements"].items():
        for group in summary.GROUPS:
            difference = comparison[group]
            if difference is not None and difference["ci95"] is not None:
                headline[f"{name}.{group}.delta"] = difference["mean"]
                headline[f"{name}.{group}.ci95"] = difference["ci95"]
    tracking.log_metrics(settings, run_id, headline | {"runs": len(results)})
    tracking.finish_run(settings, run_id)
    return {"run_id": run_id, "runs": len(results), "summary": found, "table": table}


def close_grid(ctx: StepContext) -> dict:
    """The ``summary`` step: the children's results → table, paired differences and plot on
    the parent run, which it finishes."""
    return close_experiment_run(ctx.settings, ctx.outputs["open"]["run_id"])


def _run_id(value: str) -> str:
    """An MLflow run id is hex; anything else never reaches the search filter."""
    if not value or not all(c in "0123456789abcdef" for c in value.lower()):
        raise ValueError(f"not an MLflow run id: {value!r}")
    return value
