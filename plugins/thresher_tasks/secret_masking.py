"""Secrets in task logs: what the settings hold is masked by Airflow's log masker."""

from __future__ import annotations

from thresher.config import Settings, secret_values


def settings_with_masked_secrets() -> Settings:
    """The task's settings, after telling Airflow to mask each secret they hold (an S3 key in
    ``THRESHER_SPARK_CONF``, a password in the tracking URI) wherever a task logs it."""
    from airflow.sdk.log import mask_secret

    settings = Settings.from_env()
    for value in secret_values(settings):
        mask_secret(value)
    return settings
