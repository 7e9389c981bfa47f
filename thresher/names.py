"""Names a user types that end up in a table row, a path, a predicate or a command.

Every such value (a source label, a mixture or dataset name, a pair set, an MLflow run key)
is checked here against one strict pattern before it is used, so that a name can never
change what a write replaces, where a file lands or what a command runs. The same patterns
are the ``pattern`` of the DAGs' JSON-schema params, so the Airflow UI refuses them too.
"""

from __future__ import annotations

import re

# Letters, digits, ".", "_" and "-", starting with a letter or digit; at most 64 characters.
LABEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
# Table-name parts (gold.mixture_<name>): letters, digits and "_" only.
TABLE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_]{0,63}$"
# MLflow run keys: Airflow run ids ("scheduled__2026-11-20T00:00:00+00:00") behind a DAG id.
RUN_KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:+/@-]{0,249}$"
# A language code (ISO 639-1 or -3), as the lake's ``language`` columns hold it.
LANGUAGE_PATTERN = r"^[a-z]{2,3}$"
# A path a DAG param may carry: no control characters, no newline, not empty.
PATH_PATTERN = r"^[^\x00-\x1f\x7f]{1,4096}$"


class InvalidName(ValueError):
    """A user-supplied name does not match its pattern; the message says which and how."""


def _check(kind: str, value: object, pattern: str, allowed: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(pattern, value):
        raise InvalidName(f"{kind} {value!r} is not valid: use {allowed}")
    return value


def source_name(value: object) -> str:
    """A source label (``bronze.documents.source``)."""
    return _check("source", value, LABEL_PATTERN, _LABEL_RULE)


def label(kind: str, value: object) -> str:
    """Any other label stored in a row: a dataset, a pair set, a gate, a criterion."""
    return _check(kind, value, LABEL_PATTERN, _LABEL_RULE)


def table_name(kind: str, value: object) -> str:
    """A name that becomes part of a table's name (a mixture)."""
    return _check(kind, value, TABLE_NAME_PATTERN, "letters, digits and '_' (at most 64)")


def run_key(value: object) -> str:
    return _check("run key", value, RUN_KEY_PATTERN, "letters, digits and ._:+/@- (at most 250)")


def input_path(value: object) -> str:
    return _check("input path", value, PATH_PATTERN, "a path without control characters")


def source_from_folder(folder_name: str) -> str:
    """The default source label of an input folder: its name with every run of characters a
    label cannot hold replaced by "_" ("crawl [v2]" → "crawl_v2_")."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", folder_name).lstrip("._-")[:64]
    return cleaned or "input"


_LABEL_RULE = "letters, digits, '.', '_' and '-', starting with a letter or digit (at most 64)"
