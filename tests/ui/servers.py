"""The Airflow API server and the MLflow server on loopback over a Thresher home, for a browser."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import REPO

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _serve(argv: list[str], env: dict[str, str], url: str, log: Path) -> Iterator[None]:
    with log.open("w") as out:
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
        try:
            deadline = time.monotonic() + 180
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{argv[0]} exited: {log.read_text()[-2000:]}")
                with contextlib.suppress(OSError):
                    urllib.request.urlopen(url, timeout=5)
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} did not answer within 180 s; log: {log}")
                time.sleep(1)
            yield
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


@contextlib.contextmanager
def airflow_api_server(home: Path) -> Iterator[str]:
    """Airflow's UI and API over ``home``'s metadata database; every visitor is an admin."""
    port = _free_port()
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
    with _serve(argv, env, f"{base}/api/v2/monitor/health", home / "ui-check" / "airflow.log"):
        yield base


@contextlib.contextmanager
def mlflow_server(home: Path) -> Iterator[str]:
    """``make mlflow-ui``'s server over ``home``'s tracking store, on a free port."""
    port = _free_port()
    argv = [str(BIN / "mlflow"), "server", "--backend-store-uri", f"sqlite:///{home / 'mlflow.db'}",
            "--default-artifact-root", str(home / "mlartifacts"),
            "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    with _serve(argv, dict(os.environ), f"{base}/health", home / "ui-check" / "mlflow.log"):
        yield base
