"""The dedup stage on a Spark standalone cluster (a master, two workers, all on loopback),
submitted by spark-submit and by Airflow's SparkSubmitOperator, gives the local run's tables."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pyspark
import pytest
from pyspark.testing import assertDataFrameEqual

from spark_jobs import stages
from spark_jobs.delta_io import read_table
from spark_jobs.submit import spark_submit_operator_arguments
from tests.conftest import SHORT_LIVED_JVM, make_settings
from tests.corpus import ntrex_documents
from tests.spark_jobs.test_dedup import bronze_row, write_day
from thresher import tracking
from thresher.config import Settings, TrackingSettings
from thresher.jobs import JobContext
from thresher.tables import SILVER_DEDUP, STAGE_COUNTS

# Airflow reads its home when first imported: never the user's ~/airflow.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="thresher-airflow-"))

SPARK_CLASS = Path(pyspark.__file__).parent / "bin" / "spark-class"
VENV_BIN = Path(sys.executable).parent
DAY = dt.date(2026, 11, 1)
WORKERS = 2
CONN_ID = "spark_cluster"
# Every JVM here lives a minute: with SHORT_LIVED_JVM a submitted stage's driver and executors
# went from ~130 s to ~60 s of CPU on 2 cores.

pytestmark = [pytest.mark.spark_cluster, pytest.mark.timeout(600)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


@dataclass(frozen=True)
class StandaloneCluster:
    master_url: str  # spark://127.0.0.1:<port>
    webui_url: str

    def state(self) -> dict:
        return get_json(f"{self.webui_url}/json/")

    def finished_app(self, name: str) -> dict:
        apps = [app for app in self.state()["completedapps"] if app["name"] == name]
        assert len(apps) == 1, f"{name} not among completed apps: {self.state()['completedapps']}"
        return apps[0]

    def executors_by_worker(self, app_id: str) -> dict[str, int]:
        """How many executors of ``app_id`` each worker ran."""
        counts = {}
        for worker in self.state()["workers"]:
            finished = get_json(f"{worker['webuiaddress']}/json/")["finishedexecutors"]
            counts[worker["id"]] = sum(e["appid"] == app_id for e in finished)
        return counts


def _log_tails(logs: list[Path]) -> str:
    return "\n".join(f"--- {log}\n{log.read_text(errors='replace')[-2000:]}" for log in logs)


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def _stop(processes: list[subprocess.Popen]) -> None:
    """SIGTERM each daemon's process group (the JVM, its executors and their Python
    workers), then SIGKILL whatever outlives a grace period."""
    for process in reversed(processes):
        _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + 20
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        # the group outlives its leader while an executor is still shutting down
        _signal_group(process, signal.SIGKILL)
        process.wait()


@pytest.fixture(scope="module")
def standalone_cluster(tmp_path_factory):
    """A master and two one-core workers from this venv's pyspark, stopped at teardown."""
    root = tmp_path_factory.mktemp("standalone")
    master_port, webui_port = free_port(), free_port()
    base = {
        **os.environ,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_MASTER_HOST": "127.0.0.1",
        "SPARK_MASTER_PORT": str(master_port),
        "SPARK_MASTER_WEBUI_PORT": str(webui_port),
        "SPARK_LOG_DIR": str(root / "logs"),
        "SPARK_PID_DIR": str(root / "pids"),
        "SPARK_DAEMON_MEMORY": "256m",
        # The REST submission server would take the fixed port 6066.
        "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false",
        # read by every java launched here: master, workers and the executors they fork
        "JDK_JAVA_OPTIONS": SHORT_LIVED_JVM,
        "PYSPARK_PYTHON": sys.executable,
    }
    cluster = StandaloneCluster(
        f"spark://127.0.0.1:{master_port}", f"http://127.0.0.1:{webui_port}"
    )
    (root / "logs").mkdir()
    processes: list[subprocess.Popen] = []
    logs: list[Path] = []

    def start(name: str, main_class: str, *args: str, **env: str) -> None:
        log = root / "logs" / f"{name}.log"
        logs.append(log)
        with log.open("w") as out:
            # spark-class execs the JVM: the pid is the daemon's, and leads a new group
            # that its executors join.
            processes.append(
                subprocess.Popen(
                    [str(SPARK_CLASS), main_class, *args],
                    env={**base, **env},
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )

    try:
        start("master", "org.apache.spark.deploy.master.Master")
        for i in range(WORKERS):
            start(
                f"worker-{i}",
                "org.apache.spark.deploy.worker.Worker",
                cluster.master_url,
                SPARK_WORKER_CORES="1",
                SPARK_WORKER_MEMORY="1g",
                SPARK_WORKER_PORT="0",
                SPARK_WORKER_WEBUI_PORT="0",
                SPARK_WORKER_DIR=str(root / f"work-{i}"),
            )
        deadline = time.monotonic() + 120
        while True:
            if any(p.poll() is not None for p in processes):
                pytest.fail(f"a Spark daemon exited\n{_log_tails(logs)}")
            try:
                if cluster.state()["aliveworkers"] == WORKERS:
                    break
            except OSError:
                pass  # the master's UI is not up yet
            if time.monotonic() > deadline:
                pytest.fail(f"{WORKERS} workers not alive after 120 s\n{_log_tails(logs)}")
            time.sleep(0.5)
        yield cluster
    finally:
        _stop(processes)
    assert all(p.returncode is not None for p in processes)


@pytest.fixture(scope="module")
def bronze_rows(shared_data) -> list[tuple]:
    """German and Chinese news with exact copies and trimmed near-copies."""
    german = ntrex_documents(shared_data, "deu", 6)
    chinese = ntrex_documents(shared_data, "zho-CN", 2)
    rows = []
    for i, (text, language) in enumerate(
        [(t, "de") for t in german] + [(t, "zh") for t in chinese]
    ):
        rows.append(bronze_row(DAY, f"page-{i}", text, language))
        if i % 2 == 0:
            rows.append(bronze_row(DAY, f"page-{i}-copy", text, language))
        if i % 3 == 0:
            trimmed = "\n".join(text.split("\n")[:-1])
            rows.append(bronze_row(DAY, f"page-{i}-trimmed", trimmed, language))
    return rows


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory) -> str:
    """One MLflow store for every run of this module (migrated once)."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture(scope="module")
def local_run(spark, bronze_rows, tracking_uri, tmp_path_factory) -> Settings:
    """The dedup stage in this process's local session: the reference tables."""
    settings = make_settings(
        tmp_path_factory.mktemp("local") / "home",
        tracking=TrackingSettings(tracking_uri=tracking_uri),
    )
    write_day(spark, settings, DAY, bronze_rows)
    run_id = tracking.open_run(settings, "standalone-cluster/local")
    stages.dedup(JobContext(settings, DAY, run_id))
    return settings


