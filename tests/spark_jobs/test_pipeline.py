"""The job executor: a training job leaves a Spark Connect client's process for one of its own."""

from __future__ import annotations

import datetime as dt
import os

from spark_jobs import pipeline
from thresher.config import Settings
from thresher.jobs import Job, JobContext


def where_it_ran(ctx: JobContext) -> dict:
    """A job's entry point: the process it ran in and whether that process was Connect-only."""
    return {"pid": os.getpid(), "connect_mode": pipeline.uses_spark_connect()}


def job(trains: bool) -> Job:
    return Job(
        name="probe",
        entry=f"{__name__}:where_it_ran",
        description="where a job runs",
        trains=trains,
        partitioned=False,
    )


def test_a_training_job_runs_apart_from_a_spark_connect_client(monkeypatch, tmp_path):
    """pyspark builds every session and column for Spark Connect once a process has opened a
    Connect session; a training job needs a driver of its own, so it gets a fresh process."""
    monkeypatch.setenv("THRESHER_HOME", str(tmp_path))
    ctx = JobContext(Settings.from_env(), dt.date(2026, 12, 7), "run")
    assert pipeline.run_job(job(trains=True), ctx)["pid"] == os.getpid()  # no Connect here

    monkeypatch.setenv(pipeline.CONNECT_MODE, "1")  # what pyspark sets on a Connect session
    apart = pipeline.run_job(job(trains=True), ctx)
    assert apart["pid"] != os.getpid() and not apart["connect_mode"]
    here = pipeline.run_job(job(trains=False), ctx)  # a Connect client's job stays a client
    assert here == {"pid": os.getpid(), "connect_mode": True}
