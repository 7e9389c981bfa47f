"""MLflow at the edge: one MLflow run per pipeline run, found again by its run key.

A pipeline run (a DAG run, or a CLI invocation) is identified by a ``run_key`` such as
``curation/scheduled__2026-11-20T00:00:00+00:00``. ``open_run`` finds the MLflow run tagged
with that key or creates it, so a retried Airflow task reuses the same MLflow run instead of
scattering results over several. Stages then log into it by MLflow run id. Everything goes
through ``MlflowClient`` with an explicit tracking URI: no process-global MLflow state.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlparse

from thresher import names
from thresher.config import Settings

RUN_KEY_TAG = "thresher.run_key"
# sha256 of the run key: what runs are searched by, so a key with any character (a path with
# a quote in it) never reaches MLflow's filter syntax.
RUN_KEY_ID_TAG = "thresher.run_key_id"
# MLflow's UI opens an experiment in the view its kind names (the tag its "experiment type"
# selector writes); untagged, MLflow 3 opens the GenAI view (traces, evaluation runs).
# Thresher's runs are pipeline and training runs, compared by metrics and plots.
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
MODEL_TRAINING_KIND = "custom_model_development"
# The UI's own switch between those views, for links: a fresh browser starts in GenAI.
UI_VIEW = "workflowType=machine_learning"


def client(settings: Settings):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=settings.tracking.tracking_uri)


def experiment_id(settings: Settings, name: str | None = None) -> str:
    name = name or settings.tracking.experiment
    mlflow = client(settings)
    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        if EXPERIMENT_KIND_TAG not in found.tags:  # made before Thresher tagged its experiments
            mlflow.set_experiment_tag(found.experiment_id, EXPERIMENT_KIND_TAG, MODEL_TRAINING_KIND)
        return found.experiment_id
    root = settings.tracking.artifact_root
    # A URI (s3://…, mlflow-artifacts:/…) as given; a plain path as a file: URI.
    location = root if urlparse(root).scheme else Path(root).resolve().as_uri()
    return mlflow.create_experiment(
        name,
        artifact_location=f"{location.rstrip('/')}/{name}",
        tags={EXPERIMENT_KIND_TAG: MODEL_TRAINING_KIND},
    )


def open_run(
    settings: Settings,
    run_key: str,
    run_name: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> str:
    """Return the id of the MLflow run for ``run_key``, creating it (with config params) once."""
    mlflow = client(settings)
    exp = experiment_id(settings)
    existing = _find_run(settings, exp, run_key)
    if existing is not None:
        return existing.info.run_id
    run = mlflow.create_run(
        exp,
        run_name=run_name or run_key,
        tags={RUN_KEY_TAG: run_key, RUN_KEY_ID_TAG: _run_key_id(run_key), **(tags or {})},
    )
    from mlflow.entities import Param

    params = [Param(f"config.{k}", v[:6000]) for k, v in settings.as_params().items()]
    mlflow.log_batch(run.info.run_id, params=params)
    return run.info.run_id


def finish_run_by_key(settings: Settings, run_key: str, status: str = "FAILED") -> None:
    """End the run opened for ``run_key``, if there is one (a failure callback's job)."""
    found = _find_run(settings, experiment_id(settings), run_key)
    if found is not None and found.info.status == "RUNNING":
        finish_run(settings, found.info.run_id, status)


def _run_key_id(run_key: str) -> str:
    return hashlib.sha256(run_key.encode("utf-8")).hexdigest()


def _find_run(settings: Settings, experiment: str, run_key: str):
    """The run opened for ``run_key``: searched by the key's hash (hex, nothing to escape);
    runs opened before the hash tag existed are found by a key made only of safe characters."""
    mlflow = client(settings)
    filters = [f"tags.`{RUN_KEY_ID_TAG}` = '{_run_key_id(run_key)}'"]
    with contextlib.suppress(names.InvalidName):
        filters.append(f"tags.`{RUN_KEY_TAG}` = '{names.run_key(run_key)}'")
    for filter_string in filters:
        found = mlflow.search_runs([experiment], filter_string=filter_string, max_results=1)
        if found:
            return found[0]
    return None


def log_params(settings: Settings, run_id: str, params: Mapping[str, object]) -> None:
    from mlflow.entities import Param

    mlflow = client(settings)
    mlflow.log_batch(run_id, params=[Param(k, str(v)) for k, v in params.items()])


def log_new_params(settings: Settings, run_id: str, params: Mapping[str, object]) -> None:
    """Log the params the run does not hold yet: MLflow params are write-once, and several
    commands (two sources ingested into one run) may name the same one."""
    existing = client(settings).get_run(run_id).data.params
    fresh = {k: v for k, v in params.items() if k not in existing}
    if fresh:
        log_params(settings, run_id, fresh)


def set_tags(settings: Settings, run_id: str, tags: Mapping[str, str]) -> None:
    mlflow = client(settings)
    for key, value in tags.items():
        mlflow.set_tag(run_id, key, value)


def log_metrics(
    settings: Settings, run_id: str, metrics: Mapping[str, float], step: int = 0
) -> None:
    import time

    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    batch = [Metric(k, float(v), now, step) for k, v in sorted(metrics.items())]
    mlflow = client(settings)
    for start in range(0, len(batch), 900):  # MLflow caps a batch at 1,000 entries
        mlflow.log_batch(run_id, metrics=batch[start : start + 900])


def log_json(settings: Settings, run_id: str, payload: object, artifact_file: str) -> None:
    client(settings).log_text(run_id, json.dumps(payload, indent=2, default=str), artifact_file)


def finish_run(settings: Settings, run_id: str, status: str = "FINISHED") -> None:
    client(settings).set_terminated(run_id, status=status)


def experiment_url(settings: Settings, ui: str = "http://127.0.0.1:5000") -> str:
    """The experiment's runs in MLflow's model-training view."""
    return f"{ui}/#/experiments/{experiment_id(settings)}?{UI_VIEW}"


def run_url(settings: Settings, run_id: str, ui: str = "http://127.0.0.1:5000") -> str:
    run = client(settings).get_run(run_id)
    return f"{ui}/#/experiments/{run.info.experiment_id}/runs/{run_id}?{UI_VIEW}"


def log_report(settings: Settings, run_id: str, page, artifact_file: str | None = None) -> str:
    """Log a ``thresher.report_page.ReportPage`` as one HTML artifact (MLflow previews it)."""
    from thresher.report_page import ARTIFACT

    artifact_file = artifact_file or ARTIFACT
    client(settings).log_text(run_id, page.render(), artifact_file)
    return artifact_file
