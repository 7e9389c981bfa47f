"""Exact ground truth: every pair of documents whose shingle sets have Jaccard >= 0.8.

Documents with identical shingle sets are grouped first (one representative each). Among
representatives, all pairs at or above the threshold are found exactly by prefix filtering:
shingles ordered by ascending global frequency, two sets can reach Jaccard t only if they
share one of their first ``|x| - ceil(t|x|) + 1`` shingles (the "blocks"); a length filter
drops impossible candidates and every survivor is verified by exact intersection. A seeded
sample of documents is then compared with *all* documents to count what blocking missed.
A document "is duplicate" iff some other document reaches the threshold with it.
"""

from __future__ import annotations

import json
import logging
import time
from multiprocessing import Pool

import numpy as np
import pandas as pd
import xxhash
from scipy import sparse

from bench.dedup import shingles
from bench.dedup.corpus import OUT

log = logging.getLogger(__name__)

SAMPLE_SIZE = 300
SAMPLE_SEED = 20240601
VERIFY_CHUNK = 20_000


def _hashes(job: tuple[str, str]) -> np.ndarray:
    return shingles.shingle_hashes(*job)


def shingle_matrix(sets: list[np.ndarray]) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Documents × distinct shingles (0/1), and each column's shingle frequency."""
    sizes = np.fromiter((s.size for s in sets), np.int64, len(sets))
    flat = np.concatenate(sets)
    _, columns, counts = np.unique(flat, return_inverse=True, return_counts=True)
    indptr = np.concatenate([[0], np.cumsum(sizes)])
    data = np.ones(flat.size, dtype=np.float32)  # float32 sums count exactly below 2^24
    matrix = sparse.csr_matrix((data, columns.astype(np.int32), indptr), (len(sets), counts.size))
    return matrix, counts


def prefix_candidates(matrix: sparse.csr_matrix, counts: np.ndarray) -> np.ndarray:
    """Row pairs ``(a, b)``, a < b, sharing a shingle of their frequency-ordered prefixes."""
    rank = np.empty(counts.size, dtype=np.int64)
    rank[np.lexsort((np.arange(counts.size), counts))] = np.arange(counts.size)
    sizes = np.diff(matrix.indptr)
    owner = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), sizes)
    # Rows stay in order, each row's shingles sorted rarest first (one int64 key, one sort).
    order = np.argsort((owner << 32) | rank[matrix.indices])
    position = np.arange(owner.size) - matrix.indptr[owner]
    prefix = sizes - np.ceil(shingles.THRESHOLD * sizes - 1e-9).astype(np.int64) + 1
    keep = order[position < prefix[owner]]
    del order, position
    token_then_doc = np.sort((rank[matrix.indices[keep]] << 32) | owner[keep])
    tok, doc = token_then_doc >> 32, token_then_doc & 0xFFFFFFFF
    starts = np.flatnonzero(np.concatenate([[True], tok[1:] != tok[:-1]]))
    lengths = np.diff(np.concatenate([starts, [tok.size]]))
    keys = []
    for k in np.unique(lengths[lengths > 1]):
        groups = doc[starts[lengths == k][:, None] + np.arange(k)[None, :]]
        i, j = np.triu_indices(k, 1)
        keys.append((groups[:, i].ravel() << 32) | groups[:, j].ravel())
    if not keys:
        return np.zeros((0, 2), dtype=np.int64)
    unique = np.unique(np.concatenate(keys))
    pairs = np.stack([unique >> 32, unique & 0xFFFFFFFF], axis=1)
    small = np.minimum(sizes[pairs[:, 0]], sizes[pairs[:, 1]])
    large = np.maximum(sizes[pairs[:, 0]], sizes[pairs[:, 1]])
    return pairs[small >= shingles.THRESHOLD * large - 1e-9]


