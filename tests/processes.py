"""A server a test starts on loopback: run it, wait until it answers, stop it at the end."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> Callable[[], bool]:
    def ready() -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return True
        return False

    return ready


def url_answers(url: str) -> Callable[[], bool]:
    def ready() -> bool:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(url, timeout=5)
            return True
        return False

    return ready


@contextlib.contextmanager
def running(
    argv: list[str],
    *,
    log: Path,
    ready: Callable[[], bool],
    env: Mapping[str, str],
    timeout: float,
    cwd: Path | None = None,
) -> Iterator[subprocess.Popen]:
    """``argv`` running with its output in ``log``, once ``ready()``; ended when the block ends
    (terminated, then killed after 30 s). Exits early or never ready: RuntimeError with the log."""
    with log.open("w") as out:
        process = subprocess.Popen(
            argv, env=dict(env), cwd=cwd, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + timeout
            while not ready():
                if process.poll() is not None:
                    tail = log.read_text()[-2000:]
                    raise RuntimeError(f"{argv[0]} exited with {process.returncode}: {tail}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{argv[0]} not ready within {timeout:.0f} s; log: {log}")
                time.sleep(0.2)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
