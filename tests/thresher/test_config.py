from pathlib import Path

import pytest

from thresher.config import DEFAULT_LANGUAGES, ConfigError, Settings


def test_defaults_live_under_home(tmp_path):
    settings = Settings.from_env({"THRESHER_HOME": str(tmp_path)})
    assert settings.home == tmp_path.resolve()
    assert settings.storage_root == str(tmp_path.resolve() / "lake")
    assert settings.input_path == str(tmp_path.resolve() / "input")
    assert settings.tracking.tracking_uri == f"sqlite:///{tmp_path.resolve() / 'mlflow.db'}"
    assert settings.spark.master == "local[*]"
    assert settings.executor == "local"
    assert settings.languages == DEFAULT_LANGUAGES
    assert len(DEFAULT_LANGUAGES) == 18


def test_environment_overrides_every_section(tmp_path):
    settings = Settings.from_env(
        {
            "THRESHER_HOME": str(tmp_path),
            "THRESHER_STORAGE_ROOT": "s3a://bucket/lake",
            "THRESHER_SPARK_MASTER": "spark://10.0.0.1:7077",
            "THRESHER_SPARK_SHUFFLE_PARTITIONS": "64",
            "THRESHER_SPARK_CONF": "spark.executor.memory=8g; spark.ui.enabled=false",
            "THRESHER_TRACKING_TRACKING_URI": "http://mlflow:5000",
            "THRESHER_EXECUTOR": "kubernetes",
            "THRESHER_LANGUAGES": "en, de ,fr",
            "THRESHER_INGEST_MIN_LANGUAGE_SCORE": "0.8",
            "THRESHER_AIRFLOW_TASK_RETRIES": "0",
        }
    )
    assert settings.storage_root == "s3a://bucket/lake"
    assert settings.spark.master == "spark://10.0.0.1:7077"
    assert settings.spark.shuffle_partitions == 64
    assert settings.spark.conf == {"spark.executor.memory": "8g", "spark.ui.enabled": "false"}
    assert settings.tracking.tracking_uri == "http://mlflow:5000"
    assert settings.executor == "kubernetes"
    assert settings.languages == ("en", "de", "fr")
    assert settings.ingest.min_language_score == 0.8
    assert settings.airflow.task_retries == 0


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("THRESHER_SPARK_SHUFFLE_PARTITIONS", "many", "THRESHER_SPARK_SHUFFLE_PARTITIONS"),
        ("THRESHER_SPARK_CONF", "novalue", "expected key=value"),
        ("THRESHER_SPARK_REMOTE", "http://127.0.0.1:15002", "sc://host:port"),
        ("THRESHER_SPARK_REMOTE", "sc://host:15002/;token=secret", "sc://host:port"),
        ("THRESHER_SPARK_REMOTE", "sc://host:99999", "port 1-65535"),
        ("THRESHER_EXECUTOR", "slurm", "executor must be one of"),
        ("THRESHER_LANGUAGES", " , ", "at least one language"),
        (
            "THRESHER_LANGUAGE_MIX_ENGLISH_SHARES",
            "0.5,half",
            "THRESHER_LANGUAGE_MIX_ENGLISH_SHARES=.half.",
        ),
        ("THRESHER_LANGUAGE_MIX_PARALLEL_SHARES", "0,1.5", "distinct values in \\[0, 1\\]"),
        ("THRESHER_LANGUAGE_MIX_LANGUAGE", "en", "paired with English"),
        ("THRESHER_POSO_SPLIT", "random", "poso.split must be one of"),
        ("THRESHER_POSO_HELD_OUT_TEST_USERS", "0.95", "held_out_test_users must be >= 0, sum < 1"),
        # an experiment's settings refuse what cannot run
        ("THRESHER_MIXTURE_LANGUAGE_POLICY", "loud", "language_policy"),
        ("THRESHER_MIXTURE_LANGUAGE_SHARES", "en=lots", "language_shares"),
        ("THRESHER_MIXTURE_BUDGET_TOKENS", "-5", "budget_tokens"),
        ("THRESHER_SELECTION_ARMS", "quality_only", "random"),
        ("THRESHER_SELECTION_SEEDS", "1", "at least 2"),
        ("THRESHER_HELDOUT_SETS", "ntrex", "heldout sets"),
        ("THRESHER_PROXY_THREADS", "0", "threads"),
    ],
)
def test_bad_values_fail_with_the_variable_named(tmp_path, name, value, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({"THRESHER_HOME": str(tmp_path), name: value})


def test_params_are_flat_strings(tmp_path):
    params = Settings(home=Path(tmp_path)).as_params()
    assert params["spark.master"] == "local[*]"
    assert params["languages"].startswith("en,zh,")
    assert params["ingest.min_text_chars"] == "200"
    assert all(isinstance(v, str) for v in params.values())


def test_the_language_mix_grid_is_read_as_numbers(tmp_path):
    env = {
        "THRESHER_HOME": str(tmp_path),
        "THRESHER_LANGUAGE_MIX_ENGLISH_SHARES": "0.8, 0.2",
        "THRESHER_LANGUAGE_MIX_PARALLEL_SHARES": "0,0.5",
    }
    mix = Settings.from_env(env).language_mix
    assert mix.grid == [(0.8, 0.0), (0.8, 0.5), (0.2, 0.0), (0.2, 0.5)]
    assert Settings.from_env(env).as_params()["language_mix.english_shares"] == "0.8,0.2"


def test_a_model_task_gets_every_setting_as_one_json_document(tmp_path):
    """What a pod and a local process both read: the same values, typed, without secrets;
    a variable set beside it (a pod's Secret) still wins."""
    env = {
        "THRESHER_HOME": str(tmp_path),
        "THRESHER_LANGUAGE_MIX_ENGLISH_SHARES": "0.8,0.2",
        "THRESHER_PROXY_MAX_STEPS": "77",
        "THRESHER_MIXTURE_LANGUAGE_SHARES": "en=0.6;de=0.4",
        "THRESHER_SPARK_CONF": "spark.ui.enabled=false;spark.hadoop.fs.s3a.secret.key=s3cr3t",
    }
    settings = Settings.from_env(env)
    document = settings.to_json()
    assert "s3cr3t" not in document
    again = Settings.from_env({"THRESHER_SETTINGS": document})
    assert again.language_mix.english_shares == (0.8, 0.2)
    assert again.proxy.max_steps == 77
    assert again.mixture.explicit_shares == {"en": 0.6, "de": 0.4}
    assert again.home == settings.home and again.storage_root == settings.storage_root
    assert again.spark.conf == {"spark.ui.enabled": "false"}
    uri = "https://u:pw@mlflow.internal"
    secret = Settings.from_env(
        {"THRESHER_SETTINGS": document, "THRESHER_TRACKING_TRACKING_URI": uri}
    )
    assert secret.tracking.tracking_uri == uri


def test_explicit_language_shares_must_sum_to_one():
    env = {
        "THRESHER_MIXTURE_LANGUAGE_POLICY": "explicit",
        "THRESHER_MIXTURE_LANGUAGE_SHARES": "en=0.5;de=0.2",
    }
    with pytest.raises(ConfigError, match="sum to 1"):
        Settings.from_env(env)
