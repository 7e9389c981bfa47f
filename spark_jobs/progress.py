"""Progress a person can watch: each job's start and end, and Spark's progress in between.

``watch(name)`` logs a start line, then — while the job runs — the share of Spark tasks done
in the job's current Spark stage with an estimate of the time left: redrawn in place on a
terminal, one plain line every ``LOG_EVERY_S`` in a log file or an Airflow task log. The end
line says what went in and out, how long it took and the rate per core.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

log = logging.getLogger("thresher.progress")

LOG_EVERY_S = 30.0
TERMINAL_EVERY_S = 0.5


# A Spark Connect client's share of its running operations' stages, as the server reports it
# (operation id → (tasks done, tasks in all) over its unfinished stages).
_REMOTE: dict[str, tuple[int, int]] = {}
_REMOTE_LOCK = threading.Lock()
_FOLLOWED: set[int] = set()


def _remote_progress(stages, inflight_tasks: int, operation_id: str | None, done: bool) -> None:
    key = operation_id or ""
    with _REMOTE_LOCK:
        if done:
            _REMOTE.pop(key, None)
            return
        running = [s for s in stages or () if not s.done]
        _REMOTE[key] = (
            sum(s.num_completed_tasks for s in running),
            sum(s.num_tasks for s in running),
        )


def follow_remote(spark) -> None:
    """Count a Spark Connect session's task progress in ``spark_tasks`` (once per session)."""
    if id(spark) not in _FOLLOWED:
        spark.registerProgressHandler(_remote_progress)
        _FOLLOWED.add(id(spark))


def remote_tasks() -> tuple[int, int] | None:
    """(tasks done, tasks in all) over the Spark Connect operations still running, if any."""
    with _REMOTE_LOCK:
        done = sum(d for d, _ in _REMOTE.values())
        total = sum(t for _, t in _REMOTE.values())
    return (done, total) if total else None


def spark_tasks() -> tuple[int, int] | None:
    """(tasks done, tasks in all) over the active Spark stages of this process (its driver's,
    or the Spark Connect server's for this client's operations), if any."""
    from pyspark import SparkContext

    context = SparkContext._active_spark_context  # global: the active session is per thread
    if context is None:
        return remote_tasks()
    tracker = context.statusTracker()
    done = total = 0
    for stage_id in tracker.getActiveStageIds():
        info = tracker.getStageInfo(stage_id)
        if info is not None:
            done += info.numCompletedTasks
            total += info.numTasks
    return (done, total) if total else None


def counts(name: str, summary: Mapping) -> tuple[float | None, float | None]:
    """(documents in, documents out) a job's summary reports, when it reports them."""

    def first(*keys: str) -> float | None:
        values = (summary.get(k) for k in keys)
        return next((float(v) for v in values if isinstance(v, int | float)), None)

    found_in = first(f"{name}.in", f"{name}.documents", "documents", "mixture.documents")
    found_out = first(f"{name}.kept", "mixture.selected")
    return found_in, found_out


def end_line(name: str, summary: Mapping, seconds: float, cores: int) -> str:
    documents_in, documents_out = counts(name, summary)
    parts = [f"done {name} in {seconds:.1f} s"]
    if documents_in is not None:
        moved = f"{documents_in:,.0f} in"
        if documents_out is not None:
            moved += f" → {documents_out:,.0f} out"
        parts.append(moved)
        if seconds > 0:
            parts.append(f"{documents_in / seconds / cores:,.1f} docs/s per core")
    return ", ".join(parts)


class _Watcher(threading.Thread):
    def __init__(self, name: str, terminal: bool) -> None:
        super().__init__(daemon=True, name=f"progress-{name}")
        self.job, self.terminal, self.started = name, terminal, time.monotonic()
        self.stopped = threading.Event()
        self.drawn = False

    def run(self) -> None:
        every = TERMINAL_EVERY_S if self.terminal else LOG_EVERY_S
        while not self.stopped.wait(every):
            try:
                tasks = spark_tasks()
            except Exception:  # noqa: BLE001 - progress must never fail a job
                continue
            if tasks is None:
                continue
            done, total = tasks
            elapsed = time.monotonic() - self.started
            left = f", ~{elapsed / done * (total - done):.0f} s left in this step" if done else ""
            line = f"{self.job}: {done}/{total} Spark tasks ({done / total:.0%}){left}"
            if self.terminal:
                sys.stderr.write(f"\r\x1b[2K{line}")
                sys.stderr.flush()
                self.drawn = True
            else:
                log.info("%s", line)

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=2)
        if self.drawn:
            sys.stderr.write("\r\x1b[2K")
            sys.stderr.flush()


@contextmanager
def watch(name: str, detail: str = "") -> Iterator[dict]:
    """Log ``name``'s start, Spark progress while it runs, and its end (from the summary the
    caller puts in the yielded dict's ``summary`` key)."""
    log.info("start %s%s", name, f" {detail}" if detail else "")
    watcher = _Watcher(name, terminal=sys.stderr.isatty())
    watcher.start()
    started = time.perf_counter()
    state: dict = {"summary": {}}
    try:
        yield state
    finally:
        watcher.stop()
    seconds = time.perf_counter() - started
    state["seconds"] = seconds
    log.info("%s", end_line(name, state["summary"], seconds, os.cpu_count() or 1))
