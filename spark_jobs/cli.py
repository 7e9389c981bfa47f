"""``thresher``: run the curation jobs without Airflow.

thresher tables                          create every declared Delta table
thresher curate --date 2026-11-20 --input ./pages   every job and gate, in the declared order
thresher ingest --date 2026-11-20 --input ./pages   one job and its gate (models it waits for first)
thresher dedup|quality|domains|mixture|stage_statistics --date 2026-11-20
thresher gate   --date 2026-11-20 --gate silver_dedup
thresher report --date 2026-11-20        what the lake holds for a partition
thresher config                          the effective settings (secrets redacted)
thresher connect-server                  serve the lake's Spark session on THRESHER_SPARK_REMOTE

The jobs and their order come from ``thresher.jobs.CURATION``: the same list the curation
DAG is built from. ``--run-key`` names the MLflow run to log into, so commands can share one.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import uuid

from thresher import names, object_store
from thresher.config import ConfigError, Settings
from thresher.jobs import CURATION, JobContext
from thresher.partitions import parse_partition

GATES = CURATION.gates
ALIASES = {"stage_statistics": ["stats"]}


def _checked(check):
    """An argparse type that reports a name's problem in one line."""

    def parse(value: str) -> str | None:
        if value == "":  # an empty flag (an unset DAG param) means the default
            return None
        try:
            return check(value)
        except names.InvalidName as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="thresher", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("config", help="print the effective settings (secrets redacted)")
    sub.add_parser("tables", help="create every declared Delta table that is missing")

    def command(name: str, help_text: str, aliases=()) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, aliases=list(aliases))
        p.add_argument("--date", required=True, type=parse_partition, help="partition, YYYY-MM-DD")
        p.add_argument(
            "--run-key",
            type=_checked(names.run_key),
            help="MLflow run to log into (found by this key, created if missing); "
            "default: a new run",
        )
        return p

    def run_params(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--input",
            "--input-path",
            dest="input",
            type=_checked(names.input_path),
            help="file or folder to read (default: THRESHER_INPUT_PATH)",
        )
        p.add_argument(
            "--source",
            type=_checked(names.source_name),
            help="source label: letters, digits, . _ - (default: the input folder's name)",
        )

    run_params(command("curate", "run every job and gate in the declared order"))
    for job in CURATION.jobs:
        p = command(job.name, job.description, ALIASES.get(job.name, ()))
        if "input_path" in job.params:
            run_params(p)
    gate = command("gate", "validate a partition with one Great Expectations suite")
    gate.add_argument("--gate", default=GATES[0], choices=GATES)
    sub.add_parser(
        "connect-server",
        help="serve this lake's Spark session to jobs as a Spark Connect server "
        "(on THRESHER_SPARK_REMOTE, sc://host:port) until stopped",
    )
    report = sub.add_parser("report", help="print what the lake holds for a partition")
    report.add_argument("--date", required=True, type=parse_partition)
    return parser


def _job_name(command: str) -> str:
    return next((name for name, aliases in ALIASES.items() if command in aliases), command)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = _parser().parse_args(argv)
    try:
        return _command(args, Settings.from_env())
    except (ConfigError, object_store.ObjectStoreError) as exc:
        # a setting, Java, a bucket, a credential: one line
        print(f"thresher: {args.command}: {exc}", file=sys.stderr)
        return 2


def _command(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "config":
        print(json.dumps(settings.as_params(), indent=2))
        return 0
    if object_store.is_object_store(settings.storage_root):
        # A wrong credential or a missing bucket is one line, before an MLflow run or a JVM.
        object_store.check_bucket(settings.storage_root)
    if args.command == "tables":
        from spark_jobs.delta_io import ensure_all_tables
        from spark_jobs.session import get_spark

        for path in ensure_all_tables(get_spark(settings), settings):
            print(path)
        return 0
    if args.command == "connect-server":
        return _serve_connect(settings)
    if args.command == "report":
        from spark_jobs.report import print_report

        print_report(settings, args.date)
        return 0
    return _run(args, settings)


def _serve_connect(settings: Settings) -> int:
    if not settings.spark.remote:
        raise ConfigError("set THRESHER_SPARK_REMOTE=sc://host:port, the address to serve on")
    from spark_jobs.session import serve_connect

    spark = serve_connect(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(
        f"Spark Connect server on {settings.spark.remote} over {settings.storage_root} "
        f"(Spark UI {spark.sparkContext.uiWebUrl}); stop it with Ctrl-C",
        flush=True,
    )
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    spark.stop()
    return 0


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from spark_jobs import pipeline
    from spark_jobs.ingest import IngestError
    from spark_jobs.quality_gate import GateFailed
    from thresher import tracking
    from thresher.accounting import ReconciliationError

    run_key = args.run_key or f"cli/{args.date.isoformat()}/{uuid.uuid4().hex[:8]}"
    run_id = tracking.open_run(
        settings, run_key, tags={"thresher.partition": args.date.isoformat(), "thresher.via": "cli"}
    )
    params = {"input_path": getattr(args, "input", None), "source": getattr(args, "source", None)}
    ctx = JobContext(settings, args.date, run_id, params)
    name = _job_name(args.command)
    try:
        if name == "curate":
            summary = pipeline.run_pipeline(CURATION, ctx)["stage_statistics"]
        elif name == "gate":
            summary = pipeline.entry_point(pipeline.GATE_ENTRY)(ctx.with_params(gate=args.gate))
        else:
            for model in CURATION.models_before(name):
                pipeline.run_job(model, ctx)
            summary = pipeline.run_gated(CURATION.job(name), ctx)
    except GateFailed as failed:
        print(f"thresher: {failed}", file=sys.stderr)
        return 3
    except (
        IngestError,
        ReconciliationError,
        ConfigError,
        object_store.ObjectStoreError,
        names.InvalidName,
    ) as exc:
        tracking.finish_run(settings, run_id, status="FAILED")
        print(f"thresher: {args.command}: {exc}", file=sys.stderr)
        return 2
    except BaseException:
        tracking.finish_run(settings, run_id, status="FAILED")
        raise
    print(json.dumps(summary, indent=2, default=str))
    print(f"MLflow run {run_id} (run key {run_key})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
