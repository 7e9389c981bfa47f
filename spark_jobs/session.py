"""The one SparkSession factory: Delta extensions, ``local[*]`` by default, any master by config."""

from __future__ import annotations

import os
import sys
from importlib import metadata

from thresher.config import Settings
from thresher.prerequisites import check_java

DELTA_EXTENSIONS = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
}


def delta_package() -> str:
    """Maven coordinates of the Delta jar for the installed delta-spark and pyspark.

    The artifact ``configure_spark_with_delta_pip`` asks for, named here so that
    spark-submit (``--packages``) and this module's sessions load the same jar.
    """
    spark_minor = ".".join(metadata.version("pyspark").split(".")[:2])
    return f"io.delta:delta-spark_{spark_minor}_2.13:{metadata.version('delta-spark')}"


def session_conf(settings: Settings) -> dict[str, str]:
    """Every Spark property of a Thresher session except its master.

    ``settings.spark.conf`` overrides the defaults, except that packages it names are
    added to Delta's rather than replacing it.
    """
    conf = {
        **DELTA_EXTENSIONS,
        "spark.sql.shuffle.partitions": str(settings.spark.shuffle_partitions),
        "spark.driver.memory": settings.spark.driver_memory,
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.warehouse.dir": str(settings.home / "spark-warehouse"),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={settings.home}",
        # Delta's log replay is tiny here; the default 50 partitions only add task overhead.
        "spark.databricks.delta.snapshotPartitions": "2",
    }
    conf.update(settings.spark.conf)
    extra = conf.get("spark.jars.packages", "")
    conf["spark.jars.packages"] = ",".join(p for p in (delta_package(), extra) if p)
    return conf


def get_spark(settings: Settings, app_name: str = "thresher"):
    """Return the active session, or build one from ``settings``.

    An existing session (spark-submit's, or a test's) is reused as is: its master and
    packages were fixed when its JVM started. Before a new one starts, a missing or too old
    Java raises ``thresher.config.ConfigError`` (one line naming the package to install).
    """
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active

    # Without a usable Java, PySpark fails later with a JVM launch trace; say what to install.
    check_java()
    if settings.spark.master.startswith("local"):
        # Bind to loopback and run Python workers on this interpreter (the venv's).
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

    builder = SparkSession.builder.appName(app_name).master(settings.spark.master)
    for key, value in session_conf(settings).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark
