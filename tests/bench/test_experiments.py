"""The selection study, end to end, by the benchmarks' executor: the declared steps in order,
model steps as subprocesses given only THRESHER_SETTINGS, every arm against random."""

from __future__ import annotations

import dataclasses
import json

import pytest

from bench.experiments import model_environment, run_experiment
from tests.conftest import make_settings
from tests.corpus import write_scored_documents
from thresher import tracking
from thresher.config import HeldOutSettings, ProxySettings, SelectionStudySettings
from thresher.experiments import SELECTION_STUDY
from thresher.selection_study import study_settings


@pytest.fixture
def study(spark, tmp_path, shared_data):
    settings = make_settings(tmp_path / "home", languages=("en", "de", "fr"))
    write_scored_documents(spark, settings, documents=240)
    return dataclasses.replace(
        settings,
        proxy=ProxySettings(
            max_steps=2, sequence_length=32, batch_size=4, vocab_size=300, budget_tokens=20_000
        ),
        heldout=HeldOutSettings(sets=("flores",), choice_sets=("flores_cloze",), limit=2),
        # Two trained arms (each seed a model process) and one skipped: the executor's
        # whole path at the least cost; the arms' own choices have unit tests.
        selection=SelectionStudySettings(arms=("random", "quality_only", "murating"), seeds=2),
        mixture=dataclasses.replace(settings.mixture, language_policy="uniform"),
    )


# Four model processes and a Spark pool: minutes on 2 cores, so outside make test (make test-long).
@pytest.mark.long
def test_the_study_runs_every_arm_and_seed_and_summarises_them(study, monkeypatch):
    monkeypatch.setenv("THRESHER_HOME", "/nowhere")  # not passed on: the settings are
    assert "THRESHER_HOME" not in model_environment(study)

    outputs, seconds = run_experiment(SELECTION_STUDY, study, parallel=2)

    assert list(seconds) == [step.name for step in SELECTION_STUDY.steps]
    arms = outputs["arm"]
    assert len(arms) == 6 and {(a["arm"], a["seed"]) for a in arms} >= {("random", 1)}
    assert {a["status"] for a in arms if a["arm"] == "murating"} == {"skipped"}
    summary = outputs["summary"]
    assert set(summary) >= {"budget_tokens", "seeds", "pool", "eval_sets", "arms"}
    assert summary["arms"]["murating"]["skipped"].endswith("(run the murating DAG first)")
    for name in ("random", "quality_only"):
        arm = summary["arms"][name]
        assert set(arm) >= {"bpb_by_language", "bpb_mean", "ci95", "accuracy", "mlc"}
        assert set(arm["bpb_by_language"]) == {"en", "de", "fr"} and arm["ci95"] is not None
        assert abs(arm["realised_tokens"]["mean"] - 20_000) < 2_000  # the same quota for all
    assert summary["arms"]["quality_only"]["minus_random"]["seeds"] == [1, 2]

    settings = study_settings(study)
    client = tracking.client(settings)
    parent = client.get_run(summary["mlflow_parent_run"])
    assert parent.info.status == "FINISHED"
    below = f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'"
    children = client.search_runs([parent.info.experiment_id], below)
    assert len(children) == 4  # two arms trained, two seeds each
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id, "selection")}
    assert artifacts == {"selection/bpb_by_language.png", "selection/results.json"}
    # a re-run returns every finished arm at once
    again, _ = run_experiment(SELECTION_STUDY, study, parallel=2)
    assert all(a.get("resumed") for a in again["arm"] if a["status"] == "finished")
    assert json.dumps(again["summary"]["arms"]["random"]["bpb_mean"]) == json.dumps(
        summary["arms"]["random"]["bpb_mean"]
    )
