"""An ingest killed with SIGKILL between its commits leaves the tables either as they were
or detected as inconsistent by the statistics task; running it again converges."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest

from spark_jobs import ingest, stage_stats
from spark_jobs.delta_io import read_table
from tests.conftest import REPO, SHORT_LIVED_JVM, make_settings
from tests.corpus import html_page
from tests.reliability.inputs import english
from thresher.accounting import ReconciliationError
from thresher.tables import BRONZE_DOCUMENTS, QUARANTINE

DAY = dt.date(2026, 11, 20)


def pages(folder, first: int, bad: bool):
    folder.mkdir()
    for i in range(first, first + 2):
        (folder / f"p{i}.html").write_text(html_page("p", english(i)))
    if bad:
        (folder / "broken.html").write_bytes(b"\xff\xfe not utf-8")
    return str(folder)


def crash_after(commits: int, home, input_path) -> int:
    """Run the ingest in a child that SIGKILLs itself after ``commits`` Delta commits."""
    env = {**os.environ, "JDK_JAVA_OPTIONS": SHORT_LIVED_JVM, "PYTHONPATH": str(REPO)}
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.reliability.crash_ingest",
            str(home),
            DAY.isoformat(),
            input_path,
            "web",
            str(commits),
        ],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return child.returncode


def snapshot(spark, settings) -> tuple:
    bronze = sorted(r["url"] for r in read_table(spark, BRONZE_DOCUMENTS, settings).collect())
    quarantine = sorted(r["location"] for r in read_table(spark, QUARANTINE, settings).collect())
    return bronze, quarantine


@pytest.mark.timeout(600)
def test_a_killed_ingest_is_detected_and_a_rerun_converges(spark, tmp_path):
    settings = make_settings(tmp_path / "home")
    old = pages(tmp_path / "old", 1, bad=True)
    new = pages(tmp_path / "new", 10, bad=False)
    ingest.run(spark, settings, DAY, old, "web")
    stage_stats.check_ingest_tables(spark, settings, DAY)

    # Killed after the bronze commit, then (from there) after the quarantine commit: the
    # three tables now hold two different batches, and the statistics check says so.
    for commits in (1, 2):
        assert crash_after(commits, settings.home, new) == -9
        with pytest.raises(ReconciliationError, match="source 'web'.*run it again"):
            stage_stats.check_ingest_tables(spark, settings, DAY)

    ingest.run(spark, settings, DAY, new, "web")  # the re-run converges
    stage_stats.check_ingest_tables(spark, settings, DAY)
    fresh = make_settings(tmp_path / "fresh")
    ingest.run(spark, fresh, DAY, new, "web")
    assert snapshot(spark, settings) == snapshot(spark, fresh)
