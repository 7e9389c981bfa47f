"""The Airflow API server and the MLflow server on loopback over a Thresher home, for a browser."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import REPO
from tests.processes import free_port, running, url_answers

BIN = Path(sys.executable).parent


@contextlib.contextmanager
def airflow_api_server(home: Path) -> Iterator[str]:
    """Airflow's UI and API over ``home``'s metadata database; every visitor is an admin."""
    port = free_port()
    airflow_home = home / "airflow"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # The simple auth manager's no-login mode: this server listens on loopback only.
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
    }
    base = f"http://127.0.0.1:{port}"
    argv = [str(BIN / "airflow"), "api-server", "--host", "127.0.0.1", "--port", str(port)]
    health = url_answers(f"{base}/api/v2/monitor/health")
    with running(
        argv, log=home / "ui-check" / "airflow.log", ready=health, env=env, timeout=180, cwd=REPO
    ):
        yield base


@contextlib.contextmanager
def mlflow_server(home: Path) -> Iterator[str]:
    """``make mlflow-ui``'s server over ``home``'s tracking store, on a free port."""
    port = free_port()
    argv = [
        str(BIN / "mlflow"),
        "server",
        "--backend-store-uri",
        f"sqlite:///{home / 'mlflow.db'}",
        "--default-artifact-root",
        str(home / "mlartifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    base = f"http://127.0.0.1:{port}"
    with running(
        argv,
        log=home / "ui-check" / "mlflow.log",
        ready=url_answers(f"{base}/health"),
        env=os.environ,
        timeout=180,
        cwd=REPO,
    ):
        yield base
