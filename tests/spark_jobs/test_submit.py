"""spark-submit arguments for a stage: the same Delta jar and properties as a local session."""

from __future__ import annotations

from pyspark.sql import SparkSession

from spark_jobs import submit
from spark_jobs.session import delta_package, session_conf
from thresher.config import Settings


def test_delta_package_is_the_one_delta_pip_configures():
    from delta import configure_spark_with_delta_pip

    builder = configure_spark_with_delta_pip(SparkSession.Builder())
    assert builder._options["spark.jars.packages"] == delta_package()


def test_configured_packages_are_added_to_deltas(tmp_path):
    settings = Settings.from_env(
        {
            "THRESHER_HOME": str(tmp_path),
            "THRESHER_SPARK_CONF": "spark.jars.packages=org.apache.hadoop:hadoop-aws:3.4.2",
        }
    )
    packages = session_conf(settings)["spark.jars.packages"].split(",")
    assert packages == [delta_package(), "org.apache.hadoop:hadoop-aws:3.4.2"]


def test_spark_submit_arguments_run_the_cli_stage_on_the_configured_master(tmp_path):
    settings = Settings.from_env(
        {
            "THRESHER_HOME": str(tmp_path),
            "THRESHER_SPARK_MASTER": "spark://10.0.0.1:7077",
            "THRESHER_SPARK_CONF": "spark.executor.memory=8g",
        }
    )
    stage = ["dedup", "--date", "2026-11-20"]

    args = submit.spark_submit_arguments(settings, stage)

    assert args[:4] == ["--master", "spark://10.0.0.1:7077", "--name", "thresher-dedup"]
    assert args[args.index("--packages") + 1] == delta_package()
    confs = dict(args[i + 1].split("=", 1) for i, a in enumerate(args) if a == "--conf")
    assert confs == {k: v for k, v in session_conf(settings).items() if k != "spark.jars.packages"}
    assert confs["spark.executor.memory"] == "8g"
    assert confs["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    assert args[-4:] == [submit.APPLICATION, *stage]
    assert submit.spark_submit_arguments(settings, stage, master="local[2]")[1] == "local[2]"


def test_operator_arguments_leave_the_master_to_the_connection(tmp_path):
    settings = Settings.from_env({"THRESHER_HOME": str(tmp_path)})

    kwargs = submit.spark_submit_operator_arguments(settings, ["mixture", "--date", "2026-11-20"])

    assert set(kwargs) == {"application", "application_args", "name", "packages", "conf"}
    assert kwargs["application"].endswith("spark_jobs/submit.py")
    assert kwargs["application_args"] == ["mixture", "--date", "2026-11-20"]
    assert kwargs["name"] == "thresher-mixture"
    assert "spark.master" not in kwargs["conf"]


def test_an_s3a_lake_adds_the_connector_and_the_log_store_but_no_credential(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "key-id-never-in-conf")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-never-in-conf")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    settings = Settings(home=tmp_path, storage_root="s3a://lake/thresher")

    conf = session_conf(settings)

    packages = conf["spark.jars.packages"].split(",")
    assert packages == [
        delta_package(),
        "org.apache.hadoop:hadoop-aws:3.5.0",
        "software.amazon.awssdk:s3:2.35.4",
        "software.amazon.awssdk:s3-transfer-manager:2.35.4",
    ]
    assert "software.amazon.awssdk:bundle" in conf["spark.jars.excludes"].split(",")
    assert conf["spark.delta.logStore.s3a.impl"] == "io.delta.storage.S3SingleDriverLogStore"
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:9000"
    assert conf["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "false"
    assert conf["spark.hadoop.fs.s3a.endpoint.region"] == "us-east-1"
    flat = " ".join(f"{k}={v}" for k, v in conf.items())
    assert "never-in-conf" not in flat
    assert "s3a" not in " ".join(session_conf(Settings(home=tmp_path)))  # a local lake: none


def test_a_multi_cluster_log_store_from_the_settings_wins(tmp_path):
    store = "io.delta.storage.S3DynamoDBLogStore"
    env = {
        "THRESHER_HOME": str(tmp_path),
        "THRESHER_STORAGE_ROOT": "s3a://lake/thresher",
        "THRESHER_SPARK_CONF": f"spark.delta.logStore.s3a.impl={store}",
    }
    settings = Settings.from_env(env)
    assert session_conf(settings)["spark.delta.logStore.s3a.impl"] == store