def verified_pairs(matrix: sparse.csr_matrix, pairs: np.ndarray) -> np.ndarray:
    """The candidate pairs whose exact Jaccard reaches the threshold."""
    sizes = np.diff(matrix.indptr)
    kept = []
    for start in range(0, len(pairs), VERIFY_CHUNK):
        a, b = pairs[start : start + VERIFY_CHUNK, 0], pairs[start : start + VERIFY_CHUNK, 1]
        shared = np.asarray(matrix[a].multiply(matrix[b]).sum(axis=1)).ravel()
        similarity = shared / (sizes[a] + sizes[b] - shared)
        kept.append(pairs[start : start + VERIFY_CHUNK][similarity >= shingles.THRESHOLD - 1e-12])
    return np.concatenate(kept) if kept else np.zeros((0, 2), dtype=np.int64)


def missed_in_sample(
    matrix: sparse.csr_matrix, found: np.ndarray, rows: np.ndarray, weight: np.ndarray
) -> tuple[int, int]:
    """Documents at the threshold with a sampled row by brute force, and how many of them
    ``found`` lacks. Rows are representatives, each counting as its ``weight`` documents."""
    sizes = np.diff(matrix.indptr)
    shared = (matrix[rows] @ matrix.T).tocoo()
    sample_rows, others = rows[shared.row], shared.col
    union = sizes[sample_rows] + sizes[others] - shared.data
    hit = (shared.data / union >= shingles.THRESHOLD - 1e-12) & (sample_rows != others)
    known = set(map(tuple, np.sort(found, axis=1).tolist()))
    seen = missed = 0
    for a, b in zip(sample_rows[hit].tolist(), others[hit].tolist(), strict=True):
        seen += int(weight[b])
        if (min(a, b), max(a, b)) not in known:
            missed += int(weight[b])
    return seen, missed


def build(size: str, corpus: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Per-document labels and the ground-truth facts; cached per corpus size."""
    labels_path, facts_path = OUT / f"truth-{size}.parquet", OUT / f"truth-{size}.json"
    if labels_path.exists() and facts_path.exists():
        return pd.read_parquet(labels_path), json.loads(facts_path.read_text())
    started = time.perf_counter()
    with Pool(2) as pool:
        jobs = zip(corpus["text"], corpus["language"], strict=True)
        sets = pool.map(_hashes, jobs, chunksize=64)
    keys = [xxhash.xxh3_128_hexdigest(s.tobytes()) for s in sets]
    group = pd.factorize(pd.Series(keys))[0]
    group_size = np.bincount(group)
    reps = pd.Series(np.arange(len(sets))).groupby(group).first().to_numpy()
    matrix, counts = shingle_matrix([sets[i] for i in reps])
    candidates = prefix_candidates(matrix, counts)
    found = verified_pairs(matrix, candidates)
    near = np.zeros(len(reps), dtype=bool)
    near[found.ravel()] = True
    is_duplicate = (group_size[group] > 1) | near[group]
    true_pairs = int((group_size * (group_size - 1) // 2).sum())
    true_pairs += int((group_size[found[:, 0]] * group_size[found[:, 1]]).sum())
    truth_s = time.perf_counter() - started

    rng = np.random.default_rng(SAMPLE_SEED)
    sample = rng.choice(len(sets), size=min(SAMPLE_SIZE, len(sets)), replace=False)
    seen, missed = missed_in_sample(matrix, found, np.unique(group[sample]), group_size)
    labels = pd.DataFrame({"doc_id": corpus["doc_id"], "is_duplicate": is_duplicate})
    facts = {
        "threshold": shingles.THRESHOLD,
        "shingles": shingles.DEFINITION,
        "true_duplicate_docs": int(is_duplicate.sum()),
        "true_pairs": true_pairs,
        "exact_set_groups": int((group_size > 1).sum()),
        "candidate_pairs": int(len(candidates)),
        "verified_near_pairs": int(len(found)),
        "sample_size": int(len(sample)),
        "sample_near_partners": seen,
        "missed_by_blocking_in_sample": missed,
        "truth_s": round(truth_s, 1),
        "sample_check_s": round(time.perf_counter() - started - truth_s, 1),
        "prefix_filter": "frequency-ascending order, prefix |x| - ceil(0.8|x|) + 1, length filter",
    }
    labels.to_parquet(labels_path, index=False)
    facts_path.write_text(json.dumps(facts, indent=2))
    log.info("truth %s: %s", size, facts)
    return labels, facts
