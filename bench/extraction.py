"""HTML main-text extraction: resiliparse against trafilatura on the demo's Debian pages.

Each extractor runs in its own fresh process, one core, over the same HTML pages, through
the ingest job's own code (``extract.extract_html`` then ``normalise_text``). Reported per
extractor: pages, pages per second of wall time and per CPU-second (the machine may be
shared: CPU time is what a page costs), peak memory, characters extracted and the pages
that reach ingest's ``min_text_chars``. Agreement: word-level F1 of resiliparse's text
against trafilatura's per page (bags of lower-cased ``\\w+`` words), overall and per
package, and a fixed sample of pages with both texts' opening, read by hand (the verdicts
are in ``bench/extraction_hand_check.json``). Writes ``bench/results/extraction.json``.

    .venv/bin/python -m bench.extraction [--input DIR] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "extraction.json"
HAND_CHECK = REPO / "bench" / "extraction_hand_check.json"
DEFAULT_INPUT = Path(os.environ.get("THRESHER_HOME", REPO / ".thresher")) / "input" / "debian-docs"
SAMPLE, SAMPLE_SEED, OPENING_CHARS = 12, 18, 400
_WORDS = re.compile(r"\w+")


def html_pages(root: Path, limit: int | None) -> list[Path]:
    pages = sorted(p for p in root.rglob("*") if p.suffix in (".html", ".htm") and p.is_file())
    if not pages:
        raise SystemExit(f"no HTML pages under {root}: run scripts/fetch_debian_docs.sh first")
    return pages[:limit] if limit else pages


def extract_all(extractor: str, paths: list[str]) -> dict:
    """In a fresh process: every page's normalised text, with the time and memory it took."""
    from thresher.config import IngestSettings
    from thresher.text.extract import Rejected, extract_html, normalise_text

    markups = [Path(p).read_bytes().decode("utf-8", errors="replace") for p in paths]
    extract_html(markups[0], extractor)  # import and warm the extractor outside the timing
    texts, failed = [], 0
    cpu, wall = time.process_time(), time.perf_counter()
    for markup in markups:
        try:
            texts.append(normalise_text(extract_html(markup, extractor)[1]))
        except Rejected:
            texts.append("")
            failed += 1
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    min_chars = IngestSettings().min_text_chars
    return {
        "pages": len(markups),
        "seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "pages_per_s": round(len(markups) / wall, 1),
        "pages_per_cpu_s": round(len(markups) / cpu, 1),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "refused": failed,
        "mean_chars": round(float(np.mean([len(t) for t in texts])), 1),
        "pages_with_min_text_chars": sum(len(t) >= min_chars for t in texts),
        "texts": texts,
    }


def word_f1(reference: str, candidate: str) -> float:
    ref, cand = (
        Counter(_WORDS.findall(reference.lower())),
        Counter(_WORDS.findall(candidate.lower())),
    )
    if not ref and not cand:
        return 1.0
    overlap = sum((ref & cand).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(cand.values()), overlap / sum(ref.values())
    return 2 * precision * recall / (precision + recall)


def summary(scores: list[float]) -> dict:
    values = np.array(scores)
    return {
        "pages": len(values),
        "mean": round(float(values.mean()), 4),
        "median": round(float(np.median(values)), 4),
        "p10": round(float(np.quantile(values, 0.1)), 4),
        "share_at_least_0.9": round(float((values >= 0.9).mean()), 4),
    }


def agreement(paths: list[str], root: Path, reference: list[str], other: list[str]) -> dict:
    scores = [word_f1(a, b) for a, b in zip(reference, other, strict=True)]
    packages: dict[str, list[float]] = {}
    for path, score in zip(paths, scores, strict=True):
        packages.setdefault(Path(path).relative_to(root).parts[0], []).append(score)
    return {
        "word_f1": summary(scores),
        "by_package": {name: summary(s) for name, s in sorted(packages.items())},
        "scores": scores,
    }


def hand_check_sample(paths, root, scores, texts_by_extractor) -> list[dict]:
    """A fixed random sample of pages with both openings; verdicts come from the notes file."""
    notes = json.loads(HAND_CHECK.read_text()) if HAND_CHECK.exists() else {}
    chosen = random.Random(SAMPLE_SEED).sample(range(len(paths)), min(SAMPLE, len(paths)))
    sample = []
    for i in sorted(chosen):
        page = str(Path(paths[i]).relative_to(root))
        entry = {"page": page, "word_f1": round(scores[i], 4)}
        for name, texts in texts_by_extractor.items():
            entry[f"{name}_chars"] = len(texts[i])
            entry[f"{name}_opening"] = texts[i][:OPENING_CHARS]
        if page in notes:
            entry["hand_check"] = notes[page]
        sample.append(entry)
    return sample


def run(root: Path, limit: int | None) -> dict:
    from thresher.text.html_extractors import DEFAULT_HTML_EXTRACTOR, HTML_EXTRACTORS

    paths = [str(p) for p in html_pages(root, limit)]
    figures = {}
    for extractor in HTML_EXTRACTORS:
        print(f"extracting {len(paths)} pages with {extractor} ...", flush=True)
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
            figures[extractor] = pool.submit(extract_all, extractor, paths).result()
    texts = {name: block.pop("texts") for name, block in figures.items()}
    agree = agreement(paths, root, texts["trafilatura"], texts["resiliparse"])
    scores = agree.pop("scores")
    speedup = figures["resiliparse"]["pages_per_cpu_s"] / figures["trafilatura"]["pages_per_cpu_s"]
    return {
        "input": str(root),
        "pages": len(paths),
        "extractors": figures,
        "resiliparse_speedup_per_cpu_s": round(speedup, 1),
        "agreement_resiliparse_vs_trafilatura": agree,
        "default": DEFAULT_HTML_EXTRACTOR,
        **hand_checked(hand_check_sample(paths, root, scores, texts)),
    }


def hand_checked(sample: list[dict]) -> dict:
    """The sample, and how many of its pages each verdict of the notes file went to."""
    verdicts = Counter(entry["hand_check"]["verdict"] for entry in sample if "hand_check" in entry)
    return {"hand_check_verdicts": dict(sorted(verdicts.items())), "hand_checked_sample": sample}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT)
    parser.add_argument("--limit", type=int, default=None, help="first N pages only")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    report = run(args.input.resolve(), args.limit)
    report["machine"] = {
        "cores_used": 1,
        "cpu_count": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 1),
        "python": platform.python_version(),
    }
    report["wall_seconds"] = round(time.perf_counter() - started, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    for name, block in report["extractors"].items():
        print(f"{name:<12} {block['pages_per_cpu_s']:>8} pages/CPU-s  {block['peak_mb']:>6} MB")
    print(
        "word F1 resiliparse vs trafilatura:",
        report["agreement_resiliparse_vs_trafilatura"]["word_f1"],
    )
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
