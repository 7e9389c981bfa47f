"""Domain of every document dedup kept in a partition, into ``silver.domains``.

``settings.domain.method`` picks the model: ``supervised`` applies the classifier trained by
``domain_model.train_domain_classifier`` (domain = its most probable label, confidence = that
probability); ``kmeans`` applies the saved clusters (domain = ``cluster_<i>`` of the nearest
centre, confidence = the distance margin ``1 - d_nearest / d_second``). Where no clusters are
saved yet under the configured version, the first partition classified fits them, so
``domain`` is defined without any labelled data and later partitions reuse the same centres.
``student`` (the default) applies the fast classifier distilled from the supervised one
(``domain_distillation``; the ``domain_student`` job trains it on the first partition), and
hands the documents it is least sure of to the supervised teacher: as many as its held-out
sample says it takes to agree with the teacher on ``domain.student_target_agreement`` of them.

A run replaces its partition's rows (``replaceWhere``), with the model version it used.

    python -m spark_jobs.domains labels                 # SIB-200 → silver.domain_labels
    python -m spark_jobs.domains train                  # fit + evaluate the classifier
    python -m spark_jobs.domains classify --date D      # one partition → silver.domains
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging

import numpy as np
import pandas as pd
from pyspark.ml import PipelineModel
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from spark_jobs import domain_distillation, domain_model
from spark_jobs.dedup import kept_documents
from spark_jobs.delta_io import on_partition, read_table, replace_rows, rows_where
from thresher.config import Settings
from thresher.tables import SILVER_DOMAINS

log = logging.getLogger(__name__)


def nearest_clusters(vectors: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centre by cosine distance, and the margin ``1 - d1 / d2`` to the second nearest.

    The margin is 1 at a centre and 0 halfway between two centres.
    """
    unit = centers / np.linalg.norm(centers, axis=1, keepdims=True)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    distances = 1.0 - (vectors / np.where(norms == 0, 1, norms)) @ unit.T
    order = np.argsort(distances, axis=1)
    rows = np.arange(len(vectors))
    nearest = distances[rows, order[:, 0]]
    if centers.shape[0] < 2:
        return order[:, 0], np.ones(len(vectors))
    second = distances[rows, order[:, 1]]
    margin = np.where(second > 0, 1.0 - nearest / np.where(second > 0, second, 1), 0.0)
    return order[:, 0], np.clip(margin, 0.0, 1.0)


def supervised_domains(model: PipelineModel, docs: DataFrame) -> DataFrame:
    scored = model.transform(docs)
    confidence = F.array_max(vector_to_array("probability"))
    return scored.select("doc_id", "ingest_date", "domain", confidence.alias("confidence"))


def cluster_domains(model: PipelineModel, docs: DataFrame) -> DataFrame:
    embedder, clusters = model.stages[0], model.stages[-1]
    centers = np.array([c.tolist() for c in clusters.clusterCenters()])

    @F.pandas_udf("cluster int, confidence double")
    def assign(features: pd.Series) -> pd.DataFrame:
        if features.empty:
            return pd.DataFrame({"cluster": [], "confidence": []})
        index, margin = nearest_clusters(np.stack(features.to_numpy()), centers)
        return pd.DataFrame({"cluster": index.astype("int32"), "confidence": margin})

    embedded = embedder.transform(docs).withColumn("assigned", assign(vector_to_array("features")))
    return embedded.select(
        "doc_id",
        "ingest_date",
        F.concat(F.lit("cluster_"), F.col("assigned.cluster").cast("string")).alias("domain"),
        F.col("assigned.confidence").alias("confidence"),
    )


def teacher_fallback(
    spark: SparkSession,
    settings: Settings,
    docs: DataFrame,
    assigned: DataFrame,
    threshold: float,
    teacher_path: str,
) -> tuple[DataFrame, int]:
    """The student's rows at or above ``threshold`` confidence, and its E5 teacher's
    (``method = supervised``) for the documents below it; and how many those are."""
    assigned = assigned.localCheckpoint()  # the student's labels, computed once
    unsure = docs.join(assigned.where(F.col("confidence") < threshold).select("doc_id"), "doc_id")
    teacher, _ = domain_model.load_model(spark, settings, teacher_path)
    handed = supervised_domains(teacher, unsure).select(
        "*", F.lit(domain_model.SUPERVISED).alias("method")
    )
    kept = assigned.where(F.col("confidence") >= threshold)
    return kept.unionByName(handed), unsure.count()


