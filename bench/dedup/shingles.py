"""The benchmark's shingles: lowercase word 5-grams (character 5-grams for unspaced scripts).

The same convention as Thresher (``thresher.text.minhash``): tokens are ``\\w+`` runs of the
lowercased text, or its non-space characters for zh/ja/th/lo/km/my/bo; a document shorter
than ``N`` tokens is one shingle. Ground truth and the peers that take shingles from us
(datasketch, rensa) use these functions; datatrove and Thresher shingle for themselves.
"""

from __future__ import annotations

import re

import numpy as np
import xxhash

from thresher.languages import CHARACTER_LANGUAGES

N = 5
THRESHOLD = 0.8
DEFINITION = (
    "lowercase \\w+ word 5-grams; character 5-grams of non-space characters for "
    "zh/ja/th/lo/km/my/bo; a document of fewer than 5 tokens is one shingle"
)
_WORDS = re.compile(r"\w+", re.UNICODE)


def tokens(text: str, language: str) -> list[str]:
    text = text.lower()
    if language in CHARACTER_LANGUAGES:
        return [c for c in text if not c.isspace()]
    return _WORDS.findall(text)


def shingle_set(text: str, language: str) -> set[str]:
    """The document's distinct shingles, each as its tokens joined by one space."""
    toks = tokens(text, language)
    if len(toks) < N:
        return {" ".join(toks)}
    return {" ".join(toks[i : i + N]) for i in range(len(toks) - N + 1)}


def shingle_hashes(text: str, language: str) -> np.ndarray:
    """Sorted unique 64-bit hashes (xxh3) of the document's shingles."""
    shingles = shingle_set(text, language)
    hashes = np.fromiter(
        (xxhash.xxh3_64_intdigest(s.encode("utf-8")) for s in shingles), np.uint64, len(shingles)
    )
    return np.unique(hashes)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted unique hash arrays."""
    shared = np.intersect1d(a, b, assume_unique=True).size
    return shared / (a.size + b.size - shared)
