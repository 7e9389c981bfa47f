"""How far the fast domain student can go: its learning curve, and how stable its E5 teacher is.

``bench/domain_student.py`` measures the student as the product trains it. This asks what
more teacher labels would buy, and what agreement is a fair bar:

- **Learning curve.** The student (``domain_student.fit``) learns the teacher's
  probabilities alone (plain distillation, no gold labels) on a pool of teacher-labelled
  texts: SIB-200 train, XQuAD's Wikipedia paragraphs (12 languages) and the demo lake's kept
  documents, the last two with 30% held out, by article and by page.
  It trains on a quarter, a half and all of the pool (three seeded draws of the smaller
  shares) and is measured by its agreement with the teacher on the held-out sets, NTREX-128
  news (six languages, never trained on) and SIB-200 dev, each beside the baseline that
  always answers the teacher's most frequent label.
- **Teacher stability.** The teacher reads a document's first 256 characters. The same
  teacher reading 192 or 224 of them is compared with itself on the same held-out
  documents: how often a student could disagree with it for reasons that are not the
  student's.
- **Teacher fallback.** The full-pool student hands its least confident 10–50% of documents
  to the teacher: agreement per share, and the documents per CPU-second that mix would cost,
  from both models' rates measured here on NTREX news.

Teacher embeddings are cached under ``bench/.work/domain/`` (``bench.domain_student``'s
cache), so a rerun costs only the fits. Needs ``make demo``'s lake (its teacher and kept
documents) and ``../shared/data``.

    .venv/bin/python -m bench.domain_student_ceiling [--teacher PATH] [--output FILE]
"""

from __future__ import annotations

import json
import os
import platform
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.domain_student import (
    REPO,
    held_out,
    ntrex_news,
    saved_teacher,
    shared_data,
    sib200,
    teacher_arguments,
    teacher_embeddings,
)
from thresher.stats import wilson

RESULTS = REPO / "bench" / "results" / "domain_student_ceiling.json"
SHARES = (0.25, 0.5, 1.0)
SEEDS = (1, 2, 3)
SHORTER_READS = (192, 224)
STABILITY_DOCUMENTS = 600  # per held-out set: each shorter read costs E5 time
ROUTED = (0.0, 0.1, 0.2, 0.3, 0.5)  # shares of least confident documents given to the teacher
TEACHER_TIMED = 160


def xquad_paragraphs() -> pd.DataFrame:
    """XQuAD's context paragraphs (Wikipedia, 12 languages), grouped by article."""
    rows = []
    for path in sorted((shared_data() / "xquad").glob("xquad.*.json")):
        language = path.name.split(".")[1]
        for number, article in enumerate(json.loads(path.read_text("utf-8"))["data"]):
            for paragraph in article["paragraphs"]:
                rows.append((language, f"article-{number}", paragraph["context"]))
    return pd.DataFrame(rows, columns=["language", "group", "text"])


def lake_documents() -> pd.DataFrame:
    """The demo lake's kept documents (``silver.dedup`` rows with no ``duplicate_of``),
    grouped by page (language + file name) as ``bench.domain_student`` groups them."""
    from deltalake import DeltaTable

    from thresher.config import Settings
    from thresher.tables import BRONZE_DOCUMENTS, SILVER_DEDUP

    settings = Settings.from_env()
    kept = DeltaTable(SILVER_DEDUP.path(settings)).to_pandas(columns=["doc_id", "duplicate_of"])
    kept = kept.loc[kept["duplicate_of"].isna(), "doc_id"]
    documents = DeltaTable(BRONZE_DOCUMENTS.path(settings)).to_pandas(
        columns=["doc_id", "url", "language", "text"]
    )
    documents = documents[documents["doc_id"].isin(kept)].drop_duplicates("text")
    documents = documents.sort_values("doc_id").reset_index(drop=True)
    documents["group"] = documents["language"] + "/" + documents["url"].str.rsplit("/", n=1).str[-1]
    return documents[["language", "group", "text"]]


def agreement(said: np.ndarray, teacher: np.ndarray) -> dict:
    """Share of documents where ``said`` (label indices) is the teacher's label, its 95%
    interval, and the most-frequent-label baseline."""
    same = said == teacher
    return {
        "documents": len(same),
        "agreement": round(float(same.mean()), 4),
        "agreement_95ci": wilson(int(same.sum()), len(same)),
        "majority_label_baseline": round(float(np.bincount(teacher).max() / len(teacher)), 4),
    }


