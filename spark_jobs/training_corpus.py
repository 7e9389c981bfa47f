"""Mixture → training corpus: the selected documents' text, copies and a held-out split.

The pretraining task runs in a GPU pod without a JVM; this Spark job does the join it would
otherwise need and writes one Delta table it reads with ``deltalake``.
"""

from __future__ import annotations

import logging

from pyspark.sql import Column, SparkSession
from pyspark.sql import functions as F

from spark_jobs.delta_io import is_delta_table, last_version, read_table, rebuild_table
from thresher.config import Settings
from thresher.tables import BRONZE_DOCUMENTS, corpus_table, mixture_table

log = logging.getLogger(__name__)

# Hash buckets out of 10,000 that are held out: a document's split never depends on the run.
HOLDOUT_BUCKETS = 10_000


def split_column(holdout: float) -> Column:
    """``validation`` for a fixed ``holdout`` share of doc_id hashes, else ``train``."""
    bucket = F.pmod(F.xxhash64("doc_id"), F.lit(HOLDOUT_BUCKETS))
    return F.when(bucket < int(holdout * HOLDOUT_BUCKETS), "validation").otherwise("train")


def build(
    spark: SparkSession, settings: Settings, name: str | None = None, holdout: float = 0.05
) -> dict:
    if not 0 <= holdout < 1:
        raise ValueError(f"holdout must be in [0, 1), got {holdout}")
    name = name or settings.mixture.name
    source = mixture_table(name)
    source_path = source.path(settings)
    if not is_delta_table(spark, source_path):
        raise FileNotFoundError(
            f"{source.qualified_name} does not exist at {source_path}: run the curation DAG "
            "(or `thresher mixture`) first"
        )
    mixture_version = last_version(spark, source_path)
    mixture = spark.read.format("delta").option("versionAsOf", mixture_version).load(source_path)
    documents = read_table(spark, BRONZE_DOCUMENTS, settings).select(
        "ingest_date", "doc_id", "text", "language"
    )
    corpus = (
        mixture.select("ingest_date", "doc_id", "domain", "tokens", "copies")
        .join(documents, ["ingest_date", "doc_id"], "inner")
        .withColumn("split", split_column(holdout))
    )
    metadata = {"mixture": source.qualified_name, "mixture_version": mixture_version}
    spec = corpus_table(name)
    path = rebuild_table(spark, spec, settings, corpus, metadata)
    per_split = (
        spark.read.format("delta")
        .load(path)
        .groupBy("split")
        .agg(F.count("*").alias("docs"), F.sum(F.col("tokens") * F.col("copies")).alias("tokens"))
    )
    counts = {row["split"]: (row["docs"], row["tokens"]) for row in per_split.collect()}
    selected = mixture.count()
    train_docs, train_tokens = counts.get("train", (0, 0))
    held_docs, held_tokens = counts.get("validation", (0, 0))
    summary = {
        "corpus": spec.qualified_name,
        "corpus.path": path,
        "corpus.mixture_version": mixture_version,
        "corpus.train_documents": train_docs,
        "corpus.train_tokens": int(train_tokens or 0),
        "corpus.validation_documents": held_docs,
        "corpus.validation_tokens": int(held_tokens or 0),
        # a mixture row without its bronze document would be silently lost: count it
        "corpus.missing_text": selected - train_docs - held_docs,
    }
    if summary["corpus.missing_text"]:
        raise ValueError(
            f"{summary['corpus.missing_text']} documents of {source.qualified_name} have no "
            f"text in {BRONZE_DOCUMENTS.qualified_name}: {summary}"
        )
    log.info("training corpus %s", summary)
    return summary
