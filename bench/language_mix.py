"""The language-mix study on CPU: the demo's English and Chinese pages, real parallel text.

Input: the lake ``make demo`` leaves (``.thresher/lake``: bronze.documents and
gold.mixture_default, curated Debian documentation pages in 17 languages, ~1,100 English and
~190 Chinese). Both tables are copied to ``bench/.work/language_mix`` so the demo's lake is
never written. The parallel side is the real English–Chinese parallel text in
``../shared/data`` (NTREX-128 news, XQuAD paragraphs, Tatoeba sentences), written to
silver.murating_documents as the murating DAG's ``judgments`` task leaves it (without running
the raters: the pool reads only the text, so ``score`` is 0 and ``judgment_version``
``bench-unjudged``). Then the steps of ``thresher.experiments.LANGUAGE_MIX``, run by the
benchmarks' executor (``bench.experiments``) exactly as the ``language_mix`` DAG runs them:
the pool (Spark, local[2]), the shared tokenizer, the parent MLflow run, one
``models.language_mix.cell`` process per (english_share, parallel_share), one after another,
and the table.

Writes ``bench/results/language_mix.json`` (the rows, the settings, ``wall_s``). Run:
``python -m bench.language_mix``; the settings' defaults: English shares 0.9, 0.5, 0.1 ×
parallel shares 0, 0.25, tiny models of 300 steps × 16 × 128 tokens; aligned items (en, zh):
SIB-200 topics, FLORES sentence completion and FLORES bits per byte.
``THRESHER_LANGUAGE_MIX_*`` variables change them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
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


def settings_for(home: Path):
    """The study's settings: its own home, Spark on local[2]; ``THRESHER_LANGUAGE_MIX_*``
    variables of the environment change the grid, the models and the evaluation."""
    import dataclasses

    from thresher.config import Settings, SparkSettings

    env = {k: v for k, v in os.environ.items() if k.startswith("THRESHER_LANGUAGE_MIX_")}
    settings = Settings.from_env({**env, "THRESHER_HOME": str(home)})
    spark = SparkSettings(
        master="local[2]",
        shuffle_partitions=4,
        driver_memory="3g",
        conf={"spark.ui.enabled": "false"},
    )
    return dataclasses.replace(settings, spark=spark)


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
        (
            settings.language_mix.pair_set,
            d.doc_key,
            d.unit_id,
            d.language,
            d.source,
            d.text,
            0.0,
            {},
            "train",
            "bench-unjudged",
        )
        for d in docs
    ]
    path = ensure_table(spark, SILVER_MURATING_DOCUMENTS, settings)
    frame = spark.createDataFrame(rows, SILVER_MURATING_DOCUMENTS.schema)
    frame.write.format("delta").mode("overwrite").save(path)
    counts: dict[str, int] = {}
    for d in docs:
        counts[f"{d.source}.{d.language}"] = counts.get(f"{d.source}.{d.language}", 0) + 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lake", type=Path, default=REPO / ".thresher" / "lake")
    parser.add_argument("--data-root", type=Path, help="shared data (default ../shared/data)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    started = time.perf_counter()
    shutil.rmtree(WORK, ignore_errors=True)
    copy_lake(args.lake, WORK)
    settings = settings_for(WORK)
    if args.data_root:
        os.environ["THRESHER_SHARED_DATA"] = str(args.data_root)

    from bench.experiments import run_experiment
    from spark_jobs.session import get_spark
    from thresher.experiments import LANGUAGE_MIX

    spark = get_spark(settings, "bench-language-mix")
    parallel_units = write_parallel(spark, settings, args.data_root)
    # the cells train one after another: each uses the machine's cores
    outputs, seconds = run_experiment(LANGUAGE_MIX, settings, {"mixture": "default"}, parallel=1)
    closed, pool, mix = outputs["results"], outputs["pool"], settings.language_mix
    print(closed["table"])

    report = {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, CPU only",
        "language": mix.language,
        "items": mix.items,
        "model": {
            "size": mix.size,
            "max_steps": mix.max_steps,
            "tokens_per_cell": mix.max_steps * mix.batch_size * mix.sequence_length,
            "vocab_size": mix.vocab_size,
        },
        "pool_documents": pool["documents"],
        "parallel_units": parallel_units,
        "rows": closed["rows"],
        "table": closed["table"],
        "steps_s": seconds,
        "wall_s": round(time.perf_counter() - started, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    log.info("wrote %s", args.output)


if __name__ == "__main__":
    main()
