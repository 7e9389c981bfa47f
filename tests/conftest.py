"""Shared fixtures: one SparkSession for the whole run, and settings rooted in a temp dir."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# The real corpora live beside the checkout; THRESHER_SHARED_DATA points elsewhere.
SHARED_DATA = Path(os.environ.get("THRESHER_SHARED_DATA", REPO.parent / "shared" / "data"))

# Everything a test starts (Spark workers, Airflow, MLflow) stays on loopback and this venv.
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

from thresher.config import Settings, SparkSettings  # noqa: E402

TEST_SPARK = SparkSettings(
    master="local[2]",
    shuffle_partitions=2,
    driver_memory="2g",
    conf={
        "spark.ui.enabled": "false",
        "spark.sql.sources.parallelPartitionDiscovery.parallelism": "2",
    },
)


# For JVMs that live a minute or two (a DAG run's Spark, a standalone cluster's daemons): C1
# alone halves the CPU their start-up JIT takes on 2 cores. Not for this session's JVM, which
# runs Spark for the whole test run: there C2's faster code pays for itself.
SHORT_LIVED_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


def make_settings(home: Path, **overrides) -> Settings:
    return Settings(home=home, spark=TEST_SPARK, **overrides)


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    from spark_jobs.session import get_spark

    session = get_spark(make_settings(tmp_path_factory.mktemp("spark")), "thresher-tests")
    yield session
    session.stop()


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path / "home")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real multilingual data not found at {SHARED_DATA} (../shared/data)")
    return SHARED_DATA
