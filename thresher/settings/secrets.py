"""Which settings are secrets, and how they look when printed or logged."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

SECRET_KEY = re.compile(
    r"secret|password|passwd|token|credential|access[._-]?key|private[._-]?key|api[._-]?key",
    re.IGNORECASE,
)
_URI_USER_INFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@")
_SECRET_QUERY = re.compile(
    r"(?i)([?&;](?:[^=&;\s]*?)(?:secret|password|passwd|token|credential|key)[^=&;\s]*=)[^&;\s]*"
)
REDACTED = "***"
# Settings that name a Kubernetes Secret (where pods read credentials), not hold one.
SECRET_NAMES = frozenset({"mlflow_secret", "object_store_secret"})


def redact(key: str, value: str) -> str:
    """``value`` fit to print or log: all of it when ``key`` names a secret (``fs.s3a.secret.key``,
    ``MLFLOW_TRACKING_PASSWORD``), else with a URI's user info (``https://u:p@host``) and
    secret-named query parameters (``?password=…``) replaced by ``***``."""
    if value and SECRET_KEY.search(key) and key not in SECRET_NAMES:
        return REDACTED
    value = _URI_USER_INFO.sub(rf"\1{REDACTED}@", value)
    return _SECRET_QUERY.sub(rf"\1{REDACTED}", value)


def is_secret(key: str, value: object) -> bool:
    return isinstance(value, str) and bool(value) and redact(key, value) != value


def secret_values(settings: object) -> list[str]:
    """The raw values ``redact`` hides, for log maskers (Airflow's ``mask_secret``)."""
    found: list[str] = []

    def walk(obj: object) -> None:
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if dataclasses.is_dataclass(value):
                walk(value)
            elif isinstance(value, Mapping):
                found.extend(str(v) for k, v in value.items() if is_secret(k, str(v)))
            elif is_secret(f.name, value):
                found.append(value)

    walk(settings)
    return found


def without_secrets(data: dict) -> dict:
    """``as_data`` output without the values ``redact`` would hide: what may travel in a pod
    spec (a pod reads its credentials from Kubernetes Secrets instead)."""
    out = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out[key] = without_secrets(value)
        elif not is_secret(key, value):
            out[key] = value
    return out
