"""Secrets stay out of what leaves a process: printed settings, MLflow params, task logs and
the environment of model processes."""

from __future__ import annotations

import json
import sys

from spark_jobs import cli
from thresher import tracking
from thresher.config import Settings
from thresher_tasks import LocalProcessOperator

SECRET_ENV = {
    "THRESHER_SPARK_CONF": "spark.hadoop.fs.s3a.access.key=AKIAEXAMPLE;"
    "spark.hadoop.fs.s3a.secret.key=s3cr3t-value;spark.ui.enabled=false",
}


def test_thresher_config_redacts_keys_and_uri_credentials(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("THRESHER_HOME", str(tmp_path))
    for name, value in SECRET_ENV.items():
        monkeypatch.setenv(name, value)
    uri = "postgresql://mlflow:db-pa55@db.internal:5432/mlflow?password=db-pa55"
    monkeypatch.setenv("THRESHER_TRACKING_ARTIFACT_ROOT", "s3://bucket/mlflow")
    monkeypatch.setenv("THRESHER_TRACKING_TRACKING_URI", uri)
    assert cli.main(["config"]) == 0
    printed = capsys.readouterr().out
    assert "s3cr3t-value" not in printed and "AKIAEXAMPLE" not in printed
    assert "db-pa55" not in printed
    shown = json.loads(printed)
    assert "spark.hadoop.fs.s3a.secret.key=***" in shown["spark.conf"]
    assert "spark.ui.enabled=false" in shown["spark.conf"]  # the rest stays readable
    assert shown["tracking.tracking_uri"].startswith("postgresql://***@db.internal:5432/")


def test_mlflow_params_hold_no_secret(tmp_path):
    settings = Settings.from_env({"THRESHER_HOME": str(tmp_path), **SECRET_ENV})
    run_id = tracking.open_run(settings, "tests/secrets")
    params = tracking.client(settings).get_run(run_id).data.params
    assert not [k for k, v in params.items() if "s3cr3t" in v or "AKIA" in v]
    assert "secret.key=***" in params["config.spark.conf"]


def test_task_logs_mask_the_settings_secrets(monkeypatch, caplog):
    # The masker airflow.sdk.log.mask_secret registers with (what task logs pass through).
    from airflow.sdk._shared.secrets_masker.secrets_masker import redact

    from thresher_tasks.secret_masking import settings_with_masked_secrets

    for name, value in SECRET_ENV.items():
        monkeypatch.setenv(name, value)
    settings = settings_with_masked_secrets()
    key = settings.spark.conf["spark.hadoop.fs.s3a.secret.key"]
    assert redact(f"connecting with {key}") == "connecting with ***"


def test_a_model_process_gets_an_allow_listed_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "postgresql://u:pw@db/airflow")
    monkeypatch.setenv("AIRFLOW__CORE__FERNET_KEY", "fernet-secret")
    monkeypatch.setenv("THRESHER_LANGUAGES", "en,de")
    script = "import json, os\nprint(json.dumps(sorted(os.environ)))\n"
    op = LocalProcessOperator(task_id="env", cmds=[sys.executable, "-c", script])
    lines: list[str] = []
    monkeypatch.setattr(op.log, "info", lambda fmt, *args: lines.append(fmt % args))
    op.execute(context={})
    seen = json.loads(next(line for line in lines if line.startswith("[")))
    assert "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" not in seen
    assert "AIRFLOW__CORE__FERNET_KEY" not in seen
    assert {"PATH", "THRESHER_PARENT_PID"} <= set(seen)
    assert "THRESHER_LANGUAGES" not in seen  # settings arrive as one document, not piecemeal
