"""A Spark job started from the CLI on a machine without Java stops before any JVM starts."""

from __future__ import annotations

import subprocess
import sys

from thresher.prerequisites import JAVA_PACKAGE


def test_cli_spark_job_without_java_raises_config_error_not_a_jvm_trace(tmp_path):
    # The venv's interpreter by absolute path, a PATH with no java and no JAVA_HOME.
    empty = tmp_path / "bin"
    empty.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "spark_jobs.cli", "tables"],
        env={"PATH": str(empty), "THRESHER_HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()  # one line, no traceback
    assert line.startswith("thresher: tables: Spark needs Java 17+")
    last_line = line
    assert f"install {JAVA_PACKAGE}" in last_line
    # get_spark stopped before PySpark tried to launch the gateway.
    assert "JAVA_GATEWAY_EXITED" not in done.stderr
    assert "JAVA_HOME is not set" not in done.stderr
    assert not (tmp_path / "home" / "lake").exists()
