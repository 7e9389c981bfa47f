"""The rater in the MLflow model registry (the edge: only entry points import it).

Each trained rater is a version of ``murating.model_name``, logged as its run's ``rater/``
artifacts and tagged with what it was trained on (``thresher.murating.lifecycle``); the
``murating.champion_alias`` alias names the version that rates.
"""

from __future__ import annotations

from pathlib import Path

from thresher import model_registry
from thresher.config import Settings
from thresher.entrypoint import BadInput

ARTIFACT_PATH = "rater"


def register_rater(settings: Settings, run_id: str, folder: Path, tags: dict[str, str]) -> str:
    """Log and register ``folder`` (a saved rater); return the new registry version."""
    name = settings.murating.model_name
    return model_registry.register(settings, name, run_id, folder, ARTIFACT_PATH, tags)


def champion(settings: Settings) -> str | None:
    config = settings.murating
    return model_registry.alias_version(settings, config.model_name, config.champion_alias)


def resolve(settings: Settings, version: str = "", alias: str = "") -> tuple[Path, str]:
    """A registered rater's local folder and version: ``version``, else the one ``alias``
    (default: the champion alias) points at."""
    config = settings.murating
    if not version:
        alias = alias or config.champion_alias
        version = model_registry.alias_version(settings, config.model_name, alias) or ""
        if not version:
            raise BadInput(
                f"registered model {config.model_name!r} has no version aliased {alias!r}: "
                "train one (DAG murating) or promote one (python -m models.murating.promote)"
            )
    known = {v.version for v in model_registry.versions(settings, config.model_name)}
    if version not in known:
        raise BadInput(f"{config.model_name} has no version {version!r} (has {sorted(known)})")
    return model_registry.download(settings, config.model_name, version), version
