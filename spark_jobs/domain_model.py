"""Domain models over multilingual embeddings: a supervised classifier, or KMeans clusters.

Both are Spark ML ``PipelineModel``s whose first stage is the ``TextEmbedder`` (so a saved
model embeds documents exactly as it was trained), saved under
``<model_path>/<method>/<version>`` with a ``thresher_metadata`` JSON beside the stages.

- ``supervised``: multinomial logistic regression on the embeddings of a labelled table
  (text, language, label, split), fitted on ``split = 'train'`` and measured per language on
  ``split = 'dev'``. The encoder is multilingual, so every language's examples teach every
  other language: SIB-200's 18 parallel train splits are fitted together.
- ``kmeans``: for corpora without labels, ``k`` clusters (cosine distance) of a seeded sample
  of documents; a document's domain is its nearest centre, ``cluster_<i>``.
"""

from __future__ import annotations

import json
import logging
import time
import uuid

from pyspark.ml import PipelineModel
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.clustering import KMeans
from pyspark.ml.feature import IndexToString, StringIndexer
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from spark_jobs.text_embeddings import TextEmbedder
from thresher import object_store
from thresher.config import Settings
from thresher.text.e5 import ENCODER_NAME

log = logging.getLogger(__name__)

SUPERVISED, KMEANS, STUDENT = "supervised", "kmeans", "student"
METADATA = "thresher_metadata"


def model_path(settings: Settings, method: str | None = None, version: str | None = None) -> str:
    config = settings.domain
    root = config.model_path or f"{settings.storage_root.rstrip('/')}/models/domain"
    return f"{root.rstrip('/')}/{method or config.method}/{version or config.model_version}"


def save_model(spark: SparkSession, model: PipelineModel, path: str, metadata: dict) -> bool:
    """Save ``model`` and its metadata at ``path`` whole or not at all (``save_files``)."""
    return save_files(spark, lambda staging: model.write().save(staging), path, metadata)


def save_files(spark: SparkSession, write, path: str, metadata: dict) -> bool:
    """``write(staging)`` a model, add its metadata and rename it to ``path`` as one step: it
    is written beside the path first, so a reader (or a concurrent backfill training the
    same version) never sees half a model. Returns False when another run saved this version
    first (its model stays)."""
    jvm = spark.sparkContext._jvm
    staging = f"{path.rstrip('/')}.partial-{uuid.uuid4().hex[:12]}"
    write(staging)
    frame = spark.createDataFrame([(json.dumps(metadata),)], "value string").coalesce(1)
    frame.write.text(f"{staging}/{METADATA}")
    target, partial = jvm.org.apache.hadoop.fs.Path(path), jvm.org.apache.hadoop.fs.Path(staging)
    fs = target.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    fs.mkdirs(target.getParent())
    if not fs.exists(target) and fs.rename(partial, target):
        return True
    fs.delete(partial, True)
    log.info("%s was saved by another run first; keeping that one", path)
    return False


def model_exists(path: str) -> bool:
    """Whether a whole model is saved at ``path`` (its metadata is written last), asked
    without Spark."""
    return object_store.path_exists(f"{path}/{METADATA}")


def load_metadata(spark: SparkSession, path: str) -> dict:
    if not model_exists(path):
        raise FileNotFoundError(f"no domain model at {path}")
    return json.loads(spark.read.text(f"{path}/{METADATA}").first()["value"])


def load_model(spark: SparkSession, settings: Settings, path: str) -> tuple[PipelineModel, dict]:
    """The saved model, its embedder run by the settings' encoder runtime (the same weights
    whichever ran when it was trained), and its metadata."""
    metadata = load_metadata(spark, path)
    model = PipelineModel.load(path)
    embedder = model.stages[0]
    if isinstance(embedder, TextEmbedder):
        embedder.set(embedder.encoderRuntime, settings.domain.encoder_runtime)
    return model, metadata


def accuracy_by_language(predictions: DataFrame) -> dict[str, float]:
    """Share of rows whose ``domain`` equals their ``label``, per ``language``."""
    per_language = predictions.groupBy("language").agg(
        F.avg((F.col("domain") == F.col("label")).cast("double")).alias("accuracy")
    )
    return {r["language"]: round(r["accuracy"], 4) for r in per_language.collect()}


