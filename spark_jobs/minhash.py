"""MinHash over shingles, and LSH banding parameters. Pure numpy: no Spark, no per-shingle objects.

Shingles are word n-grams, or character n-grams for languages written without spaces
(zh, ja, th). Each token is hashed once with CRC-32 (deterministic across processes, unlike
Python's ``hash``); a shingle's hash is a polynomial over its tokens' hashes, computed for all
windows at once. A signature is, per permutation ``(a, b)``, the minimum of
``(a * h + b) mod p`` over the document's shingle hashes ``h`` (universal hashing with the
Mersenne prime 2^61 - 1, values kept to 32 bits as datasketch does).
"""

from __future__ import annotations

import re
import zlib
from functools import lru_cache

import numpy as np

MERSENNE_PRIME = np.uint64((1 << 61) - 1)
MAX_HASH = np.uint64((1 << 32) - 1)
# Languages whose text has no spaces between words: shingle characters, not words.
CHARACTER_LANGUAGES = frozenset({"zh", "ja", "th", "lo", "km", "my", "bo"})
_WORDS = re.compile(r"\w+", re.UNICODE)
_POLY_BASE = np.uint64(1_000_003)
SIGNATURE_CHUNK = 4096


def tokens(text: str, language: str) -> list[str]:
    text = text.lower()
    if language in CHARACTER_LANGUAGES:
        return [c for c in text if not c.isspace()]
    return _WORDS.findall(text)


def shingle_hashes(text: str, language: str, n: int) -> np.ndarray:
    """Sorted unique 32-bit hashes of the document's n-token shingles (one shingle if shorter)."""
    toks = tokens(text, language)
    if not toks:
        return np.zeros(0, dtype=np.uint32)
    token_hashes = np.fromiter((zlib.crc32(t.encode("utf-8")) for t in toks), np.uint64, len(toks))
    width = min(n, len(toks))
    windows = len(toks) - width + 1
    combined = np.zeros(windows, dtype=np.uint64)
    for k in range(width):  # h = sum_k token[i + k] * base^(width - 1 - k), wrapping in 64 bits
        combined = combined * _POLY_BASE + token_hashes[k : k + windows]
    folded = (combined ^ (combined >> np.uint64(32))) & MAX_HASH
    return np.unique(folded.astype(np.uint32))


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, int(MERSENNE_PRIME), size=num_perm, dtype=np.uint64)
    b = rng.integers(0, int(MERSENNE_PRIME), size=num_perm, dtype=np.uint64)
    return a, b


def signature(hashes: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """The MinHash signature (``num_perm`` uint32 values) of a set of shingle hashes."""
    if hashes.size == 0:
        return np.full(num_perm, MAX_HASH, dtype=np.uint32)
    a, b = permutations(num_perm, seed)
    result = np.full(num_perm, MAX_HASH, dtype=np.uint64)
    for start in range(0, hashes.size, SIGNATURE_CHUNK):  # bounded memory for long documents
        h = hashes[start : start + SIGNATURE_CHUNK].astype(np.uint64)[:, None]
        values = ((h * a[None, :] + b[None, :]) % MERSENNE_PRIME) & MAX_HASH
        np.minimum(result, values.min(axis=0), out=result)
    return result.astype(np.uint32)


def band_hashes(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One signed 64-bit hash per band: documents sharing a band hash are candidates."""
    view = sig[: bands * rows].astype(np.uint64).reshape(bands, rows)
    combined = np.zeros(bands, dtype=np.uint64)
    for k in range(rows):
        combined = combined * _POLY_BASE + view[:, k]
    combined ^= np.arange(bands, dtype=np.uint64) << np.uint64(56)  # bands never collide
    return combined.view(np.int64)


def _integrate(f, a: float, b: float, steps: int = 200) -> float:
    xs = np.linspace(a, b, steps + 1)
    return float(np.trapezoid(f(xs), xs))


@lru_cache(maxsize=64)
def lsh_parameters(
    threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5
) -> tuple[int, int]:
    """``(bands, rows)`` minimising the weighted false-positive and false-negative areas.

    With b bands of r rows, two documents of Jaccard s share a band with probability
    1 - (1 - s^r)^b; the false positives are the mass of that curve below ``threshold``,
    the false negatives the mass above it that it misses.
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    best, best_error = (1, num_perm), float("inf")
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):

            def candidate(s, b=bands, r=rows):
                return 1.0 - (1.0 - s**r) ** b

            fp = _integrate(candidate, 0.0, threshold)
            fn = _integrate(lambda s, c=candidate: 1.0 - c(s), threshold, 1.0)
            error = fp_weight * fp + fn_weight * fn
            if error < best_error:
                best, best_error = (bands, rows), error
    return best


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted unique hash arrays."""
    if a.size == 0 and b.size == 0:
        return 1.0
    shared = np.intersect1d(a, b, assume_unique=True).size
    return shared / (a.size + b.size - shared)
