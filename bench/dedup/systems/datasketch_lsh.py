"""datasketch: a MinHash per document, MinHashLSH insert then query; no verification."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
from datasketch import MinHash, MinHashLSH

from bench.dedup import shingles
from bench.dedup.systems import NUM_PERM, SEED, THRESHOLD, SystemRun


def run(corpus: Path, work: Path) -> SystemRun:
    started = time.perf_counter()
    frame = pd.read_parquet(corpus, columns=["doc_id", "text", "language"])
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    signatures = []
    for key, (text, language) in enumerate(zip(frame["text"], frame["language"], strict=True)):
        minhash = MinHash(num_perm=NUM_PERM, seed=SEED)
        minhash.update_batch([s.encode("utf-8") for s in shingles.shingle_set(text, language)])
        lsh.insert(key, minhash, check_duplication=False)
        signatures.append(minhash)
    flagged = {
        doc_id
        for key, (doc_id, minhash) in enumerate(zip(frame["doc_id"], signatures, strict=True))
        if any(other != key for other in lsh.query(minhash))
    }
    bands, rows = lsh.b, lsh.r
    return SystemRun(
        flagged=flagged,
        docs=len(frame),
        wall_s=time.perf_counter() - started,
        processes=1,
        notes=f"MinHashLSH {bands} bands x {rows} rows; LSH candidates are reported unverified",
    )
