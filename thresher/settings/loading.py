"""Reading settings: ``THRESHER_<SECTION>_<FIELD>`` variables and the one JSON document a
model task receives, both parsed once into the declared types (a ``tuple[float, ...]`` is
floats, a ``Mapping[str, str]`` a dict), so no caller converts a setting itself."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from pathlib import Path

from thresher.settings.errors import ConfigError


def load(cls: type, env: Mapping[str, str], prefix: str, base: Mapping | None = None):
    """``cls`` from ``base`` (a JSON document's section, or nothing) with every variable
    ``<prefix><FIELD>`` of ``env`` over it."""
    hints = typing.get_type_hints(cls)
    base = base or {}
    kwargs = {}
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            kwargs[f.name] = load(hint, env, f"{prefix}{f.name.upper()}_", base.get(f.name))
            continue
        name = f"{prefix}{f.name.upper()}"
        if name in env:
            kwargs[f.name] = parse(name, env[name], hint)
        elif f.name in base:
            kwargs[f.name] = typed(f"{prefix}{f.name.upper()}", base[f.name], hint)
    return cls(**kwargs)


def parse(name: str, raw: str, hint: object) -> object:
    """An environment variable's text as ``hint``: lists are comma-separated, mappings
    ``key=value`` pairs separated by ``;``."""
    origin = typing.get_origin(hint)
    if origin is tuple:
        return typed(name, [part.strip() for part in raw.split(",") if part.strip()], hint)
    if origin in (Mapping, dict) or hint is Mapping:
        try:
            pairs = [_split_pair(p) for p in raw.split(";") if p.strip()]
        except ValueError as exc:
            raise ConfigError(f"{name}={raw!r}: {exc}") from None
        return dict(pairs)
    return typed(name, raw, hint)


def typed(name: str, value: object, hint: object) -> object:
    """``value`` (text, or what JSON gives) as the declared type."""
    origin = typing.get_origin(hint)
    try:
        if hint is bool:
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
        if hint is int:
            return int(value)
        if hint is float:
            return float(value)
        if hint is Path:
            return Path(value)
        if origin is tuple:
            element = typing.get_args(hint)[0]
            items = value if isinstance(value, list | tuple) else [value]
            return tuple(typed(name, item, element) for item in items)
        if origin in (Mapping, dict) or hint is Mapping:
            return {str(k): str(v) for k, v in dict(value).items()}
        if hint is str or isinstance(hint, types.UnionType):
            return str(value)
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name}={value!r}: {exc}") from None
    raise ConfigError(f"{name}: unsupported setting type {hint!r}")


def _split_pair(pair: str) -> tuple[str, str]:
    key, sep, value = pair.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"expected key=value, got {pair!r}")
    return key.strip(), value.strip()


def as_data(obj: object) -> dict:
    """A settings dataclass as JSON-able data (tuples as lists, paths as text)."""

    def plain(value: object) -> object:
        if dataclasses.is_dataclass(value):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        if isinstance(value, Mapping):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, Path):
            return str(value)
        return value

    return plain(obj)
