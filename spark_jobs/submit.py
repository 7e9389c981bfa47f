"""Run a ``thresher`` stage through spark-submit, on whatever master it is given.

``spark-submit <spark_submit_arguments(settings, ["dedup", "--date", "2026-11-20"])>`` runs
the stage as ``thresher dedup --date 2026-11-20`` would, in the session spark-submit
configured; ``spark_submit_operator_arguments`` gives Airflow's ``SparkSubmitOperator`` the
same application, packages and properties, its master coming from the operator's connection.

The driver reads its settings from ``THRESHER_*`` variables like the CLI, so the
submitting process passes the same environment it built ``settings`` from. Executors import
``thresher`` and ``spark_jobs`` with the driver's Python (``PYSPARK_PYTHON``, or
``spark.pyspark.python`` in ``THRESHER_SPARK_CONF``), which must have the project installed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from thresher.config import Settings

# What spark-submit runs: this file, whose main() hands its arguments to the CLI.
APPLICATION = str(Path(__file__).resolve())


def _application_name(stage_args: Sequence[str]) -> str:
    return f"thresher-{stage_args[0]}" if stage_args else "thresher"


def spark_submit_operator_arguments(
    settings: Settings, stage_args: Sequence[str], name: str | None = None
) -> dict:
    """Keyword arguments for ``SparkSubmitOperator`` (or its hook) running a CLI stage."""
    from spark_jobs.session import session_conf

    conf = session_conf(settings)
    packages = conf.pop("spark.jars.packages")
    return {
        "application": APPLICATION,
        "application_args": list(stage_args),
        "name": name or _application_name(stage_args),
        "packages": packages,
        "conf": conf,
    }


def spark_submit_arguments(
    settings: Settings,
    stage_args: Sequence[str],
    name: str | None = None,
    master: str | None = None,
) -> list[str]:
    """The arguments after ``spark-submit``; the master is ``settings.spark.master`` by default."""
    submission = spark_submit_operator_arguments(settings, stage_args, name)
    args = ["--master", master or settings.spark.master, "--name", submission["name"]]
    args += ["--packages", submission["packages"]]
    for key, value in submission["conf"].items():
        args += ["--conf", f"{key}={value}"]
    return [*args, submission["application"], *submission["application_args"]]


def main(argv: Sequence[str] | None = None) -> int:
    """Start the session spark-submit configured, then run the CLI command in it."""
    from spark_jobs import cli

    argv = list(sys.argv[1:] if argv is None else argv)
    if "PYSPARK_GATEWAY_PORT" not in os.environ:  # not under spark-submit: the plain CLI
        return cli.main(argv)

    from pyspark.sql import SparkSession

    # Built before the CLI's get_spark, which then reuses it rather than applying
    # settings.spark.master over spark-submit's --master.
    spark = SparkSession.builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    try:
        return cli.main(argv)
    finally:
        spark.stop()


if __name__ == "__main__":
    # Run as a script, this file's folder heads sys.path, where its sibling modules
    # (report, session, ...) could shadow installed ones: import them as spark_jobs.* only.
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if not p or Path(p).resolve() != here]
    sys.exit(main())
