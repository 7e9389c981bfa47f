"""What every Thresher DAG shares, declared once: its start date and catch-up policy, one run
at a time, its owner and retries from the settings, and the params and templates several
DAGs take (a mixture name, a run's folder)."""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param

from thresher import names
from thresher.config import Settings

# A DAG run's folder below the checkpoint root: its run id without ':' and '+'.
RUN_FOLDER = "{{ run_id | replace(':', '-') | replace('+', '-') }}"


def dag_arguments(
    dag_id: str,
    settings: Settings,
    *,
    description: str,
    tags: list[str],
    doc_md: str | None,
    schedule: str | None = None,
    params: dict | None = None,
    max_active_tasks: int | None = None,
    **default_args,
) -> dict:
    """``@dag(**dag_arguments(...))``: manual trigger unless ``schedule`` says otherwise."""
    limit = {} if max_active_tasks is None else {"max_active_tasks": max_active_tasks}
    return {
        **limit,
        "dag_id": dag_id,
        "description": description,
        "schedule": schedule,
        "start_date": pendulum.datetime(2026, 1, 1, tz="UTC"),
        "catchup": False,
        "max_active_runs": 1,
        "tags": ["thresher", *tags],
        "default_args": {
            "owner": "thresher",
            "retries": settings.airflow.task_retries,
            "retry_delay": timedelta(seconds=settings.airflow.retry_delay_seconds),
            **default_args,
        },
        "params": params or {},
        "doc_md": doc_md,
    }


def mixture_param(settings: Settings, description: str) -> Param:
    """The ``mixture`` param: a gold.mixture_<name> name (letters, digits, '_')."""
    return Param(
        settings.mixture.name,
        type="string",
        pattern=names.TABLE_NAME_PATTERN,
        description=description,
    )


def path_param(default: str, description: str, optional: bool = False) -> Param:
    """A path param: no control characters; ``optional`` allows the empty string."""
    pattern = (r"^$|" if optional else "") + names.PATH_PATTERN
    return Param(default, type="string", pattern=pattern, description=description)


def airflow_run_tags(dag_run) -> dict[str, str]:
    """The tags that tie an MLflow run to the Airflow DAG run that opened it."""
    return {
        "thresher.via": "airflow",
        "airflow.dag_id": dag_run.dag_id,
        "airflow.run_id": dag_run.run_id,
    }
