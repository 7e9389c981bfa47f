"""MuRating on the real parallel data, evaluated over seeded splits, with and without the
E5 teacher, at several read lengths.

Runs the pipeline's own code outside Spark: the parallel units (NTREX-128 documents, XQuAD
paragraphs, Tatoeba blocks, and the Debian documentation pages when ``make demo-data`` has
fetched them), the English raters and their Bradley–Terry aggregation, monolingual /
cross-lingual / parallel pairs, and the CPU rater (frozen multilingual-e5-small + MLP head)
trained on the training units and evaluated on the held-out units (``held_out_fraction`` of
the units, held out in every language). Three studies, each over ``--splits`` seeds (the
seed draws the held-out units, the aggregation pairs, the training pairs and the head's
initialisation), every figure a mean with a 95 % Student-t interval over the splits:

1. **Teachers**: the unified English score from ``rules + lexical + e5_prototype`` (the
   default) and from ``rules + lexical`` alone. ``e5_prototype`` is a linear function of the
   same frozen E5 embedding the rater reads, so part of the first agreement is circular; the
   second is what the rater learns from judgments it cannot see in its own features. Pairwise
   accuracy overall, per pair type, per language, per source and per length bucket, parallel
   Spearman, and the baselines on the same pairs: chance (0.5), document length, and the
   ``e5_prototype`` score itself applied zero-shot in every language.
2. **Read length** (``--read-languages``, a subset: every read embeds its pieces): the rater
   reading the first 256 characters, or the first N tokens in 128-token pieces (N from
   ``--reads``), each with both teachers; and the cost per document of each read, measured in
   this run on a fixed sample with an empty cache (one thread: documents/s per core).

Writes ``bench/results/murating.json`` and a plot beside it, and logs both to MLflow
(experiment ``thresher-murating``). Embeddings are cached under ``<checkpoint_root>/murating/
embeddings`` by piece: a first run embeds everything (hours on 2 shared cores), later runs
only judge and train.

    .venv/bin/python -m bench.murating [--splits 5] [--reads 0,128,256,512] [--no-mlflow]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from thresher.murating import lifecycle

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "murating.json"
TEACHERS = {
    "with_e5_prototype": ("rules", "lexical", "e5_prototype"),
    "without_e5_prototype": ("rules", "lexical"),
}
READ_LANGUAGES = ("en", "de", "ru", "zh", "ar", "hi")
COST_SAMPLE = 8  # documents per source timed for each read


def summarise(values: list[float | None]) -> dict:
    """Mean and 95 % interval over the splits (splits where the figure is undefined dropped)."""
    from models.poso.summary import spread

    kept = [float(v) for v in values if v is not None and np.isfinite(v)]
    if not kept:
        return {"mean": None, "ci95": None, "n": 0}
    out = spread(kept)
    ci95 = None if out["ci95"] is None else round(out["ci95"], 4)
    return {"mean": round(out["mean"], 4), "ci95": ci95, "n": out["n"]}


def summarise_tree(reports: list[dict]) -> dict:
    """The per-split reports (same keys) → one tree of mean ± interval leaves."""
    first = reports[0]
    out = {}
    for key in first:
        if isinstance(first[key], dict):
            keys = sorted({k for r in reports for k in r[key]})
            out[key] = summarise_tree([{k: r[key].get(k) for k in keys} for r in reports])
        else:
            out[key] = summarise([r[key] for r in reports])
    return out


class Study:
    """The documents, their English raters' scores (computed once) and the embedding cache."""

    def __init__(self, settings, docs: pd.DataFrame, threads: int) -> None:
        from thresher.murating.embeddings import EmbeddingCache, cache_folder
        from thresher.murating.raters import build_raters, rate

        self.settings, self.config = settings, settings.murating
        self.docs, self.threads = docs, threads
        self.folder = cache_folder(settings)
        self.teacher_cache = EmbeddingCache(
            self.folder, self.config.max_chars, "", threads, runtime=self.config.encoder_runtime
        )
        raters = build_raters(TEACHERS["with_e5_prototype"], self.teacher_cache.embed)
        self.versions = {r.name: r.version for r in raters}
        english = docs[docs["language"] == "en"].reset_index(drop=True)
        self.english_scores = rate(english["text"].tolist(), raters)
        self.prototype = build_raters(("e5_prototype",), self.teacher_cache.embed)[0]

    def student_cache(self, read_tokens: int):
        from thresher.murating.embeddings import EmbeddingCache

        return EmbeddingCache(
            self.folder,
            self.config.max_chars,
            "",
            self.threads,
            read_tokens=read_tokens,
            chunk_tokens=128,
            runtime=self.config.encoder_runtime,
        )

    def split(self, teacher: str, seed: int, docs: pd.DataFrame):
        """Judged documents and training pairs of one split under one teacher."""
        from thresher.murating.judgments import judge
        from thresher.murating.pairs import training_pairs

        config = dataclasses.replace(self.config, seed=seed)
        scores = {name: self.english_scores[name] for name in TEACHERS[teacher]}
        given = {name: (lambda english, v=v: v) for name, v in scores.items()}
        judged, agreement = judge(self.docs, [], config, given)
        judged = judged[judged["doc_key"].isin(docs["doc_key"])].reset_index(drop=True)
        pairs = training_pairs(
            judged,
            config.monolingual_pairs_per_language,
            config.cross_lingual_pairs,
            config.parallel_pairs,
            seed,
            config.strata,
            config.min_gap,
            config.label_temperature,
        )
        return judged, pairs, agreement

    def train_and_evaluate(self, judged, pairs, seed: int, cache, output: Path) -> dict:
        from models.murating.evaluate import evaluate
        from models.murating.head import score_texts
        from models.murating.train import train
        from thresher.murating.judgments import HELD_OUT

        config = lifecycle.training_settings(
            self.config, seed=seed, read_tokens=cache.read.read_tokens
        )
        for stale in output.glob("checkpoint.pt"):
            stale.unlink()  # every cell trains from scratch
        trained = train(pairs, output, config, cache=cache)
        from models.murating.head import load_rater

        rater = load_rater(output / "model", self.folder, self.config.encoder_runtime)
        rater.cache = cache
        docs = judged[judged["split"] == HELD_OUT].reset_index(drop=True)
        held_out = pairs[pairs["split"] == HELD_OUT].reset_index(drop=True)
        report = evaluate(
            docs, score_texts(rater, docs["text"].tolist()), held_out, self.config.margin
        )
        report["baselines"] = self.baselines(docs, held_out)
        report["final_train_loss"] = trained["history"][-1]["train_loss"]
        return flatten(report)

    def baselines(self, docs: pd.DataFrame, held_out: pd.DataFrame) -> dict:
        """Pairwise accuracy of scores that need no training, on the same held-out pairs."""
        from models.murating.evaluate import pairwise_accuracy

        out = {}
        candidates = {
            "length": np.log1p(docs["text"].str.len().to_numpy(float)),
            "e5_prototype_zero_shot": self.prototype.score(docs["text"].tolist()),
        }
        for name, values in candidates.items():
            lookup = dict(zip(docs["doc_key"], values, strict=True))
            accuracy = pairwise_accuracy(
                held_out,
                held_out["doc_a"].map(lookup),
                held_out["doc_b"].map(lookup),
                self.config.margin,
            )
            out[name] = {"overall": accuracy["overall"], "by_source": accuracy["by_source"]}
        out["chance"] = {"overall": 0.5}
        return out


