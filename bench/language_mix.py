"""The language-mix study on CPU: the demo's English and Chinese pages, real parallel text.

Input: the lake ``make demo`` leaves (``.thresher/lake``: bronze.documents and
gold.mixture_default, curated Debian documentation pages in 17 languages, ~1,100 English and
~190 Chinese). Both tables are copied to ``bench/.work/language_mix`` so the demo's lake is
never written. The parallel side is the real English–Chinese parallel text in
``../shared/data`` (NTREX-128 news, XQuAD paragraphs, Tatoeba sentences), written to
silver.murating_documents as the murating DAG's ``judgments`` task leaves it (without running
the raters: the pool reads only the text, so ``score`` is 0 and ``judgment_version``
``bench-unjudged``). Then the language_mix DAG's steps, each through the entry point its task
calls (no Airflow):

1. ``spark_jobs.language_mix`` (Spark, local[2]) builds the pool;
2. ``models.pretrain.tokenizer`` trains the shared tokenizer on it;
3. the parent MLflow run (``open_experiment_run``);
4. one ``models.language_mix.cell`` per (english_share, parallel_share), one after another;
5. ``close_experiment_run`` logs the table.

Writes ``bench/results/language_mix.json`` (the rows, the settings, ``wall_s``). Run:
``python -m bench.language_mix``; defaults: English shares 0.9, 0.5, 0.1 × parallel shares
0, 0.25, tiny models of 300 steps × 16 × 128 tokens; aligned items (en, zh): SIB-200 topics,
FLORES sentence completion and FLORES bits per byte.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import platform
import shutil
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "language_mix.json"
WORK = REPO / "bench" / ".work" / "language_mix"
TABLES = ("bronze/documents", "gold/mixture_default")
log = logging.getLogger("bench.language_mix")


def copy_lake(source: Path, home: Path) -> None:
    missing = [t for t in TABLES if not (source / t / "_delta_log").is_dir()]
    if missing:
        raise SystemExit(f"{source} lacks {missing}: run `make demo` first (or pass --lake)")
    for table in TABLES:
        shutil.copytree(source / table, home / "lake" / table)


def settings_for(home: Path, args):
    from thresher.config import LanguageMixSettings, Settings, SparkSettings

    mix = LanguageMixSettings(
        language=args.language,
        english_shares=tuple(args.english_shares),
        parallel_shares=tuple(args.parallel_shares),
        size=args.size,
        max_steps=args.max_steps,
        sequence_length=args.sequence_length,
        batch_size=args.batch_size,
        vocab_size=args.vocab_size,
        items=args.items,
    )
    spark = SparkSettings(
        master="local[2]", shuffle_partitions=4, driver_memory="3g",
        conf={"spark.ui.enabled": "false"},
    )  # fmt: skip
    return Settings(home=home, spark=spark, language_mix=mix)


def write_parallel(spark, settings, data_root: Path | None) -> dict:
    """English–``language`` units of the shared parallel corpora → silver.murating_documents."""
    from spark_jobs.delta_io import ensure_table
    from thresher.murating.parallel import load_parallel
    from thresher.tables import SILVER_MURATING_DOCUMENTS

    language = settings.language_mix.language
    docs = load_parallel(("ntrex", "xquad", "tatoeba"), [language], data_root, tatoeba_lines=1000)
    # Tatoeba's English sides come per language: keep the units that have this language
    paired = {d.unit_id for d in docs if d.language == language}
    docs = [d for d in docs if d.unit_id in paired]
    rows = [
        (settings.language_mix.pair_set, d.doc_key, d.unit_id, d.language, d.source, d.text,
         0.0, {}, "train", "bench-unjudged")
        for d in docs
    ]  # fmt: skip
    path = ensure_table(spark, SILVER_MURATING_DOCUMENTS, settings)
    frame = spark.createDataFrame(rows, SILVER_MURATING_DOCUMENTS.schema)
    frame.write.format("delta").mode("overwrite").save(path)
    counts: dict[str, int] = {}
    for d in docs:
        counts[f"{d.source}.{d.language}"] = counts.get(f"{d.source}.{d.language}", 0) + 1
    return counts


def cell_arguments(pool: dict, settings, english: float, parallel: float, parent: str):
    mix = settings.language_mix
    return [
        "--pool", pool["path"], "--experiment-dir", pool["experiment_dir"],
        "--english-share", f"{english:g}", "--parallel-share", f"{parallel:g}",
        "--language", mix.language, "--size", mix.size, "--max-steps", str(mix.max_steps),
        "--sequence-length", str(mix.sequence_length), "--batch-size", str(mix.batch_size),
        "--items", mix.items, "--variant", mix.variant, "--parent-run-id", parent,
        "--experiment", mix.experiment,
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lake", type=Path, default=REPO / ".thresher" / "lake")
    parser.add_argument("--data-root", type=Path, help="shared data (default ../shared/data)")
    parser.add_argument("--language", default="zh")
    parser.add_argument("--english-shares", type=float, nargs="+", default=[0.9, 0.5, 0.1])
    parser.add_argument("--parallel-shares", type=float, nargs="+", default=[0.0, 0.25])
    parser.add_argument("--size", default="tiny")
    parser.add_argument("--max-steps", type=int, default=300)
    parser.add_argument("--sequence-length", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--vocab-size", type=int, default=8192)
    parser.add_argument("--items", default="sib200,flores_cloze,flores")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    import os

    started = time.perf_counter()
    shutil.rmtree(WORK, ignore_errors=True)
    copy_lake(args.lake, WORK)
    settings = settings_for(WORK, args)
    os.environ["THRESHER_HOME"] = str(WORK)  # the entry points read their settings from it
    if args.data_root:
        os.environ["THRESHER_SHARED_DATA"] = str(args.data_root)

    from models.language_mix import cell
    from models.pretrain import tokenizer
    from spark_jobs import language_mix as job
    from spark_jobs.session import get_spark
    from thresher import language_mix

    spark = get_spark(settings, "bench-language-mix")
    parallel_units = write_parallel(spark, settings, args.data_root)
    pool = job.build(spark, settings, "default", args.language)
    spark.stop()
    training = language_mix.CellTraining.from_settings(settings)
    pool["experiment_dir"] = language_mix.experiment_dir("default", pool["fingerprint"], training)
    log.info("pool %s", pool["documents"])
    tokenizer.main(["--corpus", pool["path"], "--output", f"{pool['experiment_dir']}/tokenizer",
                    "--vocab-size", str(args.vocab_size)])  # fmt: skip
    parent = language_mix.open_experiment_run(
        settings, f"bench/language_mix/{time.time_ns()}", "bench language_mix", pool
    )["run_id"]
    cells = []
    for english, parallel in settings.language_mix.grid:
        cell_started = time.perf_counter()
        result = cell.main(cell_arguments(pool, settings, english, parallel, parent))
        result["wall_s"] = round(time.perf_counter() - cell_started, 1)
        log.info("cell %s: %s", result["cell"], result["tasks"])
        cells.append(result)
    closed = language_mix.close_experiment_run(settings, parent, cells, args.language)
    print(closed["table"])

    report = {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, CPU only",
        "language": args.language,
        "items": args.items,
        "model": {
            "size": args.size,
            "max_steps": args.max_steps,
            "tokens_per_cell": args.max_steps * args.batch_size * args.sequence_length,
            "vocab_size": args.vocab_size,
        },  # fmt: skip
        "pool_documents": pool["documents"],
        "parallel_units": parallel_units,
        "rows": closed["rows"],
        "table": closed["table"],
        "cell_wall_s": {c["cell"]: c["wall_s"] for c in cells},
        "wall_s": round(time.perf_counter() - started, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    log.info("wrote %s", args.output)


if __name__ == "__main__":
    main()
