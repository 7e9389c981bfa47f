"""What the benchmarks measure a step by: its seconds and the peak memory of the process tree
(Spark's JVM, datatrove's workers included), and a rate per core."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil

SAMPLE_EVERY_S = 0.1


def page_files(root: Path) -> list[Path]:
    """The HTML and Mallard pages under ``root``: what both systems are timed on (Thresher's
    ingest also lists the folder's other files, and drops them as unsupported)."""
    from thresher.text.input_files import SUFFIX_FORMATS

    suffixes = tuple(suffix for suffix, fmt in SUFFIX_FORMATS if fmt in ("html", "mallard"))
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name.lower().endswith(suffixes))


def tree_memory(root: psutil.Process) -> int:
    """Bytes held by ``root`` and its descendants: the sum of their proportional set sizes
    (PSS; RSS where the platform has none), so a page several processes share counts once.
    Summed RSS counts it in each: a JVM spawning a helper (Hadoop's shell calls, a Python
    worker) shows, for that moment, a child as large as itself."""
    try:
        tree = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for member in tree:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            info = member.memory_full_info()
            total += getattr(info, "pss", info.rss)
    return total


class TreeMemory(threading.Thread):
    """Peak memory of this process and its children (Spark's JVM, datatrove's workers), per
    step (``tree_memory``)."""

    def __init__(self) -> None:
        super().__init__(daemon=True, name="tree-memory")
        self.root = psutil.Process()
        self.peak = 0
        self.stopped = threading.Event()

    def current(self) -> int:
        return tree_memory(self.root)

    def run(self) -> None:
        while not self.stopped.wait(SAMPLE_EVERY_S):
            self.peak = max(self.peak, self.current())

    @contextlib.contextmanager
    def step(self) -> Iterator[dict]:
        """Time a step; the record it yields gets ``seconds`` and ``peak_mb`` at the end."""
        self.peak = self.current()
        record: dict = {}
        started = time.perf_counter()
        yield record
        record["seconds"] = round(time.perf_counter() - started, 2)
        record["peak_mb"] = round(max(self.peak, self.current()) / 2**20, 1)
        record["load_1m"] = round(os.getloadavg()[0], 2)  # other work on the cores, if any


def stage(
    documents: float | None, seconds: float, peak_mb: float, cores: int, load_1m: float | None
) -> dict:
    rate = documents / seconds / cores if documents and seconds > 0 else None
    return {
        "documents": int(documents) if documents is not None else None,
        "seconds": round(seconds, 2),
        "docs_per_core_s": round(rate, 1) if rate is not None else None,
        "peak_mb": peak_mb,
        "load_1m_at_end": load_1m,
    }
