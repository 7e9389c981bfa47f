"""The deduplication benchmark: every system on the same corpus, scored against exact truth.

``python -m bench.dedup.run --sizes small,large`` builds (or reuses) each corpus and its
ground truth, runs each system in its own subprocess while sampling the process tree's
memory, scores the doc_ids it flags, and writes ``bench/results/dedup.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil

from bench.dedup import corpus, truth
from bench.dedup.systems import SYSTEMS
from bench.machine import machine
from bench.measure import tree_memory

RESULTS = corpus.REPO / "bench" / "results" / "dedup.json"
SAMPLE_EVERY_S = 0.1
PACKAGES = ("pyspark", "delta-spark", "datatrove", "datasketch", "rensa", "spacy", "numpy")


def limited(frame: pd.DataFrame, size: str, limit: int) -> tuple[pd.DataFrame, str]:
    """The first ``limit`` documents by file name: copies of one page across packages,
    architectures and languages sort together, so a small slice still holds duplicates."""
    name = f"{size}-limit{limit}"
    path = corpus.corpus_path(name)
    if not path.exists():
        order = frame["url"].str.rsplit("/", n=1).str[-1] + "\x00" + frame["url"]
        frame.iloc[order.argsort(kind="stable")[:limit]].to_parquet(path, index=False)
    return pd.read_parquet(path), name


def peak_memory_mb(command: list[str], env: dict) -> tuple[int, float, str]:
    """Run ``command``; return its exit code, the peak memory of its process tree
    (``bench.measure.tree_memory``), and the tail of its output."""
    log = corpus.OUT / "last-system.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, cwd=corpus.REPO, env=env, stdout=out, stderr=out)
        root, peak = psutil.Process(proc.pid), 0
        while proc.poll() is None:
            peak = max(peak, tree_memory(root))
            time.sleep(SAMPLE_EVERY_S)
    return proc.returncode, peak / 2**20, log.read_text(errors="replace")[-2000:]


def score(flagged: set[str], labels: pd.DataFrame) -> dict:
    predicted = labels["doc_id"].isin(flagged)
    actual = labels["is_duplicate"]
    tp = int((predicted & actual).sum())
    fp = int((predicted & ~actual).sum())
    fn = int((~predicted & actual).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def run_system(name: str, corpus_file: Path, labels: pd.DataFrame) -> dict:
    work = corpus.OUT / "runs" / name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    result = work / "result.json"
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    command = [sys.executable, "-m", "bench.dedup.systems", name, str(corpus_file), str(work)]
    code, peak_mb, tail = peak_memory_mb([*command, str(result)], env)
    if code != 0 or not result.exists():
        return {"error": f"exit code {code}", "log_tail": tail, "peak_mb": round(peak_mb, 1)}
    figures = json.loads(result.read_text())
    flagged = set(result.with_suffix(".flagged").read_text().split())
    block = {
        "docs": figures["docs"],
        "wall_s": figures["wall_s"],
        "docs_per_s": round(figures["docs"] / figures["wall_s"], 1),
        "peak_mb": round(peak_mb, 1),
        **score(flagged, labels),
        "flagged": len(flagged),
    }
    return {**block, **{k: v for k, v in figures.items() if k not in block}}


def print_table(sizes: list[dict]) -> None:
    print(
        f"{'size':<18}{'system':<12}{'docs':>8}{'wall_s':>9}{'docs/s':>9}{'peak_mb':>9}"
        f"{'prec':>7}{'recall':>7}{'f1':>7}"
    )
    for size in sizes:
        for name, block in size["systems"].items():
            if "error" in block:
                print(f"{size['name']:<18}{name:<12} failed: {block['error']}")
                continue
            print(
                f"{size['name']:<18}{name:<12}{block['docs']:>8}{block['wall_s']:>9.1f}"
                f"{block['docs_per_s']:>9.1f}{block['peak_mb']:>9.0f}{block['precision']:>7.3f}"
                f"{block['recall']:>7.3f}{block['f1']:>7.3f}"
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="small,large")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--limit", type=int, default=None, help="first N documents only")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    systems = [s for s in args.systems.split(",") if s]
    unknown = set(systems) - set(SYSTEMS)
    if unknown:
        parser.error(f"unknown systems {sorted(unknown)}; expected some of {SYSTEMS}")

    sizes = []
    for size in args.sizes.split(","):
        frame, name = corpus.build(size), size
        if args.limit:
            frame, name = limited(frame, size, args.limit)
        labels, facts = truth.build(name, frame)
        block = {**corpus.describe(frame, size), **facts, "name": name}
        results = {}
        for system in systems:
            print(f"[{name}] {system} ...", flush=True)
            results[system] = run_system(system, corpus.corpus_path(name), labels)
        sizes.append({"name": name, "corpus": block, "systems": results})

    report = {
        "corpus": sizes[-1]["corpus"],
        "systems": sizes[-1]["systems"],
        "sizes": sizes,
        "machine": machine(PACKAGES),
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print_table(sizes)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
