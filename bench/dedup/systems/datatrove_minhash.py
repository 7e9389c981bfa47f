"""datatrove: its four MinHash stages (signatures, buckets, clusters, filter), 2 tasks.

Setup (not timed): the corpus is split into two parquet files, because datatrove's readers
shard by file and one file would leave the second task idle. Timed: the four stages, then
reading the ids the filter wrote: the documents it removed plus the kept ones that carry a
cluster id (every document in a cluster of two or more gets one).
"""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import pyarrow.parquet as pq

from bench.dedup.systems import SystemRun

TASKS = 2
WORKERS = 2


def split_corpus(corpus: Path, folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    table = pq.read_table(corpus, columns=["doc_id", "text"])
    half = (table.num_rows + 1) // 2
    for part in range(TASKS):
        pq.write_table(table.slice(part * half, half), folder / f"part-{part}.parquet")
    return table.num_rows


def removed_adapter(self, document) -> dict:
    return {"id": document.id}


def kept_adapter(self, document) -> dict:
    return {"id": document.id, "cluster": document.metadata.get("minhash_cluster_id", -1)}


def read_ids(folder: Path, only_clustered: bool) -> set[str]:
    ids = set()
    for path in folder.glob("*.jsonl*"):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt") as lines:
            for line in lines:
                row = json.loads(line)
                if not only_clustered or row.get("cluster", -1) != -1:
                    ids.add(row["id"])
    return ids


def run(corpus: Path, work: Path) -> SystemRun:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.readers import ParquetReader
    from datatrove.pipeline.writers import JsonlWriter

    shards = work / "input"
    docs = split_corpus(corpus, shards)
    config = MinhashConfig(n_grams=5)  # default layout: 14 buckets x 8 hashes, 64-bit xxhash

    def reader():
        return ParquetReader(
            str(shards), text_key="text", id_key="doc_id", glob_pattern="*.parquet"
        )

    def executor(pipeline, tasks, workers, name, depends=None):
        return LocalPipelineExecutor(
            pipeline=pipeline,
            tasks=tasks,
            workers=workers,
            logging_dir=str(work / "logs" / name),
            depends=depends,
        )

    started = time.perf_counter()
    signatures = executor(
        [reader(), MinhashDedupSignature(output_folder=str(work / "signatures"), config=config)],
        TASKS,
        WORKERS,
        "signatures",
    )
    buckets = executor(
        [
            MinhashDedupBuckets(
                input_folder=str(work / "signatures"),
                output_folder=str(work / "buckets"),
                config=config,
            )
        ],
        config.num_buckets,
        WORKERS,
        "buckets",
        signatures,
    )
    clusters = executor(
        [
            MinhashDedupCluster(
                input_folder=str(work / "buckets"),
                output_folder=str(work / "clusters"),
                config=config,
                save_cluster_id=True,
            )
        ],
        1,
        1,
        "clusters",
        buckets,
    )
    filtered = executor(
        [
            reader(),
            MinhashDedupFilter(
                input_folder=str(work / "clusters"),
                load_cluster_ids=True,
                exclusion_writer=JsonlWriter(
                    str(work / "removed"), compression=None, adapter=removed_adapter
                ),
            ),
            JsonlWriter(str(work / "kept"), compression=None, adapter=kept_adapter),
        ],
        TASKS,
        WORKERS,
        "filter",
        clusters,
    )
    filtered.run()
    flagged = read_ids(work / "removed", False) | read_ids(work / "kept", True)
    return SystemRun(
        flagged=flagged,
        docs=docs,
        wall_s=time.perf_counter() - started,
        processes=WORKERS + 1,
        notes=f"LocalPipelineExecutor tasks={TASKS} workers={WORKERS} (buckets stage: "
        f"{config.num_buckets} tasks, clusters: 1); default English word tokenizer (spaCy); "
        "no candidate verification",
        extra={
            "threshold_note": f"datatrove default {config.num_buckets} buckets x "
            f"{config.hashes_per_bucket} hashes = {config.num_buckets * config.hashes_per_bucket}"
            " permutations; its LSH threshold is about (1/14)^(1/8) = 0.72, not 0.8",
            "minhash_config": str(config),
        },
    )
