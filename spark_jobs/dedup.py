"""Deduplication of one partition: exact (same normalised text) and MinHash-LSH near-duplicates.

For partition D:
1. MinHash signatures of D's bronze documents, banded for LSH, go to ``silver.minhash``.
2. D's documents are compared with each other and with the documents *kept* in earlier
   partitions (``ingest_date < D``): never with later ones, so a backfill of an old date
   makes the same decisions as its first run.
3. Candidates (same text hash, or a shared band) are verified by exact Jaccard of their
   shingle sets (JVM array functions), and the verified pairs are clustered by connected
   components: distributed, or on the driver up to ``dedup.driver_components_max_edges``.
4. Every document of D gets a decision in ``silver.dedup``: its cluster and, unless it is the
   cluster's representative (earliest ``ingest_date``, then smallest ``doc_id``), the
   representative it duplicates and that one's date. Nothing is deleted.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

import numpy as np
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from spark_jobs.connected_components import connected_components
from spark_jobs.delta_io import on_partition, read_table, replace_rows, rows_where
from thresher.accounting import StageCounts
from thresher.config import DedupSettings, Settings
from thresher.tables import BRONZE_DOCUMENTS, SILVER_DEDUP, SILVER_MINHASH
from thresher.text import minhash

log = logging.getLogger(__name__)

STAGE = "dedup"
EXACT, NEAR = "exact", "near"
SIGNATURE_SCHEMA = (
    "doc_id string, ingest_date date, content_sha256 string, bands array<bigint>, "
    "shingles array<int>"
)


def signature_rows(config: DedupSettings):
    """mapInArrow function: documents → LSH band hashes and shingle hashes, as Arrow lists
    built on the numpy arrays (no Python object per document on the way back)."""
    import pyarrow as pa

    bands, rows = minhash.lsh_parameters(
        config.threshold,
        config.num_perm,
        fp_weight=1.0 - config.false_negative_weight,
        fn_weight=config.false_negative_weight,
    )

    def compute(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            hashes, offsets = minhash.batch_shingles(
                batch.column("text").to_pylist(),
                batch.column("language").to_pylist(),
                config.shingle_words,
                config.shingle_chars,
            )
            signatures = minhash.signatures(
                hashes, offsets, config.num_perm, config.seed, config.signature_scheme
            )
            banded = minhash.band_hashes(signatures, bands, rows)
            band_offsets = np.arange(0, banded.size + 1, bands, dtype=np.int32)
            yield pa.RecordBatch.from_arrays(
                [
                    batch.column("doc_id"),
                    batch.column("ingest_date"),
                    batch.column("content_sha256"),
                    pa.ListArray.from_arrays(band_offsets, banded.reshape(-1)),
                    pa.ListArray.from_arrays(offsets.astype(np.int32), hashes.view(np.int32)),
                ],
                names=["doc_id", "ingest_date", "content_sha256", "bands", "shingles"],
            )

    return compute


def candidate_pairs(pool: DataFrame, max_bucket_pairs: int) -> DataFrame:
    """``(a, b)`` document nodes sharing a text hash or an LSH band, at least one of them new.

    Each bucket is gathered once, sorted by node name. A bucket of up to
    ``max_bucket_pairs`` documents yields all its pairs; a larger one (boilerplate pages)
    links every member to its first, keeping the pair count linear.
    """
    member = F.struct("name", "node", "is_new")
    # 64-bit keys: a text's hash beside its band hashes (a collision between the two only adds
    # a candidate, which verification removes)
    by_text = pool.select(member.alias("m"), F.xxhash64("content_sha256").alias("key"))
    by_band = pool.select(member.alias("m"), F.explode("bands").alias("key"))
    buckets = (
        by_text.unionByName(by_band)
        .groupBy("key")
        .agg(F.sort_array(F.collect_list("m")).alias("members"))
        .where((F.size("members") > 1) & F.exists("members", lambda m: m["is_new"]))
    )
    members, size = F.col("members"), F.size("members")

    def pair(x, y):
        return F.struct(
            x["node"].alias("a"), y["node"].alias("b"), (x["is_new"] | y["is_new"]).alias("new")
        )

    all_pairs = F.flatten(
        F.transform(
            members, lambda x, i: F.transform(F.slice(members, i + 2, size), lambda y: pair(x, y))
        )
    )
    star = F.transform(F.slice(members, 2, size), lambda y: pair(members[0], y))
    pairs = buckets.select(
        F.explode(F.when(size <= max_bucket_pairs, all_pairs).otherwise(star)).alias("p")
    )
    return pairs.where("p.new").select("p.a", "p.b").distinct()


def verified_edges(pool: DataFrame, pairs: DataFrame, threshold: float) -> DataFrame:
    """Candidate pairs whose exact shingle Jaccard reaches ``threshold`` (as src/dst edges)."""
    left = pool.select(
        F.col("node").alias("a"),
        F.col("shingles").alias("sa"),
        F.col("content_sha256").alias("ha"),
    )
    right = pool.select(
        F.col("node").alias("b"),
        F.col("shingles").alias("sb"),
        F.col("content_sha256").alias("hb"),
    )
    joined = pairs.join(left, "a").join(right, "b")
    shared = F.size(F.array_intersect("sa", "sb"))
    union = F.size(F.array_union("sa", "sb"))
    similarity = F.when(F.col("ha") == F.col("hb"), F.lit(1.0)).otherwise(shared / union)
    return joined.where(similarity >= threshold).select(
        F.col("a").alias("src"), F.col("b").alias("dst")
    )


def decide(pool: DataFrame, edges: DataFrame, driver_max_edges: int = 0) -> DataFrame:
    """A decision per new document: its cluster's representative, and whether it is one."""
    components = connected_components(edges, driver_max_edges=driver_max_edges)
    members = pool.select("node", "doc_id", "ingest_date", "content_sha256", "is_new")
    members = members.join(components, "node", "left").withColumn(
        "component", F.coalesce("component", "node")
    )
    order = F.struct("ingest_date", "doc_id", "content_sha256", "node")
    reps = members.groupBy("component").agg(F.min(order).alias("rep"))
    decided = members.where("is_new").join(reps, "component")
    is_rep = F.col("rep.node") == F.col("node")
    same_text = F.col("rep.content_sha256") == F.col("content_sha256")
    return decided.select(
        "doc_id",
        "ingest_date",
        F.col("rep.doc_id").alias("cluster_id"),
        F.when(~is_rep, F.col("rep.doc_id")).alias("duplicate_of"),
        F.when(~is_rep, F.col("rep.ingest_date")).alias("duplicate_of_date"),
        F.when(is_rep, F.lit(None))
        .when(same_text, F.lit(EXACT))
        .otherwise(F.lit(NEAR))
        .alias("method"),
    )