def cluster_environment(home: Path, master: str, tracking_uri: str) -> dict[str, str]:
    """What a stage submitted to the cluster runs with: its settings and this venv."""
    return {
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": sys.executable,
        "GX_ANALYTICS_ENABLED": "False",
        "JDK_JAVA_OPTIONS": SHORT_LIVED_JVM,
        "THRESHER_HOME": str(home),
        "THRESHER_SPARK_MASTER": master,
        "THRESHER_SPARK_SHUFFLE_PARTITIONS": "2",
        "THRESHER_SPARK_DRIVER_MEMORY": "1g",
        "THRESHER_SPARK_CONF": "spark.ui.enabled=false;spark.executor.memory=512m",
        "THRESHER_TRACKING_TRACKING_URI": tracking_uri,
    }


def _without_thresher(environ) -> dict[str, str]:
    return {k: v for k, v in environ.items() if not k.startswith("THRESHER_")}


def assert_same_tables(spark, cluster: Settings, local: Settings) -> None:
    for table in (SILVER_DEDUP, STAGE_COUNTS):
        assertDataFrameEqual(read_table(spark, table, cluster), read_table(spark, table, local))
    methods = {r["method"] for r in read_table(spark, SILVER_DEDUP, local).collect()}
    assert methods == {None, "exact", "near"}


def assert_ran_on_both_workers(cluster: StandaloneCluster, app_name: str) -> None:
    app = cluster.finished_app(app_name)
    assert app["state"] == "FINISHED"
    executors = cluster.executors_by_worker(app["id"])
    assert len(executors) == WORKERS
    assert all(n >= 1 for n in executors.values()), executors


def stage_args(name: str) -> list[str]:
    return ["dedup", "--date", DAY.isoformat(), "--run-key", f"standalone-cluster/{name}"]


# One submission, through the operator: it runs the venv's spark-submit with the arguments
# spark_jobs.submit builds (the bare-CLI argv is checked in test_submit.py). A second
# submission through the CLI cost a minute of the test run and covered the same path.
def test_spark_submit_operator_runs_a_stage_on_the_cluster(
    spark, standalone_cluster, bronze_rows, local_run, tracking_uri, tmp_path, monkeypatch
):
    from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

    # The master comes from the Airflow connection, as in a deployment.
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", standalone_cluster.master_url)
    for key in [k for k in os.environ if k.startswith("THRESHER_")]:
        monkeypatch.delenv(key)
    # local[*] in the driver's settings: the session spark-submit configured must win over it.
    env = cluster_environment(tmp_path / "home", "local[*]", tracking_uri)
    settings = Settings.from_env(env)
    write_day(spark, settings, DAY, bronze_rows)
    name = "thresher-dedup-operator"

    operator = SparkSubmitOperator(
        task_id="dedup",
        conn_id=CONN_ID,
        env_vars=env,
        **spark_submit_operator_arguments(settings, stage_args(name), name=name),
    )
    operator.execute(context={})

    assert_ran_on_both_workers(standalone_cluster, name)
    assert_same_tables(spark, settings, local_run)
