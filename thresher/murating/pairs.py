"""Pair sampling: stratified index pairs for aggregation, and the three kinds of training pairs.

``stratified_pairs`` draws pairs whose gap on a reference ordering (percentile ranks in
[0, 1]) is spread evenly over ``strata`` bins above ``min_gap``: uniform sampling would give
mostly mid-sized gaps; even strata keep both the close calls (which teach fine distinctions)
and the clear ones (which anchor the scale), and ``min_gap`` drops near-ties, whose label is
noise.

``training_pairs`` builds MuRating's pairs from documents that carry their unit's English
score (``score``) and a ``split``:

- ``monolingual``: two different units, both in language L (English included);
- ``cross_lingual``: two different units in two different languages;
- ``parallel``: one unit in two languages (a document and its translation), label 0.5.

The label of a non-parallel pair is the Bradley–Terry probability σ((θ_a − θ_b) / τ).
Pairs never mix splits: a held-out unit is held out in every language.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from thresher.murating.bradley_terry import sigmoid

PAIR_TYPES = ("monolingual", "cross_lingual", "parallel")
PAIR_COLUMNS = (
    "pair_id",
    "pair_type",
    "split",
    "doc_a",
    "doc_b",
    "unit_a",
    "unit_b",
    "language_a",
    "language_b",
    "source_a",
    "source_b",
    "text_a",
    "text_b",
    "score_a",
    "score_b",
    "label",
)


def percentile_ranks(values: np.ndarray) -> np.ndarray:
    """Average-rank percentiles in [0, 1] (ties share a rank)."""
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return np.zeros(len(values))
    order = pd.Series(values).rank(method="average").to_numpy()
    return (order - 1) / (len(values) - 1)


def stratified_pairs(
    reference: np.ndarray,
    n_pairs: int,
    rng: np.random.Generator,
    strata: int = 4,
    min_gap: float = 0.02,
    oversample: int = 20,
) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (a ≠ b), about ``n_pairs / strata`` per gap bin of ``reference``."""
    n = len(reference)
    if n < 2 or n_pairs <= 0:
        return np.zeros(0, int), np.zeros(0, int)
    ranks = percentile_ranks(reference)
    m = max(n_pairs * oversample, 1000)
    a, b = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = a != b
    a, b = a[keep], b[keep]
    gap = np.abs(ranks[a] - ranks[b])
    edges = np.linspace(min_gap, 1.0, strata + 1)
    chosen = []
    per_bin = int(np.ceil(n_pairs / strata))
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = np.flatnonzero((gap >= low) & (gap <= high))
        chosen.append(inside[:per_bin])  # the draw is already random: take the first
    picked = np.concatenate(chosen)[:n_pairs]
    return a[picked], b[picked]


def _pair_id(kind: str, doc_a: str, doc_b: str) -> str:
    return hashlib.sha256(f"{kind}|{doc_a}|{doc_b}".encode()).hexdigest()[:32]


# Columns of a pair that each document gives (<column>_a, <column>_b) and where they come from.
_SIDE_COLUMNS = (
    ("doc", "doc_key"),
    ("unit", "unit_id"),
    ("language", "language"),
    ("source", "source"),
    ("text", "text"),
    ("score", "score"),
)


def _rows(kind: str, docs: pd.DataFrame, a: np.ndarray, b: np.ndarray, tau: float) -> pd.DataFrame:
    left, right = docs.iloc[a].reset_index(drop=True), docs.iloc[b].reset_index(drop=True)
    if kind == "parallel":
        label = np.full(len(a), 0.5)
    else:
        label = sigmoid((left["score"].to_numpy() - right["score"].to_numpy()) / tau)
    sides = {
        f"{column}_{side}": frame[source].to_numpy()
        for column, source in _SIDE_COLUMNS
        for side, frame in (("a", left), ("b", right))
    }
    out = pd.DataFrame(
        {"pair_type": kind, "split": left["split"].to_numpy(), **sides, "label": label}
    )
    out.insert(
        0, "pair_id", [_pair_id(kind, x, y) for x, y in zip(out.doc_a, out.doc_b, strict=True)]
    )
    return out


def training_pairs(
    docs: pd.DataFrame,
    monolingual_per_language: int,
    cross_lingual: int,
    parallel: int,
    seed: int = 1,
    strata: int = 4,
    min_gap: float = 0.02,
    label_temperature: float = 1.0,
) -> pd.DataFrame:
    """Pairs of ``docs`` (doc_key, unit_id, language, source, text, score, split), per split.

    Counts are for the whole set; each split gets its share in proportion to its units.
    """
    rng = np.random.default_rng(seed)
    docs = docs.reset_index(drop=True)
    frames = []
    units_total = docs["unit_id"].nunique()
    for _, part in docs.groupby("split", sort=True):
        share = part["unit_id"].nunique() / units_total
        part = part.reset_index(drop=True)
        index = part.index.to_numpy()
        for _, group in part.groupby("language", sort=True):
            n = int(round(monolingual_per_language * share))
            a, b = stratified_pairs(group["score"].to_numpy(), n, rng, strata, min_gap)
            rows = group.index.to_numpy()
            frames.append(_rows("monolingual", part, rows[a], rows[b], label_temperature))
        a, b = stratified_pairs(
            part["score"].to_numpy(), int(round(cross_lingual * share)) * 3, rng, strata, min_gap
        )
        different = (part["language"].to_numpy()[a] != part["language"].to_numpy()[b]) & (
            part["unit_id"].to_numpy()[a] != part["unit_id"].to_numpy()[b]
        )
        n_cross = int(round(cross_lingual * share))
        a, b = a[different][:n_cross], b[different][:n_cross]
        frames.append(_rows("cross_lingual", part, index[a], index[b], label_temperature))
        frames.append(_parallel(part, int(round(parallel * share)), rng, label_temperature))
    pairs = pd.concat(frames, ignore_index=True)
    return pairs.drop_duplicates("pair_id").reset_index(drop=True)[list(PAIR_COLUMNS)]


def _parallel(part: pd.DataFrame, n: int, rng: np.random.Generator, tau: float) -> pd.DataFrame:
    """Up to ``n`` (unit, language, other language) pairs, spread evenly over units."""
    by_unit = [g.index.to_numpy() for _, g in part.groupby("unit_id", sort=True) if len(g) > 1]
    a, b = [], []
    if by_unit and n > 0:
        for k in rng.integers(0, len(by_unit), n):
            first, second = rng.choice(by_unit[k], 2, replace=False)
            a.append(first)
            b.append(second)
    return _rows("parallel", part, np.array(a, int), np.array(b, int), tau)
