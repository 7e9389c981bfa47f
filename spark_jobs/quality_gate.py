"""Great Expectations gates on one partition: ``bronze.documents`` and ``silver.dedup``.

A gate validates the partition's Spark DataFrame in place (GX's Spark execution engine,
no collect to the driver), stores the full validation result in ``ops.gate_results``, and
raises ``GateFailed`` with the failed expectations spelled out when the data is not fit for
the next stage, which stops the DAG's downstream tasks.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import uuid
from dataclasses import dataclass
from functools import lru_cache

from pyspark.sql import DataFrame, SparkSession

from spark_jobs.delta_io import on_partition, partition_predicate, read_table, replace_rows
from thresher.config import Settings
from thresher.tables import BRONZE_DOCUMENTS, GATE_RESULTS, SILVER_DEDUP

log = logging.getLogger(__name__)

BRONZE_GATE = "bronze_documents"
DEDUP_GATE = "silver_dedup"
DOC_ID_LENGTH = 32


class GateFailed(RuntimeError):
    """The data failed its quality gate; downstream stages must not run on it."""


@dataclass(frozen=True)
class GateReport:
    gate: str
    partition: dt.date
    success: bool
    evaluated: int
    failures: tuple[str, ...]
    result: dict

    def summary(self) -> str:
        head = f"gate {self.gate} on {self.partition}: "
        if self.success:
            return head + f"passed all {self.evaluated} expectations"
        failed = "\n  - ".join(self.failures)
        return head + f"{len(self.failures)} of {self.evaluated} expectations failed:\n  - {failed}"


@lru_cache(maxsize=1)
def gx_context():
    """One ephemeral GX context per process: suites and results live in our tables and MLflow."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    return context


def bronze_suite(settings: Settings):
    gx_context()  # GX builds suites only inside an active context
    import great_expectations as gx
    from great_expectations import expectations as gxe

    suite = gx.ExpectationSuite(name=BRONZE_GATE)
    columns = BRONZE_DOCUMENTS.schema.fieldNames()
    suite.add_expectation(gxe.ExpectTableColumnsToMatchSet(column_set=columns, exact_match=True))
    suite.add_expectation(gxe.ExpectTableRowCountToBeBetween(min_value=1))
    for field in BRONZE_DOCUMENTS.schema.fields:
        if not field.nullable:
            suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=field.name))
    suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column="doc_id"))
    suite.add_expectation(gxe.ExpectColumnValueLengthsToEqual(column="doc_id", value=DOC_ID_LENGTH))
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeInSet(column="language", value_set=list(settings.languages))
    )
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(
            column="n_chars",
            min_value=settings.ingest.min_text_chars,
            max_value=settings.ingest.max_text_chars,
        )
    )
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(
            column="language_score", min_value=settings.ingest.min_language_score, max_value=1.0
        )
    )
    return suite


def validate(frame: DataFrame, suite, partition: dt.date) -> GateReport:
    """Run ``suite`` on a Spark DataFrame with GX's Spark engine."""
    batch = (
        gx_context()
        .data_sources.add_or_update_spark(f"{suite.name}_source")
        .add_dataframe_asset(f"{suite.name}_{uuid.uuid4().hex[:8]}")
        .add_batch_definition_whole_dataframe("partition")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    result = batch.validate(suite)
    failures = tuple(
        _describe(r.expectation_config.type, r.expectation_config.kwargs, r.result)
        for r in result.results
        if not r.success
    )
    return GateReport(
        gate=suite.name,
        partition=partition,
        success=bool(result.success),
        evaluated=len(result.results),
        failures=failures,
        result=result.to_json_dict(),
    )


def _describe(kind: str, kwargs: dict, result: dict) -> str:
    args = ", ".join(
        f"{k}={v!r}" for k, v in kwargs.items() if k not in ("batch_id", "column_set") and v
    )
    text = f"{kind}({args})"
    if result.get("unexpected_count"):
        text += f": {result['unexpected_count']} unexpected"
        sample = result.get("partial_unexpected_list") or []
        if sample:
            text += f", e.g. {sample[:5]}"
    elif "observed_value" in result:
        text += f": observed {result['observed_value']!r}"
    return text


def dedup_suite(documents: int):
    """Every bronze document of the partition has exactly one well-formed decision."""
    gx_context()
    import great_expectations as gx
    from great_expectations import expectations as gxe

    suite = gx.ExpectationSuite(name=DEDUP_GATE)
    suite.add_expectation(gxe.ExpectTableRowCountToEqual(value=documents))
    suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column="doc_id"))
    for column in ("doc_id", "cluster_id"):
        suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column))
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeInSet(column="method", value_set=["exact", "near"])
    )
    return suite


def run(
    spark: SparkSession, settings: Settings, partition: dt.date, gate: str = BRONZE_GATE
) -> GateReport:
    """Validate the partition, record the result in ``ops.gate_results``, return the report."""
    bronze = read_table(spark, BRONZE_DOCUMENTS, settings).where(on_partition(partition))
    if gate == BRONZE_GATE:
        frame, suite = bronze, bronze_suite(settings)
    elif gate == DEDUP_GATE:
        decisions = read_table(spark, SILVER_DEDUP, settings).where(on_partition(partition))
        frame, suite = decisions, dedup_suite(bronze.count())
    else:
        raise ValueError(f"unknown gate {gate!r}; known: {BRONZE_GATE}, {DEDUP_GATE}")
    report = validate(frame, suite, partition)
    row = (
        partition,
        gate,
        report.success,
        report.evaluated,
        len(report.failures),
        json.dumps(report.result, default=str),
    )
    replace_rows(
        spark,
        GATE_RESULTS,
        settings,
        spark.createDataFrame([row], GATE_RESULTS.schema),
        partition_predicate(partition, gate=gate),
    )
    log.info(report.summary())
    return report
