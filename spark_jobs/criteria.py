"""Which version of each quality criterion a consumer of ``silver.quality_scores`` reads.

A criterion is written ``name``, ``name@version`` or ``name@alias``:

- ``name``: the one version the scores hold (two or more is an error: name one);
- ``name@version``: that version (``rules@r1-38fc3b59ae``, ``murating@3``);
- ``name@alias``: the version a registry alias points at, for criteria that are registered
  models (``murating@champion``: the MLflow alias of ``murating.model_name``).

``resolve`` returns exactly one version per criterion and checks that every date the scores
hold for any of the criteria has rows of that version. A date without them is an error that
lists the dates and says which backfill writes them — QuaDMix and the MuRating selection
never drop a date silently, nor mix two versions of one criterion (their scales differ).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from thresher import names
from thresher.config import Settings
from thresher.murating.lifecycle import rerate_command

# criterion → the registered model its versions are (name@alias works for these only)
AliasLookup = Callable[[str, str], "str | None"]
MURATING = "murating"
CURATION_CRITERIA = ("rules", "reference_classifier")


class MissingCriterionVersion(ValueError):
    """A sampled date lacks the chosen version of a criterion; the message names the fix."""


@dataclass(frozen=True)
class Criterion:
    name: str
    ref: str = ""  # "" (the only version), a version, or an alias

    @classmethod
    def parse(cls, spec: str) -> Criterion:
        name, _, ref = spec.partition("@")
        names.label("criterion", name)
        if ref:
            names.label(f"version or alias of {name}", ref)
        return cls(name, ref)


def registry_aliases(settings: Settings) -> AliasLookup:
    """Alias → version from the MLflow registry, for the criteria that are registered models."""
    models = {MURATING: settings.murating.model_name}

    def lookup(criterion: str, alias: str) -> str | None:
        if criterion not in models:
            return None
        from thresher.model_registry import alias_version

        return alias_version(settings, models[criterion], alias)

    return lookup


def backfill_hint(criterion: str, version: str, dates: Sequence[str]) -> str:
    if criterion == MURATING:
        return f"re-rate them with the rater's backfill: {rerate_command(version, dates)}"
    if criterion in CURATION_CRITERIA:
        return (
            "score them again with the curation quality job configured for that version: "
            f"airflow backfill create --dag-id curation --from-date {min(dates)} "
            f"--to-date {max(dates)} --reprocess-behavior completed "
            "(or thresher quality --date <date> for each)"
        )
    return f"write {criterion}@{version} for them before sampling"


def _coverage(scores: DataFrame, wanted: Sequence[str]) -> dict[str, dict[str, set[dt.date]]]:
    """criterion → version → the dates holding rows of it (one small aggregation)."""
    rows = (
        scores.where(F.col("criterion").isin(list(wanted)))
        .select("criterion", "version", "ingest_date")
        .distinct()
        .collect()
    )
    out: dict[str, dict[str, set[dt.date]]] = {name: {} for name in wanted}
    for row in rows:
        out[row["criterion"]].setdefault(row["version"], set()).add(row["ingest_date"])
    return out


def _version(criterion: Criterion, held: dict[str, set], aliases: AliasLookup) -> tuple[str, str]:
    """(version, how it was chosen) for one criterion."""
    if not criterion.ref:
        if len(held) != 1:
            listed = ", ".join(f"{v} ({len(d)} dates)" for v, d in sorted(held.items()))
            raise MissingCriterionVersion(
                f"criterion {criterion.name!r} has versions [{listed or 'none'}]: name one as "
                f"{criterion.name}@<version> or {criterion.name}@<alias>"
            )
        return next(iter(held)), "the only version"
    if criterion.ref in held:
        return criterion.ref, "version"
    version = aliases(criterion.name, criterion.ref)
    if version is None:
        raise MissingCriterionVersion(
            f"{criterion.name}@{criterion.ref}: no such version in the scores "
            f"({', '.join(sorted(held)) or 'none'}) and no such registry alias"
        )
    return version, f"alias {criterion.ref}"


def resolve(
    scores: DataFrame, criteria: Sequence[str], aliases: AliasLookup | None = None
) -> dict[str, str]:
    """``name → version`` for ``criteria``, each version present on every date of ``scores``
    that holds any of them. ``aliases`` defaults to this process's MLflow registry."""
    parsed = [Criterion.parse(spec) for spec in criteria]
    if len({c.name for c in parsed}) != len(parsed):
        raise ValueError(f"a criterion is named twice in {list(criteria)}")
    if aliases is None:
        aliases = registry_aliases(Settings.from_env())
    coverage = _coverage(scores, [c.name for c in parsed])
    every_date = set().union(*(d for held in coverage.values() for d in held.values()))
    resolved: dict[str, str] = {}
    for criterion in parsed:
        held = coverage[criterion.name]
        version, how = _version(criterion, held, aliases)
        missing = sorted(d.isoformat() for d in every_date - held.get(version, set()))
        if missing:
            more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
            shown = ", ".join(missing[:10]) + more
            raise MissingCriterionVersion(
                f"{criterion.name}@{version} ({how}) has no scores for {len(missing)} of "
                f"{len(every_date)} dates: {shown}; "
                + backfill_hint(criterion.name, version, missing)
            )
        resolved[criterion.name] = version
    return resolved
