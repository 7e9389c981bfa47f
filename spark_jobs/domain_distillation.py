"""The fast domain classifier (``thresher.text.domain_student``) learnt from the E5 one, in Spark.

``domain.method = "student"``: the E5 classifier (``domain_model.train_domain_classifier``,
saved under ``supervised/<version>``) is the teacher. The first partition classified without
a saved student trains one: the teacher labels a seeded sample of its kept documents
(``domain.student_sample``), the student learns from the teacher's probabilities on most of
them and from the gold train labels of ``silver.domain_labels``, and is measured before it is
saved: agreement with the teacher on the sample's held-out documents, macro accuracy on the
labels' dev split beside the teacher's. Later partitions reuse it, as KMeans reuses its
centres. Applying it is a tokeniser and a table look-up per document (no encoder).

The student is saved as one ``.npz`` in a one-row Parquet table under
``<model_path>/student/<version>`` (so it goes wherever the lake goes, S3 included), with the
same ``thresher_metadata`` and all-or-nothing save as the other domain models.
"""

from __future__ import annotations

import io
import logging
import time

import numpy as np
import pandas as pd
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from spark_jobs import domain_model
from spark_jobs.domain_labels import labelled_texts
from thresher.config import Settings
from thresher.stats import wilson
from thresher.text import domain_student

log = logging.getLogger(__name__)

STUDENT_TABLE = "student"


def teacher_probabilities(spark: SparkSession, settings: Settings, docs: DataFrame):
    """``(doc_ids, texts, probabilities, labels)`` of ``docs`` by the saved E5 classifier."""
    model, metadata = domain_model.load_model(
        spark, settings, domain_model.model_path(settings, domain_model.SUPERVISED)
    )
    scored = model.transform(docs.select("doc_id", "text"))
    rows = scored.select("doc_id", "text", vector_to_array("probability").alias("p")).collect()
    probabilities = np.array([r["p"] for r in rows]).reshape(len(rows), len(metadata["labels"]))
    return [r["doc_id"] for r in rows], [r["text"] for r in rows], probabilities, metadata


def held_out(doc_ids: list[str], fraction: float, seed: int) -> np.ndarray:
    """A seeded choice of documents kept out of training to measure agreement."""
    order = np.random.default_rng(seed).permutation(len(doc_ids))
    mask = np.zeros(len(doc_ids), bool)
    mask[order[: int(round(fraction * len(doc_ids)))]] = True
    return mask


def macro_accuracy(predicted: list[str], gold: list[str], languages: list[str]) -> dict:
    frame = pd.DataFrame({"ok": np.array(predicted) == np.array(gold), "language": languages})
    per_language = frame.groupby("language")["ok"].mean().round(4).to_dict()
    return {
        "accuracy_by_language": per_language,
        "macro_accuracy": round(float(np.mean(list(per_language.values()))), 4)
        if per_language
        else None,
    }


def train_domain_student(spark: SparkSession, settings: Settings, docs: DataFrame) -> dict:
    """Distil the saved E5 classifier into a student on a sample of ``docs``; save it."""
    config = settings.domain
    started = time.perf_counter()
    total = docs.count()
    sample = docs
    if total > config.student_sample:
        sample = docs.sample(fraction=config.student_sample / total, seed=config.seed)
    doc_ids, texts, probabilities, teacher = teacher_probabilities(
        spark, settings, sample.repartition(settings.spark.shuffle_partitions)
    )
    labelled_at = time.perf_counter()
    labels = tuple(teacher["labels"])
    testing = held_out(doc_ids, config.student_holdout_fraction, config.seed)
    gold = labelled_texts(spark, settings).toPandas()
    gold = gold[gold["label"].isin(labels)]
    train_gold, dev = gold[gold["split"] == "train"], gold[gold["split"] == "dev"]
    targets = np.vstack(
        [probabilities[~testing], np.eye(len(labels))[train_gold["label"].map(labels.index)]]
    )
    training_texts = [t for t, out in zip(texts, testing, strict=True) if not out]
    student = domain_student.fit(
        training_texts + train_gold["text"].tolist(),
        targets,
        labels,
        max_chars=config.max_chars,
        max_iter=config.max_iter,
    )
    fitted_at = time.perf_counter()
    test_texts = [t for t, out in zip(texts, testing, strict=True) if out]
    predicted, confidence = student.predict(test_texts)
    teacher_says = [labels[i] for i in probabilities[testing].argmax(axis=1)]
    agrees = np.array(predicted) == np.array(teacher_says)
    agreement = float(agrees.mean()) if predicted else None
    dev_predicted, _ = student.predict(dev["text"].tolist())
    dev_scores = macro_accuracy(dev_predicted, dev["label"].tolist(), dev["language"].tolist())
    path = domain_model.model_path(settings, domain_model.STUDENT)
    metadata = {
        "method": domain_model.STUDENT,
        "model_version": config.model_version,
        "model_path": path,
        "teacher": teacher["model_path"],
        "max_chars": config.max_chars,
        "labels": list(labels),
        "sample_documents": len(doc_ids),
        "held_out_documents": int(testing.sum()),
        "gold_train_rows": len(train_gold),
        "agreement_with_teacher": round(agreement, 4) if agreement is not None else None,
        # what the teacher-fallback threshold is chosen on (``fallback_plan``)
        "held_out": held_out_record(confidence, agrees, config.seed),
        **dev_scores,
        "teacher_macro_accuracy": teacher.get("macro_accuracy"),
        "labelling_seconds": round(labelled_at - started, 1),
        "training_seconds": round(fitted_at - labelled_at, 1),
    }
    save_student(spark, student, path, metadata)
    logged = ("sample_documents", "held_out_documents", "agreement_with_teacher", "macro_accuracy")
    log.info("domain student %s: %s", path, {k: metadata[k] for k in logged})
    return metadata


