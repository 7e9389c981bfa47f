"""``thresher``: run each job without Airflow.

thresher tables                          create every declared Delta table
thresher ingest --date 2026-11-20 --input ./pages
thresher gate   --date 2026-11-20 --run-key my-run
thresher dedup|quality|domains|mixture --date 2026-11-20   one stage (models trained if absent)
thresher stats  --date 2026-11-20 --run-key my-run
thresher curate --date 2026-11-20 --input ./pages   every stage and gate in DAG order
thresher report --date 2026-11-20        what the lake holds for a partition
thresher config                          the effective settings
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import uuid

from thresher import object_store
from thresher.config import Settings
from thresher.partitions import parse_partition

# The gates in stage order (spark_jobs.quality_gate.GATES, named here so --help imports no Spark).
GATES = (
    "bronze_documents",
    "silver_dedup",
    "silver_quality_scores",
    "silver_domains",
    "gold_mixture",
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="thresher", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("config", help="print the effective settings")
    sub.add_parser("tables", help="create every declared Delta table that is missing")

    def stage(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--date", required=True, type=parse_partition, help="partition, YYYY-MM-DD")
        p.add_argument(
            "--run-key",
            help="MLflow run to log into (found by this key, created if missing); "
            "default: a new run",
        )
        return p

    for name in ("ingest", "curate"):
        p = stage(name, "ingest files into bronze" if name == "ingest" else "run every stage")
        p.add_argument("--input", help="file or folder to read (default: THRESHER_INPUT_PATH)")
        p.add_argument("--source", help="source label (default: the input folder's name)")
    gate = stage("gate", "validate a partition with Great Expectations")
    gate.add_argument("--gate", default=GATES[0], choices=GATES)
    stage("dedup", "mark exact and near-duplicate documents of a partition")
    stage("quality", "score a partition's kept documents (trains the classifier if absent)")
    stage("domains", "classify a partition's kept documents (trains the model if absent)")
    stage("mixture", "sample the QuaDMix mixture over every scored date")
    stage("stats", "log a partition's stage statistics and close its MLflow run")
    report = sub.add_parser("report", help="print what the lake holds for a partition")
    report.add_argument("--date", required=True, type=parse_partition)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = _parser().parse_args(argv)
    settings = Settings.from_env()
    if args.command != "config" and object_store.is_object_store(settings.storage_root):
        try:
            object_store.check_bucket(settings.storage_root)
        except object_store.ObjectStoreError as problem:
            print(f"thresher: {problem}", file=sys.stderr)
            return 2

    if args.command == "config":
        print(json.dumps(settings.as_params(), indent=2))
        return 0
    if args.command == "tables":
        from spark_jobs.delta_io import ensure_all_tables
        from spark_jobs.session import get_spark

        for path in ensure_all_tables(get_spark(settings), settings):
            print(path)
        return 0
    if args.command == "report":
        from spark_jobs.report import print_report

        print_report(settings, args.date)
        return 0

    from spark_jobs import stages
    from spark_jobs.quality_gate import GateFailed
    from thresher import tracking

    run_key = args.run_key or f"cli/{args.date.isoformat()}/{uuid.uuid4().hex[:8]}"
    run_id = tracking.open_run(
        settings, run_key, tags={"thresher.partition": args.date.isoformat(), "thresher.via": "cli"}
    )
    try:
        if args.command in ("ingest", "curate"):
            summary = stages.ingest_stage(settings, args.date, run_id, args.input, args.source)
        if args.command == "gate":
            summary = stages.gate_stage(settings, args.date, run_id, args.gate)
        if args.command == "curate":
            stages.gate_stage(settings, args.date, run_id, "bronze_documents")
        if args.command in ("dedup", "curate"):
            summary = stages.dedup_stage(settings, args.date, run_id)
        if args.command == "curate":
            stages.gate_stage(settings, args.date, run_id, "silver_dedup")
        if args.command in ("quality", "curate"):
            stages.reference_classifier_stage(settings, run_id)
            summary = stages.quality_stage(settings, args.date, run_id)
        if args.command == "curate":
            stages.gate_stage(settings, args.date, run_id, "silver_quality_scores")
        if args.command in ("domains", "curate"):
            stages.domain_model_stage(settings, run_id)
            summary = stages.domain_stage(settings, args.date, run_id)
        if args.command == "curate":
            stages.gate_stage(settings, args.date, run_id, "silver_domains")
        if args.command in ("mixture", "curate"):
            summary = stages.mixture_stage(settings, run_id)
        if args.command == "curate":
            stages.gate_stage(settings, args.date, run_id, "gold_mixture")
        if args.command in ("stats", "curate"):
            summary = stages.stats_stage(settings, args.date, run_id)
    except GateFailed as failed:
        print(f"thresher: {failed}", file=sys.stderr)
        return 3
    print(json.dumps(summary, indent=2, default=str))
    print(f"MLflow run {run_id} (run key {run_key})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