def flatten(report: dict) -> dict:
    """What is summarised over splits: accuracy overall and broken down, Spearman, baselines."""
    english = report["english_agreement"]
    return {
        "pairwise_accuracy_overall": report["pairwise_accuracy_overall"],
        "pairwise_accuracy_english": english["pairwise_accuracy"],
        "pairwise_accuracy_other_languages_mean": report["pairwise_accuracy_other_languages_mean"],
        "pairwise_accuracy_by_pair_type": report["pairwise_accuracy_by_pair_type"],
        "pairwise_accuracy_by_source": report["pairwise_accuracy_by_source"],
        "pairwise_accuracy_by_length": report["pairwise_accuracy_by_length"],
        "pairwise_accuracy_by_language": report["pairwise_accuracy_by_language"],
        "parallel_spearman_mean": report["parallel_spearman_mean"],
        "english_spearman_with_unified": english["spearman"],
        "held_out_pairs_counted": report["pairwise_pairs"],
        "baseline_length": report["baselines"]["length"]["overall"],
        "baseline_length_by_source": report["baselines"]["length"]["by_source"],
        "baseline_e5_prototype_zero_shot": report["baselines"]["e5_prototype_zero_shot"]["overall"],
        "baseline_e5_prototype_zero_shot_by_source": report["baselines"]["e5_prototype_zero_shot"][
            "by_source"
        ],
        "final_train_loss": report["final_train_loss"],
    }