def held_out_record(confidence: np.ndarray, agrees: np.ndarray, seed: int) -> dict:
    """The student's confidence on each held-out document, whether it picked the teacher's
    label, and a seeded half of them (``calibration``) that a fallback threshold is chosen
    on; the other half measures it."""
    calibration = np.zeros(len(confidence), bool)
    calibration[
        np.random.default_rng(seed).permutation(len(confidence))[: len(confidence) // 2]
    ] = True
    return {
        "confidence": [round(float(c), 6) for c in confidence],
        "agrees": [bool(a) for a in agrees],
        "calibration": calibration.tolist(),
    }


def fallback_plan(metadata: dict, target: float) -> tuple[float | None, dict | None]:
    """The confidence below which documents go to the teacher so that student and teacher
    together agree with the teacher alone on at least ``target`` of the held-out calibration
    half, at the lower end of that agreement's 95% interval
    (``domain_student.fallback_threshold``), and what the threshold gives on the other half
    (agreement with its 95% interval, the share handed). ``(None, None)`` for a target of 0
    or a student saved without its held-out record."""
    record = metadata.get("held_out")
    if target <= 0 or not record or not record["confidence"]:
        return None, None
    confidence, agrees = np.array(record["confidence"]), np.array(record["agrees"], bool)
    calibration = np.array(record["calibration"], bool)
    threshold = domain_student.fallback_threshold(
        confidence[calibration], agrees[calibration], target
    )
    check = domain_student.fallback_check(confidence[~calibration], agrees[~calibration], threshold)
    if check["documents"]:
        check["agreement_95ci"] = wilson(check["agreeing"], check["documents"])
    plan = {
        "target_agreement": target,
        "threshold": threshold if threshold is None or np.isfinite(threshold) else "all",
        "calibration_documents": int(calibration.sum()),
        "check": check,
    }
    return threshold, plan


def save_student(spark: SparkSession, student, path: str, metadata: dict) -> bool:
    buffer = io.BytesIO()
    domain_student.save(student, buffer)
    frame = spark.createDataFrame([(bytearray(buffer.getvalue()),)], "npz binary")
    return domain_model.save_files(
        spark,
        lambda staging: frame.coalesce(1).write.parquet(f"{staging}/{STUDENT_TABLE}"),
        path,
        metadata,
    )


def load_student(spark: SparkSession, path: str):
    metadata = domain_model.load_metadata(spark, path)
    blob = spark.read.parquet(f"{path}/{STUDENT_TABLE}").first()["npz"]
    return domain_student.load(io.BytesIO(bytes(blob))), metadata


def student_domains(student, docs: DataFrame) -> DataFrame:
    """``doc_id, ingest_date, domain, confidence`` (the most probable label and its
    probability) of every document. The student (a few MB) is pickled with the function
    itself, so no SparkContext broadcast is needed (a Spark Connect client has none); a
    classic driver broadcasts a function that large on its own."""

    @F.pandas_udf("domain string, confidence double")
    def assign(texts: pd.Series) -> pd.DataFrame:
        labels, confidence = student.predict(texts.fillna("").tolist())
        return pd.DataFrame({"domain": labels, "confidence": confidence.astype("float64")})

    assigned = docs.withColumn("assigned", assign("text"))
    return assigned.select(
        "doc_id", "ingest_date", F.col("assigned.domain"), F.col("assigned.confidence")
    )