def run(teacher_path: Path, threads: int) -> dict:
    from thresher.text import domain_student
    from thresher.text.domain_student import softmax

    labels, coefficients, intercepts, metadata = saved_teacher(teacher_path)
    max_chars = metadata["max_chars"]

    def probabilities(texts: list[str], read: int = max_chars) -> np.ndarray:
        vectors = teacher_embeddings(texts, read, threads)
        return softmax(vectors @ coefficients.T + intercepts)

    gold = sib200()
    paragraphs, documents = xquad_paragraphs(), lake_documents()
    paragraph_out, document_out = held_out(paragraphs["group"]), held_out(documents["group"])
    pool = pd.concat(
        [
            gold.loc[gold["split"] == "train", ["text"]],
            paragraphs.loc[~paragraph_out, ["text"]],
            documents.loc[~document_out, ["text"]],
        ],
        ignore_index=True,
    )
    pool_targets = probabilities(pool["text"].tolist())
    evaluations = {
        "ntrex_news": ntrex_news()["text"].tolist(),
        "xquad_held_out_articles": paragraphs.loc[paragraph_out, "text"].tolist(),
        "demo_held_out_pages": documents.loc[document_out, "text"].tolist(),
        "sib200_dev": gold.loc[gold["split"] == "dev", "text"].tolist(),
    }
    teacher_says = {name: probabilities(t).argmax(axis=1) for name, t in evaluations.items()}

    curve = []
    for share in SHARES:
        for seed in SEEDS if share < 1 else SEEDS[:1]:
            order = np.random.default_rng(seed).permutation(len(pool))[: int(share * len(pool))]
            cpu = time.process_time()
            student = domain_student.fit(
                pool["text"].iloc[order].tolist(), pool_targets[order], labels, max_chars=max_chars
            )
            point = {
                "share": share,
                "seed": seed,
                "training_texts": len(order),
                "fit_cpu_seconds": round(time.process_time() - cpu, 1),
            }
            for name, texts in evaluations.items():
                said = student.logits(texts).argmax(axis=1)
                point[name] = agreement(said, teacher_says[name])
            curve.append(point)
            print(json.dumps({k: point[k] for k in ("share", "seed")}), flush=True)

    # the full-pool student, its least confident documents handed to the teacher
    rates = per_core_rates(student, evaluations["ntrex_news"], max_chars)
    fallback = {"rates_on_ntrex_news": rates}
    for name, texts in evaluations.items():
        probabilities_said = student.probabilities(texts)
        fallback[name] = {
            str(routed): agreement(
                with_fallback(probabilities_said, teacher_says[name], routed), teacher_says[name]
            )
            for routed in ROUTED
        }
    fallback["docs_per_core_s"] = {
        str(routed): round(1 / ((1 - routed) / rates["student"] + routed / rates["teacher"]), 1)
        for routed in ROUTED
    }

    stability = {}
    for name in ("ntrex_news", "xquad_held_out_articles", "demo_held_out_pages"):
        texts = evaluations[name][:STABILITY_DOCUMENTS]
        stability[name] = {
            f"{read}_vs_{max_chars}_characters": agreement(
                probabilities(texts, read).argmax(axis=1), teacher_says[name][: len(texts)]
            )
            for read in SHORTER_READS
        }
    return {
        "teacher": {"model": str(teacher_path), "encoder": metadata["encoder"], "reads": max_chars},
        "pool": {
            "sib200_train": int((gold["split"] == "train").sum()),
            "xquad_paragraphs": int((~paragraph_out).sum()),
            "demo_pages": int((~document_out).sum()),
            "targets": "the teacher's probabilities (no gold labels)",
        },
        "learning_curve": curve,
        "learning_curve_mean": summarise(curve, list(evaluations)),
        "teacher_stability": stability,
        "teacher_fallback": fallback,
    }


def with_fallback(student: np.ndarray, teacher: np.ndarray, routed: float) -> np.ndarray:
    """The student's labels (argmax of its ``student`` probabilities), with the ``routed``
    share of documents it is least sure of (lowest top probability) given the teacher's."""
    said = student.argmax(axis=1)
    unsure = np.argsort(student.max(axis=1), kind="stable")[: int(round(routed * len(said)))]
    said[unsure] = teacher[unsure]
    return said


def per_core_rates(student, texts: list[str], max_chars: int) -> dict:
    """Documents per CPU-second of this process, student and E5 teacher, on ``texts``
    (the teacher on its first ``TEACHER_TIMED`` of them, one thread)."""
    from spark_jobs.text_embeddings import embed_texts

    cpu = time.process_time()
    student.predict(texts)
    student_rate = len(texts) / (time.process_time() - cpu)
    timed = texts[:TEACHER_TIMED]
    embed_texts(timed[:8], threads=1, max_chars=max_chars)  # the model loaded outside the timing
    cpu = time.process_time()
    embed_texts(timed, threads=1, max_chars=max_chars)
    return {
        "student": round(student_rate, 1),
        "teacher": round(len(timed) / (time.process_time() - cpu), 2),
        "documents": {"student": len(texts), "teacher": len(timed)},
    }


def summarise(curve: list[dict], names: list[str]) -> dict:
    """Mean agreement per share over its seeds, with a t interval where there are several."""
    from thresher.stats import mean_ci

    out = {}
    for share in SHARES:
        points = [p for p in curve if p["share"] == share]
        out[str(share)] = {name: mean_ci([p[name]["agreement"] for p in points]) for name in names}
    return out


def main(argv: list[str] | None = None) -> None:
    parser = teacher_arguments(__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    result = run(args.teacher, args.threads)
    result["machine"] = {
        "cpu_count": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 1),
        "python": platform.python_version(),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result["learning_curve_mean"], indent=1))
    print(json.dumps(result["teacher_stability"], indent=1))
    print(json.dumps(result["teacher_fallback"]["docs_per_core_s"]))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
