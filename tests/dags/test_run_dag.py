"""``scripts/run_dag.sh``'s recovery from an interrupted run: the backfill it left open is
closed, so the next run's backfill is accepted (Airflow allows one open backfill per DAG)."""

from __future__ import annotations

import json
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
