"""A parallel unit: one text in every language it exists in, what one English judgment is
carried across (PAPERS.md, MuRating). The units' sources live in ``parallel`` (corpora) and
``debian_docs``; translated units are what ``models.murating.translate`` writes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

ENGLISH = "en"
# What a translate task writes in its output folder: one row per translated document.
TRANSLATIONS_FILE = "translations.parquet"


@dataclass(frozen=True)
class ParallelDoc:
    source: str  # "ntrex", "xquad", "tatoeba", "debian", "translation:<model>", "silver"
    unit_id: str  # the same for every language version of one text
    language: str  # ISO 639-1
    text: str

    @property
    def doc_key(self) -> str:
        return f"{self.unit_id}/{self.language}"


def held_out(unit_id: str, fraction: float, seed: int = 1) -> bool:
    """Whether a unit is held out: a fixed hash, so every language version goes together."""
    digest = hashlib.sha256(f"{seed}:{unit_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def read_translations(folder: str) -> list[ParallelDoc]:
    """The parallel units a translate task wrote."""
    import pandas as pd

    frame = pd.read_parquet(Path(folder) / TRANSLATIONS_FILE)
    return [ParallelDoc(r.source, r.unit_id, r.language, r.text) for r in frame.itertuples()]
