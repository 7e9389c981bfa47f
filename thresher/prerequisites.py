"""What a machine needs outside the venv: a Java 17+ runtime for every Spark driver.

``spark_jobs.session.get_spark`` calls :func:`check_java` before it starts a JVM, so a machine
without Java gets one line naming the package to install instead of PySpark's
``JAVA_GATEWAY_EXITED`` trace. ``make env`` runs this module with the system Python before
``.venv`` exists (``python3.11 -m thresher.prerequisites``), which is why it imports only the
standard library and ``thresher.config``.

Java is looked up the way Spark's launcher (``bin/spark-class``) does: ``$JAVA_HOME/bin/java``
when ``JAVA_HOME`` is set, otherwise ``java`` on ``PATH``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from thresher.config import ConfigError

# Spark 4 runs on Java 17 and 21; older JVMs fail at launch with a class-version error.
MIN_JAVA_MAJOR = 17
# The Debian/Ubuntu package that provides it (bookworm, jammy, noble); make env installs it.
JAVA_PACKAGE = "openjdk-17-jre-headless"

# `java -version` prints e.g. `openjdk version "17.0.15" 2025-04-15` or `java version "1.8.0_402"`.
_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?')


class MissingPrerequisite(ConfigError):
    """A program Thresher needs is absent or too old; ``package`` installs it, if one does."""

    def __init__(self, message: str, package: str | None) -> None:
        super().__init__(message)
        self.package = package


def find_java(environ: Mapping[str, str]) -> Path | None:
    """The java Spark's launcher would run under ``environ``, or None when there is none."""
    java_home = environ.get("JAVA_HOME", "")
    if java_home:
        return Path(java_home) / "bin" / "java"
    found = shutil.which("java", path=environ.get("PATH", os.defpath))
    return Path(found) if found else None


def java_major_version(java: Path, environ: Mapping[str, str]) -> int:
    """The feature release of ``java`` (8 for ``1.8.0_x``, 17 for ``17.0.x``)."""
    try:
        # JAVA_TOOL_OPTIONS and friends print a "Picked up ..." line first; the search skips it.
        done = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, timeout=60, env=dict(environ)
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MissingPrerequisite(f"could not run {java} -version: {exc}", JAVA_PACKAGE) from None
    match = _VERSION.search(done.stderr + done.stdout)
    if done.returncode != 0 or match is None:
        first_line = (done.stderr or done.stdout).strip().splitlines()[:1]
        raise MissingPrerequisite(
            f"{java} -version failed ({'; '.join(first_line) or f'exit {done.returncode}'})",
            JAVA_PACKAGE,
        )
    major, minor = int(match.group(1)), int(match.group(2) or 0)
    return minor if major == 1 else major


def check_java(environ: Mapping[str, str] | None = None) -> str:
    """Return ``"Java <n> at <path>"`` for the java Spark will run, or raise MissingPrerequisite.

    The message is one line that names the package to install (or the ``JAVA_HOME`` to fix).
    """
    environ = os.environ if environ is None else environ
    java = find_java(environ)
    if java is None:
        raise MissingPrerequisite(
            f"Spark needs Java {MIN_JAVA_MAJOR}+ but there is no java on PATH and JAVA_HOME is "
            f"unset: install {JAVA_PACKAGE} (make env does on Debian/Ubuntu) or set JAVA_HOME",
            JAVA_PACKAGE,
        )
    if not os.access(java, os.X_OK):
        # Installing a package would not help: Spark would still run $JAVA_HOME/bin/java.
        raise MissingPrerequisite(
            f"JAVA_HOME={environ['JAVA_HOME']} has no bin/java: point it at a Java "
            f"{MIN_JAVA_MAJOR}+ runtime ({JAVA_PACKAGE}) or unset it",
            None,
        )
    major = java_major_version(java, environ)
    if major < MIN_JAVA_MAJOR:
        where = "JAVA_HOME's" if environ.get("JAVA_HOME") else "the java on PATH"
        raise MissingPrerequisite(
            f"Spark needs Java {MIN_JAVA_MAJOR}+ but {where} ({java}) is Java {major}: install "
            f"{JAVA_PACKAGE} and point JAVA_HOME or PATH at it",
            None if environ.get("JAVA_HOME") else JAVA_PACKAGE,
        )
    return f"Java {major} at {java}"


def main() -> int:
    """``python -m thresher.prerequisites``: exit 0 with Java found, else the one-line reason.

    On failure the reason goes to stderr and the package that fixes it, if any, to stdout
    (``scripts/install_prerequisites.sh`` installs it), exit status 1.
    """
    try:
        check_java()
    except MissingPrerequisite as missing:
        print(missing, file=sys.stderr)
        if missing.package:
            print(missing.package)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
