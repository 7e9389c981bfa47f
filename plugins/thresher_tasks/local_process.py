"""Run a model entry point as a subprocess of the Airflow worker (the embedded default)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path

from airflow.exceptions import AirflowException
from airflow.sdk import BaseOperator

from thresher.entrypoint import PARENT_PID_ENV, RESULT_PATH_ENV

# An entry point writes its JSON result (paths and counts, never data) to $RESULT_PATH_ENV.
# In a pod that is KubernetesPodOperator's XCom file, so both modes return the same XCom.
POD_RESULT_PATH = "/airflow/xcom/return.json"

# What a model process inherits from the worker: what a Python process needs to run, and the
# credentials a pod receives from Secrets (MLFLOW_*, AWS_*, the tracking URI). Its settings
# arrive as one JSON document (THRESHER_SETTINGS), never piecemeal from the worker; and
# nothing else: a worker's environment holds Airflow's database URL and Fernet key.
INHERITED_ENV = re.compile(
    r"(PATH|HOME|USER|LOGNAME|SHELL|LANG|LANGUAGE|LC_[A-Z]+|TZ|TMPDIR|TERM|PYTHONPATH"
    r"|PYTHONHASHSEED|VIRTUAL_ENV|JAVA_HOME|SPARK_LOCAL_IP|PYSPARK_PYTHON|JDK_JAVA_OPTIONS"
    r"|OMP_NUM_THREADS|MKL_NUM_THREADS|CUDA_[A-Z_]+|NVIDIA_[A-Z_]+|HF_[A-Z_]+"
    r"|SSL_CERT_FILE|SSL_CERT_DIR|REQUESTS_CA_BUNDLE|GX_ANALYTICS_ENABLED"
    r"|THRESHER_TRACKING_TRACKING_URI|MLFLOW_[A-Z0-9_]+|AWS_[A-Z0-9_]+)"
)
# How long a stopped task's process group gets to exit before it is killed.
STOP_GRACE_SECONDS = 30


def inherited_environment(environ: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items() if INHERITED_ENV.fullmatch(k)}


class LocalProcessOperator(BaseOperator):
    """Runs ``cmds + arguments`` as a child process and streams its output into the task log.

    A custom operator rather than BashOperator because the command must be the pod's command,
    unchanged: the argv travels as a list (no shell, no quoting to get wrong), ``arguments``
    and ``env_vars`` are templated as KubernetesPodOperator templates them, the entry point's
    result file becomes the task's XCom as the pod's ``/airflow/xcom/return.json`` does, and
    ``on_kill`` ends the whole process group (a DataLoader's workers included).

    The process gets an allow-listed environment (``INHERITED_ENV``), is ended with its
    group when the task stops for any reason (``execution_timeout`` included), and dies with
    the worker (the entry point asks Linux for a parent-death signal, ``PARENT_PID_ENV``).
    """

    template_fields: Sequence[str] = ("arguments", "env_vars")
    ui_color = "#d9e7f5"

    def __init__(
        self,
        *,
        cmds: Sequence[str],
        arguments: Sequence[str] | None = None,
        env_vars: dict[str, str] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if not cmds:
            raise ValueError("cmds must name the program to run")
        self.cmds = list(cmds)
        self.arguments = list(arguments or [])
        self.env_vars = dict(env_vars or {})
        self._process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        # "python" is the image's interpreter in a pod; here it is the worker's own (its venv).
        program = sys.executable if self.cmds[0] == "python" else self.cmds[0]
        return [program, *self.cmds[1:], *(str(a) for a in self.arguments)]

    def execute(self, context):
        argv = self.command()
        with tempfile.TemporaryDirectory(prefix="thresher-task-") as scratch:
            result_path = Path(scratch) / "return.json"
            env = {
                **inherited_environment(dict(os.environ)),
                **self.env_vars,
                RESULT_PATH_ENV: str(result_path),
                PARENT_PID_ENV: str(os.getpid()),
            }
            self.log.info("Running %s", shlex.join(argv))
            tail: deque[str] = deque(maxlen=30)
            self._process = subprocess.Popen(
                argv,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                bufsize=1,
                start_new_session=True,
            )
            assert self._process.stdout is not None
            try:
                for line in self._process.stdout:
                    line = line.rstrip("\n")
                    tail.append(line)
                    self.log.info("%s", line)
                code = self._process.wait()
            finally:  # a timeout or a stop raised here: the process must not outlive the task
                self._stop()
            if code != 0:
                raise AirflowException(
                    f"{shlex.join(argv[:3])} exited with code {code}; its last output:\n"
                    + "\n".join(tail)
                )
            if result_path.exists():
                return json.loads(result_path.read_text())
            return None

    def on_kill(self) -> None:
        self._stop()

    def _stop(self) -> None:
        """SIGTERM to the task's process group; after the grace period, or as soon as the task's
        own process has gone, SIGKILL to what is left of the group (a child may outlive its
        parent's exit, or ignore SIGTERM)."""
        if self._process is None or self._process.poll() is not None:
            return
        group = self._process.pid
        _signal_group(group, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=STOP_GRACE_SECONDS)
        _signal_group(group, signal.SIGKILL)
        self._process.wait()
        deadline = time.monotonic() + 2  # SIGKILL is delivered asynchronously
        while time.monotonic() < deadline and _signal_group(group, 0):
            time.sleep(0.05)


def _signal_group(group: int, sig: int) -> bool:
    """Send ``sig`` to a process group; False once no process of it is left."""
    try:
        os.killpg(group, sig)
    except ProcessLookupError:
        return False
    return True