def _model_record(settings: Settings, method: str, path: str) -> dict:
    """What every saved domain model's metadata starts with: which model, where, and what
    its embeddings read."""
    return {
        "method": method,
        "model_version": settings.domain.model_version,
        "model_path": path,
        "encoder": ENCODER_NAME,
        "max_chars": settings.domain.max_chars,
    }


def train_domain_classifier(spark: SparkSession, settings: Settings, labelled: DataFrame) -> dict:
    """Fit on ``labelled``'s train split, measure on its dev split, save; return the metrics.

    ``labelled`` has columns ``text, language, label, split``.
    """
    config = settings.domain
    started = time.perf_counter()
    train_labels = labelled.where(F.col("split") == "train")
    # Alphabetical, so the label order (and the model) does not depend on row order.
    indexer = StringIndexer(
        inputCol="label", outputCol="label_index", stringOrderType="alphabetAsc"
    ).fit(train_labels)
    embedder = TextEmbedder.from_settings(config)
    # Embedding dominates the cost: spread it over every task slot.
    spread = labelled.repartition(settings.spark.shuffle_partitions)
    embedded = embedder.transform(spread).persist()
    try:
        rows = {r["split"]: r["count"] for r in embedded.groupBy("split").count().collect()}
        embedded_at = time.perf_counter()
        train = indexer.transform(embedded.where(F.col("split") == "train"))
        classifier = LogisticRegression(
            featuresCol="features",
            labelCol="label_index",
            family="multinomial",
            regParam=config.reg_param,
            maxIter=config.max_iter,
        ).fit(train)
        to_label = IndexToString(inputCol="prediction", outputCol="domain", labels=indexer.labels)
        fitted_at = time.perf_counter()
        dev = PipelineModel(stages=[classifier, to_label]).transform(
            embedded.where(F.col("split") == "dev")
        )
        accuracy = accuracy_by_language(dev) if rows.get("dev") else {}
    finally:
        embedded.unpersist()
    path = model_path(settings, SUPERVISED)
    metrics = {
        **_model_record(settings, SUPERVISED, path),
        "labels": list(indexer.labels),
        "rows": rows,
        "accuracy_by_language": dict(sorted(accuracy.items())),
        "macro_accuracy": round(sum(accuracy.values()) / len(accuracy), 4) if accuracy else None,
        "min_accuracy": min(accuracy.values(), default=None),
        "embedding_seconds": round(embedded_at - started, 1),
        "embedding_docs_per_second": round(sum(rows.values()) / (embedded_at - started), 1),
        "training_seconds": round(fitted_at - embedded_at, 1),
    }
    save_model(spark, PipelineModel(stages=[embedder, classifier, to_label]), path, metrics)
    log.info("domain classifier %s: macro accuracy %s", path, metrics["macro_accuracy"])
    return metrics


def train_domain_clusters(spark: SparkSession, settings: Settings, documents: DataFrame) -> dict:
    """Fit ``k`` KMeans clusters on a seeded sample of ``documents`` (a ``text`` column); save."""
    config = settings.domain
    started = time.perf_counter()
    total = documents.count()
    sample = documents.select("text")
    if total > config.kmeans_sample:
        sample = sample.sample(fraction=config.kmeans_sample / total, seed=config.seed)
    embedder = TextEmbedder.from_settings(config)
    embedded = embedder.transform(sample.repartition(settings.spark.shuffle_partitions)).persist()
    try:
        fitted = embedded.count()
        if fitted < config.k:
            raise ValueError(f"{fitted} documents cannot make {config.k} clusters")
        clusters = KMeans(
            featuresCol="features", k=config.k, seed=config.seed, distanceMeasure="cosine"
        ).fit(embedded)
        sizes = clusters.summary.clusterSizes
    finally:
        embedded.unpersist()
    path = model_path(settings, KMEANS)
    metadata = {
        **_model_record(settings, KMEANS, path),
        "k": config.k,
        "documents": fitted,
        "cluster_sizes": list(sizes),
        "training_seconds": round(time.perf_counter() - started, 1),
    }
    save_model(spark, PipelineModel(stages=[embedder, clusters]), path, metadata)
    log.info("domain clusters %s: %d documents, sizes %s", path, fitted, sizes)
    return metadata
