"""The Java check every Spark session and ``make env`` run, on PATHs with and without java."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from thresher.config import ConfigError
from thresher.prerequisites import JAVA_PACKAGE, MissingPrerequisite, check_java

REPO = Path(__file__).resolve().parents[2]

NO_JAVA = (
    "Spark needs Java 17+ but there is no java on PATH and JAVA_HOME is unset: "
    "install openjdk-17-jre-headless (make env does on Debian/Ubuntu) or set JAVA_HOME"
)


def fake_java(folder: Path, version_line: str) -> Path:
    """An executable ``folder/java`` whose ``-version`` prints ``version_line`` as java does."""
    folder.mkdir(parents=True, exist_ok=True)
    java = folder / "java"
    java.write_text(f"#!/bin/sh\necho '{version_line}' >&2\n")
    java.chmod(0o755)
    return java


def test_module_without_java_on_path_prints_one_line_and_the_package(tmp_path):
    # The PATH holds only an empty folder: no java, as on a fresh Debian machine.
    done = subprocess.run(
        [sys.executable, "-m", "thresher.prerequisites"],
        env={"PATH": str(tmp_path), "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert done.stderr == NO_JAVA + "\n"
    assert done.stdout == JAVA_PACKAGE + "\n"


def test_make_env_step_stops_with_the_one_line_where_it_cannot_install(tmp_path):
    # No apt-get and no java on PATH: install_prerequisites.sh can only name the package.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3.11").symlink_to(sys.executable)
    done = subprocess.run(
        ["/bin/bash", str(REPO / "scripts" / "install_prerequisites.sh")],
        env={"PATH": str(bin_dir)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert done.stderr == NO_JAVA + "\n"
    assert done.stdout == ""


def test_make_env_step_names_the_python_package_when_python_is_missing(tmp_path):
    missing = tmp_path / "python3.11"
    done = subprocess.run(
        ["/bin/bash", str(REPO / "scripts" / "install_prerequisites.sh"), str(missing)],
        env={"PATH": str(tmp_path)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert done.stderr == (
        f"make env: {missing} is not Python 3.11 with its venv module: install python3.11-venv "
        "(Debian/Ubuntu) or run make env PYTHON=/path/to/python3.11\n"
    )


@pytest.mark.parametrize(
    ("version_line", "major"),
    [('openjdk version "17.0.15" 2025-04-15', 17), ('openjdk version "21" 2023-09-19', 21)],
)
def test_java_17_or_later_on_path_passes(tmp_path, version_line, major):
    java = fake_java(tmp_path / "bin", version_line)
    assert check_java({"PATH": str(java.parent)}) == f"Java {major} at {java}"


def test_java_home_wins_over_path_as_in_spark_class(tmp_path):
    on_path = fake_java(tmp_path / "path", 'openjdk version "11.0.2" 2019-01-15')
    java_home = tmp_path / "jdk17"
    home_java = fake_java(java_home / "bin", 'openjdk version "17.0.15" 2025-04-15')
    environ = {"PATH": str(on_path.parent), "JAVA_HOME": str(java_home)}
    assert check_java(environ) == f"Java 17 at {home_java}"


def test_old_java_on_path_is_refused_with_the_package(tmp_path):
    java = fake_java(tmp_path / "bin", 'java version "1.8.0_402"')
    with pytest.raises(MissingPrerequisite) as refused:
        check_java({"PATH": str(java.parent)})
    assert str(refused.value) == (
        f"Spark needs Java 17+ but the java on PATH ({java}) is Java 8: install "
        "openjdk-17-jre-headless and point JAVA_HOME or PATH at it"
    )
    assert refused.value.package == JAVA_PACKAGE


def test_java_home_without_java_is_refused_without_a_package(tmp_path):
    # Installing Java would not help: Spark's launcher runs $JAVA_HOME/bin/java regardless.
    fake_java(tmp_path / "bin", 'openjdk version "17.0.15" 2025-04-15')
    environ = {"PATH": str(tmp_path / "bin"), "JAVA_HOME": str(tmp_path / "nojdk")}
    with pytest.raises(ConfigError, match=r"^JAVA_HOME=.*/nojdk has no bin/java") as refused:
        check_java(environ)
    assert refused.value.package is None


def test_java_that_cannot_report_its_version_is_refused(tmp_path):
    java = tmp_path / "bin" / "java"
    java.parent.mkdir()
    java.write_text(
        "#!/bin/sh\necho 'Error: could not create the Java Virtual Machine' >&2\nexit 1\n"
    )
    java.chmod(0o755)
    with pytest.raises(MissingPrerequisite, match="Error: could not create the Java Virtual"):
        check_java({"PATH": str(java.parent)})


def test_this_machines_java_passes():
    # The real `java -version` output parses; every Spark test needs this machine's Java.
    assert check_java().startswith("Java ")