def student_with_fallback(
    spark: SparkSession, settings: Settings, docs: DataFrame
) -> tuple[DataFrame, dict, dict]:
    """The saved student's rows of ``docs`` (one distilled on them first if none is saved),
    the teacher's where the student is unsure; its metadata; what was handed over."""
    path = domain_model.model_path(settings, domain_model.STUDENT)
    if not domain_model.model_exists(path):
        log.info("no student at %s: distilling one on this partition", path)
        domain_distillation.train_domain_student(spark, settings, docs)
    student, metadata = domain_distillation.load_student(spark, path)
    assigned = domain_distillation.student_domains(student, docs).select(
        "*", F.lit(domain_model.STUDENT).alias("method")
    )
    target = settings.domain.student_target_agreement
    threshold, plan = domain_distillation.fallback_plan(metadata, target)
    if target > 0 and plan is None:
        log.warning(
            "domain.student_target_agreement=%s ignored: the student at %s was saved without "
            "its held-out record; train one under a new domain.model_version",
            target,
            path,
        )
    fallback = {"target_agreement": target, "documents": 0, **(plan or {})}
    if threshold is not None:
        assigned, fallback["documents"] = teacher_fallback(
            spark, settings, docs, assigned, threshold, metadata["teacher"]
        )
    return assigned, metadata, fallback


def classify_domains(spark: SparkSession, settings: Settings, partition: dt.date) -> dict:
    """Write the partition's ``silver.domains`` rows; return counts per domain."""
    method = settings.domain.method
    # Embedding dominates the cost: spread the documents over every task slot.
    docs = kept_documents(spark, settings, partition).repartition(
        settings.spark.shuffle_partitions, "doc_id"
    )
    path = domain_model.model_path(settings, method)
    if method == domain_model.KMEANS and not domain_model.model_exists(path):
        log.info("no clusters at %s: fitting them on partition %s", path, partition)
        domain_model.train_domain_clusters(spark, settings, docs)
    fallback = None
    if method == domain_model.STUDENT:
        assigned, metadata, fallback = student_with_fallback(spark, settings, docs)
    else:
        model, metadata = domain_model.load_model(spark, settings, path)
        assign = supervised_domains if method == domain_model.SUPERVISED else cluster_domains
        assigned = assign(model, docs).select("*", F.lit(method).alias("method"))
    rows = assigned.select(
        "doc_id",
        "ingest_date",
        "domain",
        "confidence",
        F.lit(metadata["model_version"]).alias("model_version"),
        "method",
    )
    replace_rows(spark, SILVER_DOMAINS, settings, rows, rows_where(partition))
    written = read_table(spark, SILVER_DOMAINS, settings).where(on_partition(partition))
    per_domain = written.groupBy("domain").agg(
        F.count("*").alias("n"), F.avg("confidence").alias("confidence")
    )
    domains = {r["domain"]: r["n"] for r in per_domain.collect()}
    summary = {
        "partition": partition.isoformat(),
        "method": method,
        "model_version": metadata["model_version"],
        "documents": sum(domains.values()),
        "domains": dict(sorted(domains.items())),
    }
    if fallback is not None:
        summary["teacher_fallback"] = fallback
    log.info("domains %s: %s", partition, summary)
    return summary


def main(argv: list[str] | None = None) -> int:
    from spark_jobs.domain_labels import labelled_texts, load_sib200
    from spark_jobs.session import get_spark
    from thresher.partitions import parse_partition

    parser = argparse.ArgumentParser(prog="python -m spark_jobs.domains")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("labels", help="load SIB-200 into silver.domain_labels")
    sub.add_parser("train", help="train and evaluate the supervised domain classifier")
    classify = sub.add_parser("classify", help="write one partition's silver.domains")
    classify.add_argument("--date", required=True, type=parse_partition)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    settings = Settings.from_env()
    spark = get_spark(settings, f"thresher-domain-{args.command}")
    if args.command == "labels":
        result = load_sib200(spark, settings)
    elif args.command == "train":
        result = domain_model.train_domain_classifier(
            spark, settings, labelled_texts(spark, settings)
        )
    else:
        result = classify_domains(spark, settings, args.date)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