def run(spark: SparkSession, settings: Settings, partition: dt.date) -> tuple[StageCounts, dict]:
    """Deduplicate ``partition``; return its accounting and cluster-size distribution."""
    config = settings.dedup
    on_date = on_partition(partition)
    docs = read_table(spark, BRONZE_DOCUMENTS, settings).where(on_date)
    signatures = docs.select(
        "doc_id", "ingest_date", "content_sha256", "text", "language"
    ).mapInArrow(signature_rows(config), SIGNATURE_SCHEMA)
    replace_rows(spark, SILVER_MINHASH, settings, signatures, rows_where(partition))

    minhashes = read_table(spark, SILVER_MINHASH, settings)
    earlier = F.col("ingest_date") < F.lit(partition).cast("date")
    kept_before = (
        read_table(spark, SILVER_DEDUP, settings)
        .where(earlier & F.col("duplicate_of").isNull())
        .select("doc_id", "ingest_date")
    )
    # A document is a node per (date, doc_id), named "date/doc_id": the same page re-crawled
    # on a later date has the same doc_id, and is a duplicate of its earlier self. Nodes are
    # also numbered (unique 64-bit ids, fixed once the pool is persisted) so that pairs,
    # joins and components shuffle longs; the names alone order a bucket, so decisions do
    # not depend on how the numbers fell.
    minhashes = minhashes.withColumn(
        "name", F.concat_ws("/", F.col("ingest_date").cast("string"), "doc_id")
    )
    pool = (
        minhashes.where(on_date)
        .withColumn("is_new", F.lit(True))
        .unionByName(
            minhashes.join(kept_before, ["doc_id", "ingest_date"]).withColumn(
                "is_new", F.lit(False)
            )
        )
        .withColumn("node", F.monotonically_increasing_id())
        .persist()
    )
    try:
        edges = verified_edges(
            pool, candidate_pairs(pool, config.max_bucket_pairs), config.threshold
        )
        decisions = decide(pool, edges, config.driver_components_max_edges).persist()
        replace_rows(spark, SILVER_DEDUP, settings, decisions, rows_where(partition))
        tally = {r["method"]: r["count"] for r in decisions.groupBy("method").count().collect()}
        sizes = cluster_sizes(decisions)
        decisions.unpersist()
    finally:
        pool.unpersist()
    dropped = {f"{m}_duplicate": n for m, n in tally.items() if m is not None}
    counts = StageCounts(STAGE, sum(tally.values()), tally.get(None, 0), dropped).check()
    log.info("dedup %s: %s", partition, counts)
    return counts, sizes


def kept_documents(spark: SparkSession, settings: Settings, partition: dt.date) -> DataFrame:
    """``doc_id, ingest_date, text, language`` of the partition's documents dedup kept."""
    on_date = on_partition(partition)
    kept = (
        read_table(spark, SILVER_DEDUP, settings)
        .where(on_date & F.col("duplicate_of").isNull())
        .select("doc_id", "ingest_date")
    )
    docs = read_table(spark, BRONZE_DOCUMENTS, settings).where(on_date)
    return docs.join(kept, ["doc_id", "ingest_date"]).select(
        "doc_id", "ingest_date", "text", "language"
    )


def cluster_sizes(decisions: DataFrame) -> dict[int, int]:
    """How many clusters of each size the partition's decisions form (size → clusters)."""
    per_cluster = decisions.groupBy("cluster_id").count()
    return {
        r["count"]: r["n"]
        for r in per_cluster.groupBy("count").agg(F.count("*").alias("n")).collect()
    }
