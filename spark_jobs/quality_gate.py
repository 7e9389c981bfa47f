"""Great Expectations gates between the curation stages, one partition at a time.

A gate validates the partition's Spark DataFrame in place (GX's Spark execution engine,
no collect to the driver), stores the full validation result in ``ops.gate_results``, and
raises ``GateFailed`` with the failed expectations spelled out when the data is not fit for
the next stage, which stops the DAG's downstream tasks.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from dataclasses import dataclass
from functools import lru_cache

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from spark_jobs import gate_suites as suites
from spark_jobs.delta_io import on_partition, read_table, replace_rows, rows_where
from spark_jobs.quality import CRITERIA as QUALITY_CRITERIA
from thresher.config import Settings
from thresher.tables import (
    BRONZE_DOCUMENTS,
    GATE_RESULTS,
    SILVER_DEDUP,
    SILVER_DOMAINS,
    SILVER_QUALITY_SCORES,
    mixture_table,
)

log = logging.getLogger(__name__)

BRONZE_GATE = "bronze_documents"
DEDUP_GATE = "silver_dedup"
QUALITY_GATE = "silver_quality_scores"
DOMAINS_GATE = "silver_domains"
# The mixture spans every date; its gate is recorded under the run's partition.
MIXTURE_GATE = "gold_mixture"
GATES = (BRONZE_GATE, DEDUP_GATE, QUALITY_GATE, DOMAINS_GATE, MIXTURE_GATE)


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
def validate(frame: DataFrame, suite, partition: dt.date) -> GateReport:
    """Run ``suite`` on a Spark DataFrame with GX's Spark engine."""
    batch = (
        suites.gx_context()
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


def gate_frame(spark: SparkSession, settings: Settings, partition: dt.date, gate: str):
    """The DataFrame a gate validates, and the suite it must satisfy."""
    on_date = on_partition(partition)
    bronze = read_table(spark, BRONZE_DOCUMENTS, settings).where(on_date)
    if gate == BRONZE_GATE:
        return bronze, suites.bronze_suite(gate, settings)
    decisions = read_table(spark, SILVER_DEDUP, settings).where(on_date)
    if gate == DEDUP_GATE:
        return decisions, suites.dedup_suite(gate, bronze.count())
    kept = decisions.where(F.col("duplicate_of").isNull()).count()
    if gate == QUALITY_GATE:
        scores = read_table(spark, SILVER_QUALITY_SCORES, settings).where(on_date)
        return scores, suites.quality_suite(gate, list(QUALITY_CRITERIA), kept)
    if gate == DOMAINS_GATE:
        domains = read_table(spark, SILVER_DOMAINS, settings).where(on_date)
        return domains, suites.domains_suite(gate, kept)
    if gate == MIXTURE_GATE:
        mixture = read_table(spark, mixture_table(settings.mixture.name), settings)
        mixture = mixture.withColumn("mixture_tokens", F.col("tokens") * F.col("copies"))
        largest = 0
        if settings.mixture.budget_tokens:
            pool = read_table(spark, SILVER_QUALITY_SCORES, settings)
            largest = pool.agg(F.max("tokens")).first()[0] or 0
        suite = suites.mixture_suite(gate, settings.mixture.budget_tokens, largest)
        return mixture, suite
    raise ValueError(f"unknown gate {gate!r}; known: {', '.join(GATES)}")


def run(
    spark: SparkSession, settings: Settings, partition: dt.date, gate: str = BRONZE_GATE
) -> GateReport:
    """Validate the partition, record the result in ``ops.gate_results``, return the report."""
    frame, suite = gate_frame(spark, settings, partition, gate)
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
        rows_where(partition, gate=gate),
    )
    log.info(report.summary())
    return report
