"""The POSO grid's MLflow run: one parent run per grid, one child run per (model, seed).

``open_experiment_run`` opens the parent before the cells train and logs the grid, the split
settings and the events job's counts per split and user group (``poso/events.json``). Each
cell (``models.poso.train --parent-run-id``) is a child run. ``close_experiment_run`` reads
the finished children's ``result.json`` back, and logs to the parent the summary
(``poso/summary.json``, ``poso/summary.md``), the comparison plot (``poso/comparison.png``:
GAUC per model and group, and each POSO variant's paired difference to its twin, with 95 %
intervals) and the headline metrics, then finishes it. The DAG and ``make bench-poso`` both
go through here.

    python -m models.poso.experiment open --run-key KEY [--events-summary FILE]
    python -m models.poso.experiment close --run-id RUN_ID
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
from pathlib import Path

from models.poso import grid, summary
from thresher.config import Settings


def experiment_settings(settings: Settings) -> Settings:
    """The settings with MLflow's experiment set to the POSO one (``poso.experiment``)."""
    tracking = dataclasses.replace(settings.tracking, experiment=settings.poso.experiment)
    return dataclasses.replace(settings, tracking=tracking)


def open_experiment_run(
    settings: Settings,
    run_key: str,
    run_name: str,
    events: dict | None = None,
    tags: dict[str, str] | None = None,
) -> dict:
    """The grid's parent run (found again by ``run_key`` on a retry), with what it will run."""
    from thresher import tracking

    settings = experiment_settings(settings)
    poso = settings.poso
    run_id = tracking.open_run(settings, run_key, run_name, tags)
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
    if events is not None:
        tracking.log_json(settings, run_id, events, "poso/events.json")
    return {"run_id": run_id, "cells": len(cells)}


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


def _run_id(value: str) -> str:
    """An MLflow run id is hex; anything else never reaches the search filter."""
    if not value or not all(c in "0123456789abcdef" for c in value.lower()):
        raise ValueError(f"not an MLflow run id: {value!r}")
    return value


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m models.poso.experiment")
    commands = parser.add_subparsers(dest="command", required=True)
    opening = commands.add_parser("open", help="open the grid's parent run")
    opening.add_argument("--run-key", required=True)
    opening.add_argument("--run-name", default="")
    opening.add_argument("--events-summary", type=Path, help="the events job's JSON summary")
    closing = commands.add_parser("close", help="summarise the children, finish the parent")
    closing.add_argument("--run-id", required=True, type=_run_id)
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.command == "open":
        events = json.loads(args.events_summary.read_text()) if args.events_summary else None
        return open_experiment_run(settings, args.run_key, args.run_name or args.run_key, events)
    closed = close_experiment_run(settings, args.run_id)
    return {
        "run_id": closed["run_id"],
        "runs": closed["runs"],
        "verdicts": closed["summary"]["verdicts"],
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
