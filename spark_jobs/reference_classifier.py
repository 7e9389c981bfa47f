"""DCLM-style quality classifier: reference text versus random crawl, as a Spark ML pipeline.

Positives are curated reference text (by default the NTREX-128 news documents and XQuAD
Wikipedia paragraphs in ``../shared/data``), negatives a seeded random sample of bronze
documents. Features are hashed word uni- and bigrams (character uni- and bigrams for zh/ja/th),
L2-normalised, into a class-weighted logistic regression. The fitted ``PipelineModel`` is saved
under ``<storage_root>/models/reference_classifier/<version>`` with a metadata file (held-out AUC,
counts) and is applied in batch by ``reference_probability``: tokenising is SQL inside the
pipeline, so scoring runs in the JVM with no Python UDF.

Run ``python -m spark_jobs.reference_classifier`` to train with the environment's settings.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.ml.feature import HashingTF, NGram, Normalizer, SQLTransformer
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from spark_jobs.delta_io import read_table
from spark_jobs.domain_model import METADATA, save_model
from thresher.config import Settings
from thresher.languages import CHARACTER_LANGUAGES, NTREX_TO_ISO
from thresher.tables import BRONZE_DOCUMENTS

log = logging.getLogger(__name__)

CRITERION = "reference_classifier"
NTREX_CODES = NTREX_TO_ISO  # NTREX-128 file codes → bronze.documents.language
_LETTERS = r"\\p{L}\\p{M}\\p{N}"  # as written inside a Spark SQL string literal
_CHARACTER_LANGUAGES = ", ".join(f"'{c}'" for c in sorted(CHARACTER_LANGUAGES))
TOKENIZE = (
    "SELECT *, CASE WHEN language IN ("
    + _CHARACTER_LANGUAGES
    + f") THEN filter(split(lower(text), ''), c -> c rlike '^[{_LETTERS}]$') "
    f"ELSE filter(split(lower(text), '[^{_LETTERS}]+'), w -> w != '') END AS tokens "
    "FROM __THIS__"
)


def reference_root(settings: Settings) -> Path:
    configured = settings.quality.reference_path or os.environ.get("THRESHER_SHARED_DATA")
    return Path(configured or Path(__file__).resolve().parents[2] / "shared" / "data")


def model_path(settings: Settings, version: str | None = None) -> str:
    version = version or settings.quality.classifier_version
    return f"{settings.storage_root.rstrip('/')}/models/{CRITERION}/{version}"


def reference_texts(root: Path, languages: tuple[str, ...]) -> list[tuple[str, str]]:
    """(text, language) pairs: NTREX documents, XQuAD paragraphs, and ``*.jsonl`` under root."""
    out: list[tuple[str, str]] = []
    ntrex = root / "ntrex"
    if (ntrex / "DOCUMENT_IDS.tsv").is_file():
        ids = (ntrex / "DOCUMENT_IDS.tsv").read_text(encoding="utf-8").splitlines()
        for code, language in NTREX_CODES.items():
            path = ntrex / f"newstest2019-ref.{code}.txt"
            if language not in languages or not path.is_file():
                continue
            docs: dict[str, list[str]] = {}
            lines = path.read_text(encoding="utf-8").splitlines()
            for doc_id, line in zip(ids, lines, strict=True):
                docs.setdefault(doc_id, []).append(line)
            out += [("\n".join(body), language) for body in docs.values()]
    for language in languages:
        path = root / "xquad" / f"xquad.{language}.json"
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            out += [(p["context"], language) for a in data["data"] for p in a["paragraphs"]]
    for path in sorted(root.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record.get("language") in languages and record.get("text"):
                out.append((record["text"], record["language"]))
    return out


def build_pipeline(settings: Settings) -> Pipeline:
    config = settings.quality
    return Pipeline(
        stages=[
            SQLTransformer(statement=TOKENIZE),
            NGram(n=2, inputCol="tokens", outputCol="bigrams"),
            SQLTransformer(statement="SELECT *, concat(tokens, bigrams) AS terms FROM __THIS__"),
            HashingTF(inputCol="terms", outputCol="counts", numFeatures=config.classifier_features),
            Normalizer(inputCol="counts", outputCol="features", p=2.0),
            LogisticRegression(
                featuresCol="features",
                labelCol="label",
                weightCol="weight",
                maxIter=config.classifier_max_iter,
                regParam=config.classifier_reg_param,
            ),
        ]
    )


def training_set(spark: SparkSession, settings: Settings, negatives: DataFrame) -> DataFrame:
    """Labelled, class-balanced (by weight) rows with a deterministic ``holdout`` flag."""
    config = settings.quality
    texts = reference_texts(reference_root(settings), settings.languages)
    if not texts:
        raise FileNotFoundError(
            f"no reference text for {settings.languages} under {reference_root(settings)} "
            "(set THRESHER_QUALITY_REFERENCE_PATH)"
        )
    positives = spark.createDataFrame(texts, "text string, language string")
    sample = (
        negatives.select("text", "language", "doc_id")
        .orderBy(F.xxhash64(F.lit(config.seed), "doc_id"))  # a seeded random sample
        .limit(config.classifier_negatives)
        .drop("doc_id")
    )
    rows = positives.withColumn("label", F.lit(1.0)).unionByName(
        sample.withColumn("label", F.lit(0.0))
    )
    counts = {r["label"]: r["count"] for r in rows.groupBy("label").count().collect()}
    if len(counts) < 2:
        raise ValueError(f"need reference and bronze documents to train, got {counts}")
    total = sum(counts.values())
    weight = F.when(F.col("label") == 1.0, total / (2 * counts[1.0])).otherwise(
        total / (2 * counts[0.0])
    )
    bucket = F.pmod(F.xxhash64(F.lit(config.seed), "text", "label"), F.lit(1000))
    return rows.withColumn("weight", weight).withColumn(
        "holdout", bucket < int(1000 * config.classifier_holdout_fraction)
    )


def train_reference_classifier(
    spark: SparkSession, settings: Settings, negatives: DataFrame | None = None
) -> dict:
    """Fit, evaluate on the held-out split, save; return the model's metadata (AUC included)."""
    if negatives is None:
        negatives = read_table(spark, BRONZE_DOCUMENTS, settings)
    rows = training_set(spark, settings, negatives).persist()
    try:
        train, held_out = rows.where(~F.col("holdout")), rows.where("holdout")
        model = build_pipeline(settings).fit(train)
        evaluator = BinaryClassificationEvaluator(labelCol="label", metricName="areaUnderROC")
        auc = evaluator.evaluate(model.transform(held_out))
        count = {
            ("holdout_" if r["holdout"] else "train_")
            + ("positive" if r["label"] else "negative"): r["count"]
            for r in rows.groupBy("holdout", "label").count().collect()
        }
    finally:
        rows.unpersist()
    path = model_path(settings)
    metadata = {
        "criterion": CRITERION,
        "version": settings.quality.classifier_version,
        "path": path,
        "holdout_auc": auc,
        **count,
    }
    save_model(spark, model, path, metadata)
    log.info("reference classifier %s: held-out AUC %.4f", path, auc)
    return metadata


def load_reference_classifier(
    spark: SparkSession, settings: Settings
) -> tuple[PipelineModel, dict]:
    path = model_path(settings)
    try:
        model = PipelineModel.load(path)
    except Exception as exc:
        raise FileNotFoundError(
            f"no reference classifier at {path}: train it with "
            "`python -m spark_jobs.reference_classifier`"
        ) from exc
    metadata = json.loads(spark.read.text(f"{path}/{METADATA}").first()["value"])
    return model, metadata


def reference_probability(model: PipelineModel, docs: DataFrame) -> DataFrame:
    """``docs`` (doc_id, ingest_date, text, language) → (doc_id, ingest_date, probability)."""
    scored = model.transform(docs.select("doc_id", "ingest_date", "text", "language"))
    return scored.select(
        "doc_id",
        "ingest_date",
        vector_to_array("probability")[1].alias("probability"),
    )


if __name__ == "__main__":
    from spark_jobs.session import run_as_script

    run_as_script(train_reference_classifier)
