"""``scripts/run_dag.sh``'s recovery from an interrupted run: the backfill it left open is
closed, so the next run's backfill is accepted (Airflow allows one open backfill per DAG)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.dags.conftest import airflow_cli


@pytest.mark.airflow
def test_a_backfill_left_open_is_closed_and_the_next_is_accepted(airflow_db, tmp_path):
    log = tmp_path / "airflow.log"

    def backfill(day: str) -> subprocess.CompletedProcess:
        args = ("backfill", "create", "--dag-id", "curation", "--from-date", day, "--to-date", day)
        return airflow_cli(*args, env=airflow_db, log=log)

    assert airflow_cli("dags", "reserialize", env=airflow_db, log=log).returncode == 0, (
        log.read_text()[-3000:]
    )
    # No scheduler runs here: the first backfill stays open, as a killed demo leaves it.
    assert backfill("2026-11-01").returncode == 0, log.read_text()[-3000:]
    assert backfill("2026-11-02").returncode != 0
    assert "AlreadyRunningBackfill" in log.read_text()

    closed = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "close_stale_backfills.py"), "curation"],
        env=airflow_db,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert closed.returncode == 0, closed.stderr[-3000:]
    assert [line for line in closed.stdout.splitlines() if "backfill" in line] == [
        "closed backfill 1 of curation, left open by an interrupted run"
    ]
    assert backfill("2026-11-02").returncode == 0, log.read_text()[-3000:]
    # The run the open backfill had queued never ran: it is failed, not left queued.
    listed = airflow_cli("dags", "list-runs", "curation", "-o", "json", env=airflow_db, log=log)
    assert listed.returncode == 0
    (table,) = [line for line in log.read_text().splitlines() if line.startswith("[")][-1:]
    states = {r["logical_date"][:10]: r["state"] for r in json.loads(table)}
    assert states == {"2026-11-01": "failed", "2026-11-02": "queued"}


def test_progress_lines_come_from_this_run_not_from_the_attempts_before_it(tmp_path):
    """A partition run again keeps its earlier attempts' task logs beside the new ones:
    ``follow_progress.py`` prints the lines of logs written since the run was triggered, once."""
    run = tmp_path / "run_id=backfill"

    def line(event: str) -> str:
        return (
            json.dumps(
                {"timestamp": "2026-12-07T10:00:00", "logger": "thresher.progress", "event": event}
            )
            + "\n"
        )

    (run / "task_id=ingest").mkdir(parents=True)
    old, new = run / "task_id=ingest" / "attempt=1.log", run / "task_id=ingest" / "attempt=2.log"
    old.write_text(line("done ingest in 134.8 s"))
    os.utime(old, (1_000_000, 1_000_000))
    new.write_text(line("start ingest 2026-12-07") + json.dumps({"logger": "other"}) + "\n")
    state = tmp_path / "offsets.json"

    def follow() -> list[str]:
        script = REPO / "scripts" / "follow_progress.py"
        argv = [sys.executable, str(script), str(run), str(state), "2000000"]
        return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.splitlines()

    assert follow() == ["10:00:00 start ingest 2026-12-07"]
    with new.open("a") as handle:
        handle.write(line("done ingest in 57.1 s"))
    assert follow() == ["10:00:00 done ingest in 57.1 s"]
