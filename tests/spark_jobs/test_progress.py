"""What a person watching a run sees: each job's start and end, and Spark's progress between."""

from __future__ import annotations

import logging
import time

from spark_jobs import progress


def test_the_end_line_says_what_went_in_and_out_and_how_fast():
    summary = {"ingest.in": 19587.0, "ingest.kept": 6477.0, "partition": "2026-11-20"}
    line = progress.end_line("ingest", summary, 86.0, cores=2)
    assert line == "done ingest in 86.0 s, 19,587 in → 6,477 out, 113.9 docs/s per core"
    quiet = progress.end_line("stage_statistics", {}, 2.5, cores=2)
    assert quiet == "done stage_statistics in 2.5 s"
    domains = progress.end_line("domains", {"documents": 100, "domains": {}}, 10.0, cores=2)
    assert domains.endswith("100 in, 5.0 docs/s per core")


def test_a_long_step_logs_spark_progress_with_an_estimate(spark, monkeypatch, caplog):
    monkeypatch.setattr(progress, "LOG_EVERY_S", 0.3)

    def slow(batches):
        for batch in batches:
            time.sleep(0.5)
            yield batch

    caplog.set_level(logging.INFO, logger="thresher.progress")
    with progress.watch("slow", "2026-11-20") as state:
        rows = spark.range(8, numPartitions=8).mapInPandas(slow, "id long").collect()
        state["summary"] = {"documents": len(rows)}
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "start slow 2026-11-20"
    assert any(" Spark tasks (" in line and "s left" in line for line in lines[1:-1]), lines
    assert lines[-1].startswith("done slow in ") and "8 in" in lines[-1]


def test_a_spark_connect_client_counts_the_tasks_the_server_reports():
    """A Spark Connect server reports each operation's stages to its client: the unfinished
    stages of operations still running are what the client's progress line counts."""
    from pyspark.sql.connect.shell.progress import StageInfo

    def stage(stage_id, tasks, completed, done=False):
        return StageInfo(stage_id, tasks, completed, 0, done)

    assert progress.remote_tasks() is None
    progress._remote_progress([stage(1, 8, 8, done=True), stage(2, 4, 1)], 3, "op-a", False)
    progress._remote_progress([stage(3, 10, 6)], 4, "op-b", False)
    assert progress.remote_tasks() == (7, 14)
    progress._remote_progress([], 0, "op-b", True)  # op-b ended
    assert progress.remote_tasks() == (1, 4)
    progress._remote_progress([], 0, "op-a", True)
    assert progress.remote_tasks() is None
