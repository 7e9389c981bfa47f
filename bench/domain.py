"""Domain classifier on SIB-200: train on all 18 languages' train splits, measure dev accuracy.

Runs the pipeline's own code (``load_sib200`` → ``train_domain_classifier``) on a local
Spark session with the given cores, in a throwaway lake, then times the encoder alone on
NTREX news documents cut at several ``max_chars`` (what a long web page costs). Writes
``bench/results/domain.json``: accuracy per language and its macro average and minimum,
the encoder, embedding throughput and training time.

    .venv/bin/python -m bench.domain [--cores 2] [--output bench/results/domain.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "domain.json"
TARGETS = {"macro_accuracy": 0.70, "min_accuracy": 0.55}
TRUNCATIONS = (500, 1000, 2000, 4000)


def shared_data() -> Path:
    return Path(os.environ.get("THRESHER_SHARED_DATA", REPO.parent / "shared" / "data"))


def ntrex_documents(limit: int) -> list[str]:
    """The first ``limit`` English NTREX news documents (sentences joined by spaces)."""
    root = shared_data() / "ntrex"
    ids = (root / "DOCUMENT_IDS.tsv").read_text(encoding="utf-8").splitlines()
    lines = (root / "newstest2019-ref.eng-US.txt").read_text(encoding="utf-8").splitlines()
    docs: dict[str, list[str]] = {}
    for doc_id, line in zip(ids, lines, strict=True):
        docs.setdefault(doc_id, []).append(line)
    return [" ".join(body) for body in list(docs.values())[:limit]]


def truncation_cost(threads: int, documents: int = 24) -> dict:
    """Documents per second embedded at each ``max_chars``, in this process."""
    from spark_jobs.text_embeddings import embed_texts

    texts = ntrex_documents(documents)
    out = {"documents": len(texts), "mean_chars": round(sum(map(len, texts)) / len(texts))}
    embed_texts(texts[:2], threads=threads)  # load the model outside the timing
    for max_chars in TRUNCATIONS:
        started = time.perf_counter()
        embed_texts(texts, threads=threads, max_chars=max_chars)
        out[f"docs_per_second_at_{max_chars}_chars"] = round(
            len(texts) / (time.perf_counter() - started), 2
        )
    return out


def run(cores: int) -> dict:
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from spark_jobs import domain_model
    from spark_jobs.domain_labels import SIB200_LANGUAGES, labelled_texts, load_sib200
    from spark_jobs.session import get_spark
    from thresher.config import DomainSettings, Settings, SparkSettings

    with tempfile.TemporaryDirectory(prefix="thresher-bench-domain-") as home:
        settings = Settings(
            home=Path(home),
            spark=SparkSettings(
                master=f"local[{cores}]",
                shuffle_partitions=cores,
                driver_memory="4g",
                conf={"spark.ui.enabled": "false"},
            ),
            languages=tuple(SIB200_LANGUAGES.values()),
            domain=DomainSettings(labels_path=str(shared_data() / "sib200")),
        )
        spark = get_spark(settings, "thresher-bench-domain")
        try:
            loaded = load_sib200(spark, settings)
            metrics = domain_model.train_domain_classifier(
                spark, settings, labelled_texts(spark, settings)
            )
        finally:
            spark.stop()
    return {
        "dataset": "SIB-200 (train: all 18 languages together; evaluated on dev)",
        "rows": loaded,
        "encoder": metrics["encoder"],
        "max_chars": metrics["max_chars"],
        "reg_param": settings.domain.reg_param,
        "labels": metrics["labels"],
        "accuracy_by_language": metrics["accuracy_by_language"],
        "macro_accuracy": metrics["macro_accuracy"],
        "min_accuracy": metrics["min_accuracy"],
        "targets": TARGETS,
        "targets_met": metrics["macro_accuracy"] >= TARGETS["macro_accuracy"]
        and metrics["min_accuracy"] >= TARGETS["min_accuracy"],
        "embedding_docs_per_second": metrics["embedding_docs_per_second"],
        "embedding_seconds": metrics["embedding_seconds"],
        "training_seconds": metrics["training_seconds"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cores", type=int, default=2, help="Spark local[n] and encoder threads")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--skip-truncation", action="store_true", help="skip the NTREX timing")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    report = run(args.cores)
    if not args.skip_truncation:
        report["truncation_cost_one_thread"] = truncation_cost(threads=1)
    report["machine"] = {
        "cores": args.cores,
        "cpu_count": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 1),
        "python": platform.python_version(),
    }
    report["wall_seconds"] = round(time.perf_counter() - started, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: report[k] for k in ("macro_accuracy", "min_accuracy")}, indent=2))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
