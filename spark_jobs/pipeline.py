"""The executor of declared jobs (``thresher.jobs``) in this process.

``run_job`` imports a job's entry point and runs it with progress; ``run_gate`` validates its
output; ``run_gated`` does both in one process, as a DAG task and a ``thresher <job>`` command
run a job; ``run_pipeline`` runs a whole pipeline (or the jobs up to one) in its declared
order, each job followed by its gate. The ``thresher`` CLI, the curation DAG's tasks and the
curation benchmark all run jobs through here, so no executor restates what a job does or when.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

from spark_jobs import progress
from thresher.jobs import Job, JobContext, Pipeline

log = logging.getLogger(__name__)

GATE_ENTRY = "spark_jobs.stages:gate"


def entry_point(entry: str) -> Callable[[JobContext], dict]:
    module, _, function = entry.partition(":")
    return getattr(importlib.import_module(module), function)


def run_job(job: Job, ctx: JobContext) -> dict:
    if job.trains and uses_spark_connect():
        return _run_apart(job, ctx)
    detail = ctx.partition.isoformat() if job.partitioned and ctx.partition else ""
    with progress.watch(job.name, detail) as state:
        state["summary"] = entry_point(job.entry)(ctx)
    return state["summary"]


# What pyspark sets once a process has opened a Spark Connect session: from then on it builds
# every session and column for Spark Connect, a driver of its own included.
CONNECT_MODE = "SPARK_CONNECT_MODE_ENABLED"


def uses_spark_connect() -> bool:
    return CONNECT_MODE in os.environ


def _run_apart(job: Job, ctx: JobContext) -> dict:
    """A training job, which fits its Spark ML pipeline in a driver of its own, in a fresh
    interpreter: this one is a Spark Connect client (``thresher curate`` after ingest did)."""
    import multiprocessing

    log.info("%s: in a process of its own (this one is a Spark Connect client)", job.name)
    with multiprocessing.get_context("spawn").Pool(1, initializer=_fresh_process) as pool:
        return pool.apply(run_job, (job, ctx))


def _fresh_process() -> None:
    os.environ.pop(CONNECT_MODE, None)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def run_gate(job: Job, ctx: JobContext) -> dict | None:
    """The job's gate, if it has one; raises ``GateFailed`` when the data does not pass."""
    if job.gate is None:
        return None
    with progress.watch(job.gate.name) as state:
        state["summary"] = entry_point(GATE_ENTRY)(ctx.with_params(gate=job.gate.suite))
    return state["summary"]


def run_gated(job: Job, ctx: JobContext) -> dict:
    """The job, then its gate on what it wrote, in this process and its Spark session.

    A gate as a task of its own paid a Spark driver's start and a cold first Delta read (20-40 s
    on 2 cores) for a few seconds of validation. Great Expectations (~10 s to import) loads in a
    thread while the job runs. Raises ``GateFailed`` when the data does not pass.
    """
    if job.gate is not None:
        threading.Thread(target=_import_great_expectations, daemon=True).start()
    summary = run_job(job, ctx)
    gate = run_gate(job, ctx)
    return summary if gate is None else {**summary, "gate": gate}


def _import_great_expectations() -> None:
    from spark_jobs.gate_suites import import_great_expectations

    try:
        import_great_expectations()
    except Exception:  # the gate imports it again and reports what is wrong
        log.debug("importing great_expectations ahead of the gate failed", exc_info=True)


def run_pipeline(
    pipeline: Pipeline,
    ctx: JobContext,
    jobs: list[str] | None = None,
    measure: Callable[[str], AbstractContextManager[dict]] | None = None,
) -> dict[str, dict]:
    """Run ``jobs`` (default: all) in the pipeline's order, each followed by its gate.

    ``measure(name)`` wraps each job and each gate (a benchmark's timer): the record it yields
    receives the step's summary under ``"summary"``.
    """
    wanted = set(jobs or pipeline.names)
    summaries: dict[str, dict] = {}
    for job in pipeline.jobs:
        if job.name not in wanted:
            continue
        with measure(job.name) if measure else nullcontext({}) as record:
            summaries[job.name] = record["summary"] = run_job(job, ctx)
        if job.gate is not None:
            with measure(job.gate.name) if measure else nullcontext({}) as record:
                record["summary"] = run_gate(job, ctx)
    return summaries
