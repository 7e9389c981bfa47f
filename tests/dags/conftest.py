"""Airflow for DAG tests: its own home and SQLite database, set before airflow is imported."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import REPO, SHORT_LIVED_JVM, make_settings

_HOME = Path(tempfile.mkdtemp(prefix="thresher-airflow-"))
AIRFLOW_ENV = {
    "AIRFLOW_HOME": str(_HOME),
    "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
    "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_HOME / 'airflow.db'}",
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": "http://127.0.0.1:8080/execution/",
}
os.environ.update(AIRFLOW_ENV)


def airflow_cli(*args: str, env: dict[str, str], log: Path, timeout: int = 600):
    """Run the real ``airflow`` CLI of this venv; its output goes to ``log``."""
    airflow = Path(sys.executable).parent / "airflow"
    with log.open("w") as out:
        return subprocess.run(
            [str(airflow), *args], env=env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout
        )


def dags_test(dag_id: str, day: dt.date, conf: dict | None = None) -> None:
    """``airflow dags test <dag_id> <day>``, parsed and run by Airflow's CLI in this process:
    Spark tasks get the test session (``get_spark`` returns the active one), model tasks are
    local processes as in any local run. The task runner exports ``AIRFLOW_CTX_*`` into
    ``os.environ``, and its logging setup sends every logger to stdout: both restored, so
    later tests in this worker do not see them."""
    handlers, level = logging.root.handlers[:], logging.root.level  # before airflow's import
    from airflow.cli import cli_parser

    conf_args = ["--conf", json.dumps(conf)] if conf else []
    args = cli_parser.get_parser().parse_args(["dags", "test", dag_id, day.isoformat(), *conf_args])
    environment = dict(os.environ)
    try:
        args.func(args)
    except SystemExit as failed:  # "DagRun failed": the task logs are in the captured output
        pytest.fail(f"airflow dags test {dag_id} {day}: {failed}")
    finally:
        os.environ.clear()
        os.environ.update(environment)
        logging.root.handlers[:] = handlers
        logging.root.setLevel(level)


@pytest.fixture(scope="session")
def airflow_db(tmp_path_factory) -> dict[str, str]:
    """An environment whose Airflow database is migrated (once per test session)."""
    env = {
        **os.environ,
        **AIRFLOW_ENV,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    log = tmp_path_factory.mktemp("airflow-logs") / "db-migrate.log"
    result = airflow_cli("db", "migrate", env=env, log=log)
    assert result.returncode == 0, log.read_text()[-3000:]
    return env


@pytest.fixture
def pipeline_env(airflow_db, tmp_path):
    """Thresher stores in a fresh home; no retries so a failure ends the run at once."""
    home = tmp_path / "home"
    env = {
        **airflow_db,
        "THRESHER_HOME": str(home),
        "THRESHER_AIRFLOW_TASK_RETRIES": "0",
        "THRESHER_SPARK_MASTER": "local[2]",
        "THRESHER_SPARK_SHUFFLE_PARTITIONS": "2",
        "THRESHER_SPARK_DRIVER_MEMORY": "1g",
        "THRESHER_SPARK_CONF": "spark.ui.enabled=false",
        # A DAG run's Spark JVM lives a minute or two: C1 alone saves ~25 s of its CPU.
        "JDK_JAVA_OPTIONS": SHORT_LIVED_JVM,
        # Small models: few labelled items per language, few classifier features.
        "THRESHER_LANGUAGES": "en,de,fr,ja",
        "THRESHER_DOMAIN_LABELS_PER_LANGUAGE": "12",
        "THRESHER_QUALITY_CLASSIFIER_FEATURES": "4096",
        "THRESHER_QUALITY_CLASSIFIER_MAX_ITER": "20",
    }
    return env, make_settings(home)