def read_cost(study: Study, reads: list[int]) -> dict:
    """Seconds per document of each read, from an empty in-memory cache, one thread."""
    from thresher.murating.embeddings import EmbeddingCache

    sample = study.docs.groupby("source", group_keys=False).apply(
        lambda g: g.sample(min(len(g), COST_SAMPLE), random_state=0)
    )
    texts = sample["text"].tolist()
    out = {}
    for read_tokens in reads:
        cache = EmbeddingCache(
            None,
            study.config.max_chars,
            "",
            1,
            read_tokens=read_tokens,
            chunk_tokens=128,
            runtime=study.config.encoder_runtime,
        )
        tokens = [
            sum(n for _, n in cache.pieces(t))
            if read_tokens
            else cache.count_tokens(cache.pieces(t)[0][0])
            for t in texts
        ]
        started = time.perf_counter()
        cache.embed(texts)
        seconds = time.perf_counter() - started
        out[cache.read.label] = {
            "documents": len(texts),
            "seconds_per_document": round(seconds / len(texts), 3),
            "documents_per_second_per_core": round(len(texts) / seconds, 2),
            "tokens_read_per_document": round(float(np.mean(tokens)), 1),
            "pieces_per_document": round(sum(len(cache.pieces(t)) for t in texts) / len(texts), 2),
        }
    return out


def progress(started: float, message: str) -> None:
    """One line per step on stderr: the run takes long on shared cores."""
    print(f"[{time.perf_counter() - started:7.0f} s] {message}", file=sys.stderr, flush=True)


