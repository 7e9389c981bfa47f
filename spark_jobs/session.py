"""The one SparkSession factory: Delta extensions, ``local[*]`` by default, any master by config."""

from __future__ import annotations

import os
import sys

from thresher.config import Settings


def get_spark(settings: Settings, app_name: str = "thresher"):
    """Return the active session, or build one from ``settings``.

    An existing session (spark-submit's, or a test's) is reused as is: its master and
    packages were fixed when its JVM started.
    """
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active

    if settings.spark.master.startswith("local"):
        # Bind to loopback and run Python workers on this interpreter (the venv's).
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

    from delta import configure_spark_with_delta_pip

    builder = (
        SparkSession.builder.appName(app_name)
        .master(settings.spark.master)
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config(
            "spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog"
        )
        .config("spark.sql.shuffle.partitions", str(settings.spark.shuffle_partitions))
        .config("spark.driver.memory", settings.spark.driver_memory)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(settings.home / "spark-warehouse"))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={settings.home}")
        # Delta's log replay is tiny here; the default 50 partitions only add task overhead.
        .config("spark.databricks.delta.snapshotPartitions", "2")
    )
    for key, value in settings.spark.conf.items():
        builder = builder.config(key, value)
    spark = configure_spark_with_delta_pip(builder).getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark
