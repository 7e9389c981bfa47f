"""Synthetic parallel documents whose 'embedding' carries their unit's quality."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from thresher.config import MuRatingSettings
from thresher.murating.embeddings import DIM, EmbeddingCache

LANGUAGES = ("en", "de", "zh")


@pytest.fixture
def judged_docs() -> pd.DataFrame:
    """24 units × 3 languages with a unified score; units 18.. held out."""
    rows = []
    for u in range(24):
        for language in LANGUAGES:
            rows.append(
                {
                    "doc_key": f"u{u}/{language}",
                    "unit_id": f"u{u}",
                    "language": language,
                    "source": "synthetic",
                    "text": f"document {u} in {language}",
                    "score": (u % 8) / 2.0 - 2.0,
                    "split": "held_out" if u >= 18 else "train",
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture
def quality_cache(judged_docs) -> EmbeddingCache:
    """An in-memory cache: a noisy quality direction plus a per-language offset, unit norm,
    keyed as the settings' encoder runtime keys them."""
    rng = np.random.default_rng(0)
    cache = EmbeddingCache(None, max_chars=256, runtime=MuRatingSettings().encoder_runtime)
    direction = rng.normal(size=DIM)
    offsets = {language: rng.normal(size=DIM) for language in LANGUAGES}
    for row in judged_docs.itertuples():
        vector = row.score * direction + offsets[row.language] + 0.3 * rng.normal(size=DIM)
        cache.vectors[cache.key(row.text)] = (vector / np.linalg.norm(vector)).astype(np.float32)
    return cache