def run(
    settings, splits: int, reads: list[int], read_languages: tuple[str, ...], threads: int
) -> dict:
    from thresher.murating.judgments import documents_frame
    from thresher.murating.parallel import parallel_documents

    started = time.perf_counter()
    load_before = os.getloadavg()
    docs = documents_frame(parallel_documents(settings))
    study = Study(settings, docs, threads)
    legacy = study.student_cache(0)
    legacy.embed(docs["text"].tolist())
    output = Path(settings.checkpoint_root) / "murating" / "bench"
    seeds = list(range(1, splits + 1))
    teachers, agreements = {}, {}
    for teacher in TEACHERS:
        reports = []
        for seed in seeds:
            judged, pairs, agreement = study.split(teacher, seed, docs)
            reports.append(study.train_and_evaluate(judged, pairs, seed, legacy, output))
            progress(started, f"teacher {teacher}, split {seed}: trained and evaluated")
            agreements.setdefault(teacher, []).append(
                {k: v for k, v in agreement.items() if isinstance(v, float)}
            )
        teachers[teacher] = summarise_tree(reports)
    subset = docs[docs["language"].isin(read_languages)].reset_index(drop=True)
    by_read: dict[str, dict] = {}
    for read_tokens in reads:
        cache = study.student_cache(read_tokens)
        cache.embed(subset["text"].tolist())
        progress(started, f"{cache.read.label}: {len(subset)} documents embedded")
        for teacher in TEACHERS:
            reports = [
                study.train_and_evaluate(
                    *study.split(teacher, seed, subset)[:2], seed, cache, output
                )
                for seed in seeds
            ]
            keep = (
                "pairwise_accuracy_overall",
                "pairwise_accuracy_other_languages_mean",
                "pairwise_accuracy_english",
                "pairwise_accuracy_by_source",
                "pairwise_accuracy_by_length",
                "parallel_spearman_mean",
            )
            by_read.setdefault(cache.read.label, {})[teacher] = summarise_tree(
                [{k: r[k] for k in keep} for r in reports]
            )
            progress(started, f"{cache.read.label}, teacher {teacher}: {len(seeds)} splits")
    cost = read_cost(study, reads)
    return {
        "teachers": teachers,
        "teacher_agreement": {t: summarise_tree(a) for t, a in agreements.items()},
        "read_length": {"languages": list(read_languages), "by_read": by_read, "cost": cost},
        "data": {
            "documents": len(docs),
            "units": int(docs["unit_id"].nunique()),
            "documents_by_source": {k: int(v) for k, v in docs.groupby("source").size().items()},
            "languages": sorted(docs["language"].unique()),
            "read_subset_documents": len(subset),
            "held_out_fraction": settings.murating.held_out_fraction,
            "margin": settings.murating.margin,
        },
        "raters": study.versions,
        "splits": seeds,
        "training": lifecycle.training_values(settings.murating),
        "encoder": f"multilingual-e5-small-q4 ({settings.murating.encoder_runtime})",
        "machine": {
            "python": platform.python_version(),
            "cpu_threads": threads,
            "cpus": os.cpu_count(),
            "load_average_before": [round(x, 1) for x in load_before],
            "load_average_after": [round(x, 1) for x in os.getloadavg()],
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "seconds": round(time.perf_counter() - started),
        },
    }


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    sources = sorted(result["teachers"]["with_e5_prototype"]["pairwise_accuracy_by_source"])
    for offset, teacher in ((-0.2, "with_e5_prototype"), (0.2, "without_e5_prototype")):
        cells = result["teachers"][teacher]["pairwise_accuracy_by_source"]
        x = np.arange(len(sources)) + offset
        left.bar(
            x,
            [cells[s]["mean"] for s in sources],
            0.4,
            label=teacher,
            yerr=[cells[s]["ci95"] or 0 for s in sources],
            capsize=3,
        )
    left.axhline(0.5, color="grey", lw=0.8)
    left.set_xticks(range(len(sources)), sources)
    left.set_ylim(0.4, 1.0)
    splits = len(result["splits"])
    left.set_title(f"held-out pairwise accuracy by source ({splits} splits, 95 % CI)")
    left.legend()
    reads = result["read_length"]["by_read"]
    cost = result["read_length"]["cost"]
    for teacher in TEACHERS:
        xs = [cost[label]["tokens_read_per_document"] for label in reads]
        ys = [reads[label][teacher]["pairwise_accuracy_overall"]["mean"] for label in reads]
        errs = [reads[label][teacher]["pairwise_accuracy_overall"]["ci95"] or 0 for label in reads]
        right.errorbar(xs, ys, yerr=errs, marker="o", capsize=3, label=teacher)
    right.set_xlabel("tokens read per document (mean; cost is linear in it)")
    right.set_title(f"accuracy by read length ({', '.join(result['read_length']['languages'])})")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    from thresher.config import Settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--reads", default="0,128,256,512", help="0 = the first max_chars")
    parser.add_argument("--read-languages", default=",".join(READ_LANGUAGES))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", default=str(RESULTS))
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument("--note", default="", help="conditions of this run, kept in the JSON")
    args = parser.parse_args()
    settings = Settings.from_env()
    if "debian" not in settings.murating.sources and not os.environ.get(
        "THRESHER_MURATING_SOURCES"
    ):
        from thresher.murating.debian_docs import debian_docs_folder

        if debian_docs_folder(settings).is_dir():  # the demo's pages are here: use them too
            sources = (*settings.murating.sources, "debian")
            settings = dataclasses.replace(
                settings, murating=dataclasses.replace(settings.murating, sources=sources)
            )
    reads = [int(r) for r in args.reads.split(",")]
    result = run(settings, args.splits, reads, tuple(args.read_languages.split(",")), args.threads)
    result["conditions"] = {
        "splits": args.splits,
        "reads": reads,
        "read_languages": args.read_languages.split(","),
        "note": args.note,
    }
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2, default=float) + "\n")
    plot(result, output.with_suffix(".png"))
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
        tracker.log_artifact(output)
        tracker.log_artifact(output.with_suffix(".png"))
        tracker.finish()
    headline = {t: result["teachers"][t]["pairwise_accuracy_overall"] for t in TEACHERS}
    print(
        json.dumps(
            {
                "pairwise_accuracy_overall": headline,
                "read_length": {
                    k: {t: v[t]["pairwise_accuracy_overall"] for t in TEACHERS}
                    for k, v in result["read_length"]["by_read"].items()
                },
                "cost": result["read_length"]["cost"],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
