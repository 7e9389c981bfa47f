"""The model entry points' contract: outputs stay under the checkpoint root, and a task
process dies with the worker that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from thresher.config import Settings
from thresher.entrypoint import PARENT_PID_ENV, BadInput, task_output


def test_outputs_resolve_inside_the_checkpoint_root(tmp_path):
    settings = Settings(home=tmp_path)
    root = tmp_path / "checkpoints"
    assert task_output("pretrain/run-1", settings) == root / "pretrain" / "run-1"
    assert task_output(str(root / "a" / "b"), settings) == root / "a" / "b"
    for escape in ("../elsewhere", "a/../../elsewhere", "/etc/cron.d", str(tmp_path / "x")):
        with pytest.raises(BadInput, match="outside the checkpoint root"):
            task_output(escape, settings)


PARENT = f"""
import os, subprocess, sys, time
child = subprocess.Popen(
    [sys.executable, "-c",
     "from thresher.entrypoint import die_with_parent; die_with_parent(); "
     "import time; time.sleep(120)"],
    env={{**os.environ, "{PARENT_PID_ENV}": str(os.getpid())}},
)
print(child.pid, flush=True)
time.sleep(120)
"""


def test_a_task_process_dies_with_its_worker():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    time.sleep(1.0)  # the child has asked for its parent-death signal
    os.kill(child, 0)  # alive
    parent.send_signal(signal.SIGKILL)  # the worker is killed, no cleanup runs
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(child, signal.SIGKILL)
    pytest.fail("the task process outlived its worker")
