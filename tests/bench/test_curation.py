"""The curation benchmark's own measuring: per-step peak memory over a process tree, the
documents a step read, datatrove's step names as keys, and the executor's measure hook."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

from bench.curation import thresher_documents_in
from bench.curation_datatrove import step_key
from bench.measure import TreeMemory, stage
from spark_jobs.pipeline import run_pipeline
from tests.conftest import make_settings
from thresher.jobs import Job, JobContext, Pipeline

ALLOCATE_300_MB = "import time; block = bytearray(300 * 2**20); time.sleep(1.5)"


def test_a_step_measures_the_peak_of_its_child_processes():
    memory = TreeMemory()
    memory.start()
    with memory.step() as small:
        subprocess.run([sys.executable, "-c", "pass"], check=True)
    with memory.step() as large:
        subprocess.run([sys.executable, "-c", ALLOCATE_300_MB], check=True)
    memory.stopped.set()
    assert large["peak_mb"] - small["peak_mb"] > 250
    assert large["seconds"] >= 1.5


def test_rates_are_per_core_and_missing_counts_stay_missing():
    assert stage(1000, 5.0, 10.0, 2, None)["docs_per_core_s"] == 100.0
    assert stage(None, 5.0, 10.0, 2, None)["docs_per_core_s"] is None


def test_a_step_without_its_own_count_reads_what_fed_it():
    summaries = {
        "ingest": {"ingest.in": 100.0, "ingest.kept": 60.0},
        "dedup": {"dedup.in": 60.0, "dedup.kept": 40.0},
        "domains": {"partition": "2026-01-01"},
    }
    assert thresher_documents_in("dedup", summaries) == 60.0
    assert thresher_documents_in("domains", summaries) == 40.0
    assert thresher_documents_in("bronze_gate", summaries) == 60.0


def test_datatrove_step_names_become_keys():
    assert step_key("🔻 - FILTER: 🥇 Gopher Quality") == "gopher_quality"
    assert step_key("🛢 - EXTRAC: ⛏ Trafilatura") == "trafilatura"


def first(ctx: JobContext) -> dict:
    return {"first.documents": 3}


def second(ctx: JobContext) -> dict:
    return {"second.documents": 2, "saw": ctx.params.get("input_path")}


def test_the_executor_hands_each_job_and_its_summary_to_measure(tmp_path):
    pipeline = Pipeline(
        "two",
        (
            Job("first", f"{__name__}:first", "one"),
            Job("second", f"{__name__}:second", "two", after=("first",)),
        ),
    )
    ctx = JobContext(make_settings(tmp_path), dt.date(2026, 1, 1), "run", {"input_path": "x"})
    seen: list[tuple[str, dict]] = []

    class Measure:
        def __init__(self, name: str) -> None:
            self.name, self.record = name, {}

        def __enter__(self) -> dict:
            return self.record

        def __exit__(self, *exc) -> None:
            seen.append((self.name, self.record["summary"]))

    summaries = run_pipeline(pipeline, ctx, measure=Measure)
    assert [name for name, _ in seen] == ["first", "second"]
    assert seen[1][1] == {"second.documents": 2, "saw": "x"} == summaries["second"]
