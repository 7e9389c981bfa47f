"""MLflow model registry for the multilingual rater (the edge: only entry points import it)."""

from __future__ import annotations

import contextlib
from pathlib import Path

from thresher.config import Settings

ARTIFACT_PATH = "rater"


def log_and_register(settings: Settings, run_id: str, folder: Path, name: str) -> str:
    """Log ``folder`` to the run as ``rater/`` and register it; return the registry version."""
    from mlflow.exceptions import MlflowException

    from thresher import tracking

    client = tracking.client(settings)
    client.log_artifacts(run_id, str(folder), ARTIFACT_PATH)
    with contextlib.suppress(MlflowException):  # already registered: add a version
        client.create_registered_model(name)
    source = f"{client.get_run(run_id).info.artifact_uri}/{ARTIFACT_PATH}"
    return str(client.create_model_version(name, source, run_id=run_id).version)


def resolve(settings: Settings, name: str, version: str = "latest") -> tuple[Path, str]:
    """A registered rater's local folder and version (``latest`` = the highest version)."""
    from thresher import tracking

    client = tracking.client(settings)
    if version == "latest":
        versions = client.search_model_versions(f"name='{name}'")
        if not versions:
            raise FileNotFoundError(f"no registered model {name!r}")
        version = str(max(int(v.version) for v in versions))
    model = client.get_model_version(name, version)
    import mlflow.artifacts

    local = mlflow.artifacts.download_artifacts(
        artifact_uri=model.source, tracking_uri=settings.tracking.tracking_uri
    )
    return Path(local), version
