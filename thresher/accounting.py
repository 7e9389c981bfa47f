"""Record accounting: every record a stage reads is kept, dropped with a reason, or quarantined."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

CATEGORIES = ("in", "kept", "dropped", "quarantined")


class ReconciliationError(RuntimeError):
    """A stage's counts do not add up: records were lost or invented."""


@dataclass(frozen=True)
class StageCounts:
    stage: str
    records_in: int
    kept: int
    dropped: Mapping[str, int] = field(default_factory=dict)
    quarantined: Mapping[str, int] = field(default_factory=dict)

    @property
    def accounted(self) -> int:
        return self.kept + sum(self.dropped.values()) + sum(self.quarantined.values())

    def check(self) -> StageCounts:
        if self.accounted != self.records_in:
            raise ReconciliationError(
                f"stage {self.stage!r}: {self.records_in} records in, but kept {self.kept} + "
                f"dropped {dict(self.dropped)} + quarantined {dict(self.quarantined)} = "
                f"{self.accounted}"
            )
        return self

    def rows(self) -> list[tuple[str, str, int]]:
        """(category, reason, records) rows for ``ops.stage_counts``."""
        rows = [("in", "", self.records_in), ("kept", "", self.kept)]
        rows += [("dropped", r, n) for r, n in sorted(self.dropped.items())]
        rows += [("quarantined", r, n) for r, n in sorted(self.quarantined.items())]
        return rows

    @classmethod
    def from_rows(cls, stage: str, rows: Iterable[tuple[str, str, int]]) -> StageCounts:
        records_in = kept = 0
        dropped: dict[str, int] = {}
        quarantined: dict[str, int] = {}
        for category, reason, n in rows:
            if category == "in":
                records_in += n
            elif category == "kept":
                kept += n
            elif category == "dropped":
                dropped[reason] = dropped.get(reason, 0) + n
            elif category == "quarantined":
                quarantined[reason] = quarantined.get(reason, 0) + n
            else:
                raise ValueError(f"unknown category {category!r}; expected one of {CATEGORIES}")
        return cls(stage, records_in, kept, dropped, quarantined)

    def metrics(self) -> dict[str, float]:
        """Flat MLflow metric names, e.g. ``ingest.quarantined.invalid_utf8``."""
        out = {f"{self.stage}.in": self.records_in, f"{self.stage}.kept": self.kept}
        out[f"{self.stage}.dropped"] = sum(self.dropped.values())
        out[f"{self.stage}.quarantined"] = sum(self.quarantined.values())
        out |= {f"{self.stage}.dropped.{r}": n for r, n in self.dropped.items()}
        out |= {f"{self.stage}.quarantined.{r}": n for r, n in self.quarantined.items()}
        return {k: float(v) for k, v in out.items()}
