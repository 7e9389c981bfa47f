"""The grid's MLflow run: a parent opened once, its finished children summarised into it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from models.poso import experiment
from tests.conftest import make_settings
from tests.models.poso.test_summary import RESULTS
from thresher import names, tracking
from thresher.config import PosoSettings
from thresher.experiments import StepContext

DAY = dt.date(2026, 11, 20)


@pytest.fixture
def settings(tmp_path):
    poso = PosoSettings(models=("baseline", "poso_mlp", "poso_mha"), seeds=2)
    return experiment.experiment_settings(make_settings(tmp_path / "home", poso=poso))


def child(settings, parent: str, result: dict, status: str = "FINISHED") -> str:
    """A training run as ``models.poso.train`` leaves it: a child with its result.json."""
    client = tracking.client(settings)
    run = client.create_run(tracking.experiment_id(settings), tags={"mlflow.parentRunId": parent})
    tracking.log_json(settings, run.info.run_id, result, "result.json")
    client.set_terminated(run.info.run_id, status)
    return run.info.run_id


def test_the_parent_run_is_opened_once_and_summarises_its_finished_children(settings, tmp_path):
    events = {"dataset": "ml-100k", "splits": {"test": {"new": {"events": 2000, "users": 240}}}}
    ctx = StepContext(
        settings, "poso", "poso/manual__2026-11-20T00:00:00+00:00", DAY, {"events": events}
    )
    with pytest.raises(names.InvalidName, match="run folder"):
        experiment.open_grid(dataclasses.replace(ctx, run_key="poso/.."))
    client = tracking.client(settings)
    assert client.search_runs([tracking.experiment_id(settings)]) == []  # nothing opened
    opened = experiment.open_grid(ctx)
    again = experiment.open_grid(ctx)
    assert (
        opened
        == again
        == {
            "run_id": opened["run_id"],
            "cells": 6,
            "run_key": ctx.run_key,
            "output_dir": "poso/ml-100k/manual__2026-11-20T00-00-00-00-00",  # a folder name
        }
    )
    parent = opened["run_id"]
    with pytest.raises(RuntimeError, match="no finished child runs"):
        experiment.close_experiment_run(settings, parent)
    with pytest.raises(ValueError, match="not an MLflow run id"):
        experiment.child_results(settings, "x' or '1'='1")
    for result in RESULTS:
        if result["model"] in ("baseline", "poso_mlp") and result["seed"] < 3:
            child(settings, parent, result)
    child(settings, parent, RESULTS[0] | {"model": "poso_mha"}, status="FAILED")  # not counted

    closed = experiment.close_experiment_run(settings, parent)

    assert closed["runs"] == 4 and set(closed["summary"]["models"]) == {"baseline", "poso_mlp"}
    assert closed["summary"]["verdicts"]["poso_mlp"]["new"] == "within noise"  # two seeds
    client = tracking.client(settings)
    run = client.get_run(parent)
    assert run.info.status == "FINISHED"
    assert run.data.params["poso.grid.twins"] == "poso_mlp:baseline,poso_mha:baseline"
    assert run.data.metrics["poso_mlp_vs_baseline.new.delta"] == pytest.approx(0.035)
    artifacts = {a.path for a in client.list_artifacts(parent, "poso")}
    assert artifacts == {
        "poso/comparison.png",
        "poso/summary.md",
        "poso/summary.json",
        "poso/events.json",
    }
    logged = client.download_artifacts(parent, "poso/events.json", str(tmp_path))
    assert json.loads(Path(logged).read_text()) == events
