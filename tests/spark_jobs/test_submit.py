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
