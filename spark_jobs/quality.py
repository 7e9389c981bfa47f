"""Quality annotations of one partition: rule scores and reference-classifier scores.

Scores the documents dedup kept (``silver.dedup.duplicate_of`` is null) and writes long rows to
``silver.quality_scores``, one per (document, criterion, version). Each criterion's rows for the
partition are replaced together (``replaceWhere`` on ingest_date, criterion and version), so a
re-run rewrites them and a new scorer or a new threshold set adds rows beside the old ones.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from spark_jobs import reference_classifier
from spark_jobs.dedup import kept_documents
from spark_jobs.delta_io import on_partition, read_table, replace_rows, rows_where
from thresher.config import QualitySettings, Settings
from thresher.tables import SILVER_QUALITY_SCORES
from thresher.text import quality_rules

log = logging.getLogger(__name__)

STAGE = "quality"
RULES = "rules"
CRITERIA = (RULES, reference_classifier.CRITERION)
RULE_SCHEMA = (
    "doc_id string, ingest_date date, score double, passed boolean, failed array<string>, "
    "details map<string, double>, tokens bigint"
)


def rule_rows(config: QualitySettings):
    """mapInPandas function: documents → rule score, pass flag, failing rules, measures, tokens."""

    def compute(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            scores, failures, details, tokens = [], [], [], []
            for text, language in zip(batch["text"], batch["language"], strict=True):
                values = quality_rules.rule_values(text, language)
                score, failed = quality_rules.evaluate(values, config)
                scores.append(score)
                failures.append(failed)
                details.append(values)
                tokens.append(quality_rules.token_count(text, language))
            yield pd.DataFrame(
                {
                    "doc_id": batch["doc_id"],
                    "ingest_date": batch["ingest_date"],
                    "score": pd.Series(scores, dtype="float64"),
                    "passed": pd.Series([not f for f in failures], dtype=bool),
                    # object columns: Arrow builds list and map values from Python objects
                    "failed": pd.Series(failures, dtype=object),
                    "details": pd.Series(details, dtype=object),
                    "tokens": pd.Series(tokens, dtype="int64"),
                }
            )

    return compute


def _write(spark, settings, partition, rows: DataFrame, criterion: str, version: str) -> None:
    rows = rows.withColumn("criterion", F.lit(criterion)).withColumn("version", F.lit(version))
    predicate = rows_where(partition, criterion=criterion, version=version)
    replace_rows(spark, SILVER_QUALITY_SCORES, settings, rows, predicate)


def run(
    spark: SparkSession,
    settings: Settings,
    partition: dt.date,
    criteria: tuple[str, ...] = CRITERIA,
) -> dict:
    """Score ``partition`` on ``criteria``; return counts and versions (what XCom carries)."""
    unknown = set(criteria) - set(CRITERIA)
    if unknown:
        raise ValueError(f"unknown criteria {sorted(unknown)}; known: {CRITERIA}")
    config = settings.quality
    # loaded first: a missing model fails the task before any write
    if reference_classifier.CRITERION in criteria:
        model, metadata = reference_classifier.load_reference_classifier(spark, settings)
    docs = kept_documents(spark, settings, partition).persist()
    # the rule pass also counts every document's tokens, which all criteria carry
    rules = docs.mapInPandas(rule_rows(config), RULE_SCHEMA).persist()
    summary: dict = {"partition": partition.isoformat(), "quality.documents": rules.count()}
    try:
        if RULES in criteria:
            version = quality_rules.rules_version(config)
            _write(spark, settings, partition, rules, RULES, version)
            summary["quality.rules.version"] = version
            summary["quality.rules.passed"] = rules.where("passed").count()
        if reference_classifier.CRITERION in criteria:
            probability = reference_classifier.reference_probability(model, docs)
            scored = probability.join(rules.select("doc_id", "tokens"), "doc_id").select(
                "doc_id",
                "ingest_date",
                F.col("probability").alias("score"),
                (F.col("probability") >= config.classifier_threshold).alias("passed"),
                F.lit(None).cast("array<string>").alias("failed"),
                F.create_map(F.lit("probability"), "probability").alias("details"),
                "tokens",
            )
            version = metadata["version"]
            _write(spark, settings, partition, scored, reference_classifier.CRITERION, version)
            name = f"quality.{reference_classifier.CRITERION}"
            summary[f"{name}.version"] = version
            summary[f"{name}.holdout_auc"] = metadata["holdout_auc"]
            summary[f"{name}.passed"] = (
                read_table(spark, SILVER_QUALITY_SCORES, settings)
                .where(on_partition(partition))
                .where(
                    (F.col("criterion") == reference_classifier.CRITERION)
                    & (F.col("version") == version)
                    & F.col("passed")
                )
                .count()
            )
    finally:
        rules.unpersist()
        docs.unpersist()
    log.info("quality %s: %s", partition, summary)
    return summary
