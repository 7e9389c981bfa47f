"""The whole QuaDMix search on CPU over the demo's curated Debian pages, end to end.

Input: the lake ``make demo`` leaves (``.thresher/lake``: bronze.documents, and the
silver.quality_scores and silver.domains of the curation DAG: ~6,500 scored pages in 16
languages, 7 SIB-200 domains). Its three tables are copied to ``bench/.work/mixsearch`` so the
demo's lake is never written. Then the DAG's steps, each through the entry point its task
calls (no Airflow):

1. ``spark_jobs.search_features`` (Spark, local[2]);
2. ``models.pretrain.tokenizer`` on the features' training split;
3. the parent MLflow run with the K sampled parameter sets (``open_search_run``);
4. K proxies (``models.mixture_search.proxy``, one after another in this process);
5. ``models.mixture_search.choose``: LightGBM vs ridge by out-of-fold MAE and Spearman's ρ,
   100,000 candidates, the mean of the best 10;
6. ``spark_jobs.mixture`` builds ``gold.mixture_searched`` with the chosen parameters;
7. a check the search itself does not make: one more proxy trained on the chosen parameters,
   so the predicted loss of the choice can be compared with its actual loss.

Writes ``bench/results/mixsearch.json`` (``lightgbm_mae``, ``linear_mae``, ``spearman``,
``proxies``, ``wall_s`` and the details). Run: ``python -m bench.mixsearch``; the defaults are
32 tiny proxies of 150 steps (16 × 128 tokens each) and the paper's 100,000 candidates.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import shutil
import statistics
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "mixsearch.json"
WORK = REPO / "bench" / ".work" / "mixsearch"
TABLES = ("bronze/documents", "silver/quality_scores", "silver/domains")
log = logging.getLogger("bench.mixsearch")


def copy_lake(source: Path, home: Path) -> None:
    missing = [t for t in TABLES if not (source / t / "_delta_log").is_dir()]
    if missing:
        raise SystemExit(f"{source} lacks {missing}: run `make demo` first (or pass --lake)")
    for table in TABLES:
        shutil.copytree(source / table, home / "lake" / table)


def settings_for(home: Path, args):
    from thresher.config import MixtureSearchSettings, Settings, SparkSettings

    search = MixtureSearchSettings(
        proxies=args.proxies,
        max_steps=args.max_steps,
        sequence_length=args.sequence_length,
        batch_size=args.batch_size,
        vocab_size=args.vocab_size,
        eval_set=args.eval_set,
        candidates=args.candidates,
        top_k=args.top_k,
        folds=args.folds,
    )
    spark = SparkSettings(
        master="local[2]", shuffle_partitions=4, driver_memory="3g",
        conf={"spark.ui.enabled": "false"},
    )  # fmt: skip
    return Settings(home=home, spark=spark, mixture_search=search)


def proxy_arguments(features: dict, settings, parent: str) -> list[str]:
    search = settings.mixture_search
    return [
        "--features", features["path"], "--search-dir", features["search_dir"],
        "--eval-set", search.eval_set, "--size", search.size,
        "--max-steps", str(search.max_steps), "--sequence-length", str(search.sequence_length),
        "--batch-size", str(search.batch_size), "--parent-run-id", parent,
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mixsearch", description=__doc__)
    parser.add_argument("--lake", type=Path, default=REPO / ".thresher" / "lake")
    parser.add_argument("--proxies", type=int, default=32)
    parser.add_argument("--max-steps", type=int, default=150)
    parser.add_argument("--sequence-length", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--vocab-size", type=int, default=4096)
    parser.add_argument("--eval-set", default="heldout")
    parser.add_argument("--candidates", type=int, default=100_000)
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--resume", action="store_true", help="keep bench/.work/mixsearch")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

    home = WORK / "home"
    if home.exists() and not args.resume:
        shutil.rmtree(home)
    if not home.exists():
        copy_lake(args.lake, home)
    os.environ["THRESHER_HOME"] = str(home)  # what the entry points read
    settings = settings_for(home, args)
    for field in ("proxies", "max_steps", "sequence_length", "batch_size", "vocab_size",
                  "eval_set", "candidates", "top_k", "folds"):  # fmt: skip
        name = f"THRESHER_MIXTURE_SEARCH_{field.upper()}"
        os.environ[name] = str(getattr(settings.mixture_search, field))

    from models.mixture_search import choose, proxy
    from models.pretrain import tokenizer
    from spark_jobs import mixture, search_features
    from spark_jobs.session import get_spark
    from thresher import mixture_search
    from thresher.quadmix import QuadMixParams

    stages: dict[str, float] = {}
    started = time.perf_counter()

    def timed(name, fn):
        t0 = time.perf_counter()
        out = fn()
        stages[name] = round(time.perf_counter() - t0, 1)
        log.info("%s: %.1f s", name, stages[name])
        return out

    spark = get_spark(settings, "bench-mixsearch")
    spark.sparkContext.setLogLevel("ERROR")
    features = timed("features_s", lambda: search_features.build(spark, settings))
    training = mixture_search.ProxyTraining.from_settings(settings)
    features["search_dir"] = mixture_search.search_dir("default", features["fingerprint"], training)
    timed("tokenizer_s", lambda: tokenizer.main([
        "--corpus", features["path"], "--output", f"{features['search_dir']}/tokenizer",
        "--vocab-size", str(args.vocab_size),
    ]))  # fmt: skip
    run_key = f"bench/mixsearch/{dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}"
    search = mixture_search.open_search_run(
        settings, run_key, "bench mixsearch", features, {"thresher.via": "bench"}
    )
    base = proxy_arguments(features, settings, search["run_id"])
    results, proxy_times = [], []
    t0 = time.perf_counter()
    for k in range(args.proxies):
        t1 = time.perf_counter()
        results.append(proxy.main([*base, "--index", str(k)]))
        proxy_times.append(time.perf_counter() - t1)
        log.info("proxy %d/%d: %s loss %s in %.0f s", k + 1, args.proxies,
                 results[-1]["status"], results[-1]["loss"], proxy_times[-1])  # fmt: skip
    stages["proxies_s"] = round(time.perf_counter() - t0, 1)
    choice = timed("choose_s", lambda: choose.main([
        "--search-dir", features["search_dir"], "--parent-run-id", search["run_id"],
        "--folds", str(args.folds), "--candidates", str(args.candidates),
        "--top-k", str(args.top_k),
    ]))  # fmt: skip
    chosen = QuadMixParams.from_json(json.dumps(choice["params"]))
    final_settings = mixture_search.search_settings(settings, "searched")
    final = timed("final_mixture_s", lambda: mixture.run(spark, final_settings, params=chosen))
    mixture_search.close_search_run(settings, search["run_id"], choice, final)
    wall_s = round(time.perf_counter() - started, 1)
    # beyond the search: does the chosen mixture's proxy reach the predicted loss?
    check = timed("check_s", lambda: proxy.main([*base, "--params", choice["params_path"]]))
    spark.stop()

    losses = [r["loss"] for r in results if r["loss"] is not None]
    result = {
        "lightgbm_mae": round(choice["lightgbm_mae"], 5),
        "linear_mae": round(choice["linear_mae"], 5),
        "spearman": round(choice["spearman"], 4),
        "proxies": args.proxies,
        "wall_s": wall_s,
        "lightgbm_beats_linear": choice["lightgbm_mae"] < choice["linear_mae"],
        "regression": json.loads(
            (
                home / "checkpoints" / features["search_dir"] / "choice" / "regression.json"
            ).read_text()
        ),
        "proxy_losses": {
            "finished": len(losses),
            "too_small": choice["too_small"],
            "min": min(losses),
            "median": statistics.median(losses),
            "max": max(losses),
        },  # fmt: skip
        "choice": {
            "params_version": choice["params_version"],
            "params": choice["params"],
            "candidates": choice["candidates"],
            "top_k": choice["top_k"],
            "predicted_loss": choice["predicted_loss"],
            "actual_loss": check["loss"],
            "best_proxy_loss": choice["best_proxy_loss"],
            "final_mixture": {
                k: final[k]
                for k in (
                    "mixture",
                    "mixture.documents",
                    "mixture.selected",
                    "mixture.copies",
                    "mixture.tokens",
                )
            },  # fmt: skip
        },
        "stages_s": {**stages, "proxy_mean_s": round(statistics.mean(proxy_times), 1)},
        "corpus": {
            "source": "make demo lake: Debian documentation pages, curated by the curation DAG",
            "documents": features["documents"],
            "validation_documents": features["validation_documents"],
            "tokens": features["tokens"],
            "criteria": features["criteria_versions"],
            "domains": features["domains"],
        },
        "proxy": {
            "size": settings.mixture_search.size,
            "max_steps": args.max_steps,
            "sequence_length": args.sequence_length,
            "batch_size": args.batch_size,
            "vocab_size": args.vocab_size,
            "eval_set": args.eval_set,
            "parameters": next(r["parameters"] for r in results if r["loss"] is not None),
            "target": "mean next-token loss over the evaluation set's languages (val_loss.all)",
        },  # fmt: skip
        "mlflow_parent_run": search["run_id"],
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_avg_1m_at_end": round(os.getloadavg()[0], 1),
        },  # fmt: skip
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    keys = ("lightgbm_mae", "linear_mae", "spearman", "proxies", "wall_s", "proxy_losses")
    print(json.dumps({k: result[k] for k in keys} | {"choice": result["choice"]["actual_loss"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
