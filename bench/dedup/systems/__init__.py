"""The deduplication systems under test, one module each, all with the same contract.

``run(corpus, work)`` reads the corpus parquet itself, finds near-duplicates at Jaccard 0.8
with 128 permutations (datatrove: its default 14 x 8) on word 5-grams, and returns a
``SystemRun``: the doc_ids it says have a duplicate (every member of a group of two or more,
kept and removed alike) and the seconds from reading the corpus to having that set.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SYSTEMS = ("thresher", "datatrove", "datasketch", "rensa")
THRESHOLD = 0.8
NUM_PERM = 128
SEED = 1


@dataclass
class SystemRun:
    flagged: set[str]
    docs: int
    wall_s: float
    processes: int
    notes: str
    extra: dict = field(default_factory=dict)


def load(name: str):
    """The module of system ``name`` (imported only in its own subprocess)."""
    import importlib

    modules = {
        "thresher": "thresher_dedup",
        "datatrove": "datatrove_minhash",
        "datasketch": "datasketch_lsh",
        "rensa": "rensa_lsh",
    }
    if name not in modules:
        raise KeyError(f"unknown system {name!r}; expected one of {SYSTEMS}")
    return importlib.import_module(f"bench.dedup.systems.{modules[name]}")
