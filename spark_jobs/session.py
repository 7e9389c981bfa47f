"""The one SparkSession factory: Delta extensions, ``local[*]`` by default, any master by config."""

from __future__ import annotations

import dataclasses
import os
import sys
from importlib import metadata
from pathlib import Path

from thresher import object_store
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


# hadoop-aws depends on the AWS SDK's 690 MB "bundle"; S3A needs only its S3 client and transfer
# manager, of the version hadoop-aws was built with (hadoop-project's aws-java-sdk-v2.version).
AWS_SDK_FOR_HADOOP = {"3.5.0": "2.35.4"}
AWS_SDK_MODULES = ("s3", "s3-transfer-manager")
# Left out of the resolution: the bundle, and the Netty the SDK's async client would bring
# beside the netty-all that Spark ships.
S3A_EXCLUDES = ("software.amazon.awssdk:bundle",) + tuple(
    f"io.netty:netty-{name}"
    for name in (
        "buffer",
        "codec",
        "codec-http",
        "codec-http2",
        "common",
        "handler",
        "resolver",
        "transport",
        "transport-classes-epoll",
        "transport-native-unix-common",
    )
)


def hadoop_version() -> str:
    """The Hadoop version pyspark ships (its hadoop-client-api jar)."""
    import pyspark

    jars = Path(pyspark.__file__).parent / "jars"
    for jar in jars.glob("hadoop-client-api-*.jar"):
        return jar.stem.removeprefix("hadoop-client-api-")
    raise RuntimeError(f"no hadoop-client-api jar in {jars}")


def s3a_packages() -> list[str]:
    """Maven coordinates of the S3A connector for pyspark's Hadoop, with a slim AWS SDK."""
    hadoop = hadoop_version()
    sdk = AWS_SDK_FOR_HADOOP.get(hadoop)
    if sdk is None:
        raise RuntimeError(
            f"no AWS SDK version known for Hadoop {hadoop}: add it to AWS_SDK_FOR_HADOOP "
            "(hadoop-project's aws-java-sdk-v2.version)"
        )
    modules = [f"software.amazon.awssdk:{name}:{sdk}" for name in AWS_SDK_MODULES]
    return [f"org.apache.hadoop:hadoop-aws:{hadoop}", *modules]


def object_store_conf(settings: Settings) -> dict[str, str]:
    """S3A and Delta's S3 log store when the lake is an ``s3a://`` URI; empty otherwise.

    Delta's single-cluster mode (its docs, "Storage configuration"): S3 has no put-if-absent,
    so commits to one table must come from one Spark driver at a time, which
    ``S3SingleDriverLogStore`` then serialises. Several writers at once need
    ``io.delta.storage.S3DynamoDBLogStore`` (``THRESHER_SPARK_CONF`` overrides this).
    """
    if not object_store.is_object_store(settings.storage_root):
        return {}
    return {
        "spark.jars.packages": ",".join(s3a_packages()),
        "spark.jars.excludes": ",".join(S3A_EXCLUDES),
        "spark.delta.logStore.s3a.impl": "io.delta.storage.S3SingleDriverLogStore",
        **object_store.hadoop_properties(),
    }


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
        # The console progress bar goes to stderr, which Airflow's task log shows as ERROR lines.
        "spark.ui.showConsoleProgress": "false",
    }
    store = object_store_conf(settings)
    conf.update({k: v for k, v in store.items() if k != "spark.jars.packages"})
    conf.update(settings.spark.conf)
    extra = (store.get("spark.jars.packages", ""), conf.get("spark.jars.packages", ""))
    conf["spark.jars.packages"] = ",".join(p for p in (delta_package(), *extra) if p)
    return conf


def get_spark(settings: Settings, app_name: str = "thresher", own_driver: bool = False):
    """Return the active session, a Spark Connect session, or a new session from ``settings``.

    With ``spark.remote`` set, a job is a client of that Spark Connect server (one warm driver
    for every task of a DAG run) unless it needs ``own_driver``: fitting and saving Spark ML
    pipelines, RDDs and Hadoop file-system calls need a driver in this process.
    An existing session (spark-submit's, or a test's) is reused as is: its master and
    packages were fixed when its JVM started. Before a new one starts, a missing or too old
    Java raises ``thresher.config.ConfigError`` (one line naming the package to install).
    """
    from pyspark.sql import SparkSession

    if settings.spark.remote and not own_driver:
        from spark_jobs.progress import follow_remote

        spark = SparkSession.builder.remote(settings.spark.remote).getOrCreate()
        follow_remote(spark)
        return spark
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    if object_store.is_object_store(settings.storage_root):
        object_store.check_bucket(settings.storage_root)  # one clear line, before a JVM starts

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


def task_slots(spark) -> int:
    """The session's default parallelism (its cluster's task slots), asked with a query so a
    Spark Connect client learns the server's: ``range`` spreads over that many partitions."""
    from pyspark.sql import functions as F

    ids = spark.range(0, 1 << 16).select(F.spark_partition_id().alias("id")).distinct()
    return ids.count()


CONNECT_PLUGIN = "org.apache.spark.sql.connect.SparkConnectPlugin"


def serve_connect(settings: Settings):
    """Start this lake's Spark session with the Spark Connect plugin listening on
    ``spark.remote``'s address (Spark's own server, as ``start-connect-server.sh`` runs it)."""
    host, port = settings.spark.connect_address
    conf = {
        **settings.spark.conf,
        "spark.plugins": ",".join(
            p for p in (settings.spark.conf.get("spark.plugins"), CONNECT_PLUGIN) if p
        ),
        "spark.connect.grpc.binding.address": host,
        "spark.connect.grpc.binding.port": str(port),
    }
    spark = dataclasses.replace(settings.spark, remote="", conf=conf)
    return get_spark(dataclasses.replace(settings, spark=spark), "thresher-connect")


def run_as_script(job) -> None:
    """``python -m spark_jobs.<module>``: ``job(spark, settings)`` on the settings of the
    environment, its result printed as JSON."""
    import json
    import logging

    logging.basicConfig(level=logging.INFO)
    settings = Settings.from_env()
    print(json.dumps(job(get_spark(settings), settings), indent=2, default=str))
