"""The demo as an operator sees it, in a real browser (``make ui-check`` after ``make demo``).

Starts the Airflow API server and the MLflow server on loopback over the demo's stores
(``$THRESHER_HOME``), drives Debian's headless Chromium through Playwright and looks for what
a person would: the curation run green with every task, a duration within a minute of the
wall-clock time ``scripts/run_dag.sh`` measured, a task log that opens, the MLflow run in the
model-training view with its stage metrics, and the partition report rendering. Screenshots go
to ``$THRESHER_HOME/ui-check/``. Skips, saying why, without a browser or a finished demo.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.ui.servers import airflow_api_server, mlflow_server
from thresher.jobs import CURATION

CHROMIUM = Path(os.environ.get("THRESHER_CHROMIUM", "/usr/bin/chromium"))
# Flags that let Debian's Chromium start as root on a machine with no route out.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CURATION_TASKS = 1 + len(CURATION.jobs)  # open_tracking_run, then a task per job
# Airflow shows a duration as HH:MM:SS (with days as "N days, HH:MM:SS" past a day).
DURATION = re.compile(r"(?:(\d+) days?, )?(\d{1,2}):(\d{2}):(\d{2})")

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def demo() -> dict:
    home = Path(os.environ.get("THRESHER_HOME", Path.cwd() / ".thresher"))
    record = home / "airflow" / "run-curation" / "last-run.json"
    if not record.is_file() or not (home / "mlflow.db").is_file():
        pytest.skip(f"no finished demo under {home}: run `make demo` first")
    run = json.loads(record.read_text())
    if run["state"] != "success":
        pytest.skip(f"the last demo run {run['run_id']} ended {run['state']}: nothing to look at")
    return {"home": home, **run}


@pytest.fixture(scope="module")
def browser(demo):
    if not CHROMIUM.is_file():
        pytest.skip(f"no browser at {CHROMIUM}: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed: pip install -e '.[ui]'")
    profile = demo["home"] / "ui-check" / "chromium-profile"
    shutil.rmtree(profile, ignore_errors=True)  # a fresh profile: what a new user sees
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            viewport={"width": 1440, "height": 1000},
        )
        yield context
        context.close()


@pytest.fixture(scope="module")
def shots(demo) -> Path:
    folder = demo["home"] / "ui-check"
    folder.mkdir(exist_ok=True)
    return folder


def _seconds(text: str) -> int:
    days, hours, minutes, seconds = DURATION.search(text).groups()
    return int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + int(seconds)


def test_the_curation_run_is_green_with_its_real_duration(demo, browser, shots):
    run_id = demo["run_id"]
    states = _task_states(demo["home"], run_id)
    assert len(states) == CURATION_TASKS and set(states.values()) == {"success"}, states
    with airflow_api_server(demo["home"]) as base:
        page = browser.new_page()
        page.goto(f"{base}/dags/curation/runs/{run_id}")
        page.get_by_text(f"{CURATION_TASKS} Task Instances").wait_for(timeout=120_000)
        page.get_by_text("stage_statistics").first.wait_for(timeout=60_000)
        page.screenshot(path=shots / "airflow-run.png", full_page=True)
        text = page.locator("body").inner_text()
        # The run's header (state, start, end, duration) comes before its Task Instances tab.
        header = text[text.index(run_id) : text.index("Task Instances")]
        assert "Success" in header and "Running" not in header and "Failed" not in header
        assert "Backfill in progress" not in text  # the demo's backfill is closed when it ends
        shown = _seconds(header[header.index("Duration") :])
        measured = demo["finished_at"] - demo["triggered_at"]
        # The run starts after the backfill is created and is seen to end within one 5 s poll.
        assert measured - 60 <= shown <= measured, (shown, measured)
        table = page.locator("table").first.inner_text()
        for task in states:
            assert task in table
        assert table.count("Success") == CURATION_TASKS, table

        page.goto(f"{base}/dags/curation/runs/{run_id}/tasks/ingest")  # ingest, then its gate
        log = page.get_by_text(re.compile(r"gate bronze_documents on \d{4}-\d{2}-\d{2}: passed"))
        log.first.wait_for(timeout=120_000)
        page.screenshot(path=shots / "airflow-task-log.png", full_page=False)


def _task_states(home: Path, run_id: str) -> dict[str, str]:
    """What the metadata database holds, to hold the page against."""
    with sqlite3.connect(home / "airflow" / "airflow.db") as db:
        rows = db.execute(
            "SELECT task_id, state FROM task_instance WHERE dag_id = 'curation' AND run_id = ?",
            (run_id,),
        ).fetchall()
    return dict(rows)


def test_the_mlflow_run_shows_its_stage_metrics_and_report(demo, browser, shots):
    from mlflow.tracking import MlflowClient

    from thresher import tracking
    from thresher.config import Settings

    client = MlflowClient(tracking_uri=f"sqlite:///{demo['home'] / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("thresher-curation")
    assert experiment.tags[tracking.EXPERIMENT_KIND_TAG] == tracking.MODEL_TRAINING_KIND
    (run,) = client.search_runs(
        [experiment.experiment_id], f"tags.`airflow.run_id` = '{demo['run_id']}'"
    )
    assert run.info.status == "FINISHED"
    run_page = f"#/experiments/{experiment.experiment_id}/runs/{run.info.run_id}"
    with mlflow_server(demo["home"]) as base:
        page = browser.new_page()
        # The experiment as the links Thresher prints open it: the model-training view's runs.
        link = tracking.experiment_url(Settings(home=demo["home"]), ui=base)
        page.goto(link)
        page.get_by_text(run.info.run_name).first.wait_for(timeout=120_000)
        page.get_by_text("Model training").first.wait_for()
        page.screenshot(path=shots / "mlflow-experiment.png")
        body = page.locator("body").inner_text()
        assert "Runs" in body and "Evaluation runs" not in body

        page.goto(f"{base}/{run_page}?{tracking.UI_VIEW}")
        page.get_by_text("ingest.kept").first.wait_for(timeout=120_000)
        page.screenshot(path=shots / "mlflow-run.png", full_page=True)
        text = page.locator("body").inner_text()
        metrics = ("ingest.kept", "dedup.kept", "bronze.documents")
        gates = ("gate.bronze_documents.success", "gate.gold_mixture.success")
        assert [m for m in (*metrics, *gates) if m not in text] == []

        page.goto(f"{base}/{run_page}/artifacts/report.html?{tracking.UI_VIEW}")
        report = page.frame_locator("iframe").first
        heading = f"Curation of {run.data.tags['thresher.partition']}"
        report.get_by_text(heading).wait_for(timeout=120_000)
        page.screenshot(path=shots / "mlflow-report.png")
        frame_text = report.locator("body").inner_text()
        sections = [
            "5 of 5 Great Expectations gates passed",
            "Stage funnel",
            "Tokens by language, before and after sampling",
            "Quality percentiles per language",
            "Dedup clusters",
        ]
        assert [s for s in sections if s not in frame_text] == []
        assert "FAILED" not in frame_text
