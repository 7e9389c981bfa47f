"""The MLflow model registry at the edge: register a trained model, name its champion.

A registered model (the MuRating rater: ``murating``) has numbered versions, each the logged
artifacts of the MLflow run that trained it, with tags saying what it was trained on. An
alias (``champion``) points at the version that rates: consumers ask for ``name@alias``
and get one version number, which is what ``silver.quality_scores.version`` holds. Every
call goes through ``MlflowClient`` with the settings' tracking URI; model names are checked
(``names.label``) before they reach MLflow's filter syntax.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from thresher import names, tracking
from thresher.config import Settings


@dataclass(frozen=True)
class ModelVersion:
    version: str
    run_id: str
    created_ms: int
    tags: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()


def _client(settings: Settings):
    return tracking.client(settings)


def register(
    settings: Settings,
    name: str,
    run_id: str,
    folder: Path,
    artifact_path: str,
    tags: dict[str, str] | None = None,
) -> str:
    """Log ``folder`` to the run as ``artifact_path/`` and register it; the new version."""
    from mlflow.exceptions import MlflowException

    client = _client(settings)
    client.log_artifacts(run_id, str(folder), artifact_path)
    with contextlib.suppress(MlflowException):  # already registered: add a version
        client.create_registered_model(names.label("registered model", name))
    source = f"{client.get_run(run_id).info.artifact_uri}/{artifact_path}"
    created = client.create_model_version(name, source, run_id=run_id, tags=tags or {})
    return str(created.version)


def versions(settings: Settings, name: str) -> list[ModelVersion]:
    """Every version of ``name`` (none when it is not registered), oldest first."""
    found = _client(settings).search_model_versions(
        f"name='{names.label('registered model', name)}'"
    )
    if not found:
        return []
    # search_model_versions leaves a version's aliases empty: the registered model has them
    aliases: dict[str, list[str]] = {}
    for alias, version in (_client(settings).get_registered_model(name).aliases or {}).items():
        aliases.setdefault(str(version), []).append(alias)
    out = [
        ModelVersion(
            str(v.version),
            v.run_id or "",
            int(v.creation_timestamp or 0),
            dict(v.tags or {}),
            tuple(sorted(aliases.get(str(v.version), ()))),
        )
        for v in found
    ]
    return sorted(out, key=lambda v: int(v.version))


def alias_version(settings: Settings, name: str, alias: str) -> str | None:
    """The version ``alias`` points at, or None (no such model or alias)."""
    from mlflow.exceptions import MlflowException

    try:
        return str(_client(settings).get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def set_alias(settings: Settings, name: str, alias: str, version: str) -> None:
    _client(settings).set_registered_model_alias(name, names.label("alias", alias), version)


def tag_version(settings: Settings, name: str, version: str, tags: dict[str, str]) -> None:
    client = _client(settings)
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)


def download(settings: Settings, name: str, version: str) -> Path:
    """A local folder holding the version's artifacts (MLflow caches the download)."""
    import mlflow.artifacts

    source = _client(settings).get_model_version(name, version).source
    local = mlflow.artifacts.download_artifacts(
        artifact_uri=source, tracking_uri=settings.tracking.tracking_uri
    )
    return Path(local)
