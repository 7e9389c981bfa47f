"""The bronze gate passes clean partitions and names what is wrong with bad ones."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pyspark.sql import functions as F

from spark_jobs import gate_suites, quality_gate
from spark_jobs.delta_io import read_table, replace_rows, rows_where
from spark_jobs.stages import gate
from tests.corpus import table_frame
from thresher import tracking
from thresher.jobs import JobContext
from thresher.tables import BRONZE_DOCUMENTS, GATE_RESULTS

DAY = dt.date(2026, 11, 20)
TEXT = "Ein ganz gewöhnlicher Absatz über das Wetter in Berlin. " * 5


def doc(doc_id: str, language: str = "de", text: str = TEXT, score: float = 0.97) -> tuple:
    return (
        doc_id,
        DAY,
        "web",
        f"https://x/{doc_id}",
        f"page-{doc_id}.html",
        "html",
        "Titel",
        text,
        "0" * 64,
        language,
        score,
        len(text),
        len(text.encode()),
        "trafilatura 2",
    )


def write_bronze(spark, settings, rows):
    frame = table_frame(spark, BRONZE_DOCUMENTS, rows)
    replace_rows(spark, BRONZE_DOCUMENTS, settings, frame, rows_where(DAY))


def test_clean_partition_passes_and_the_result_is_stored(spark, settings):
    write_bronze(spark, settings, [doc("a" * 32), doc("b" * 32, "fr")])
    report = quality_gate.run(spark, settings, DAY)
    assert report.success, report.summary()
    assert report.evaluated >= 10
    stored = read_table(spark, GATE_RESULTS, settings).collect()
    assert [(r["gate"], r["success"], r["failed"]) for r in stored] == [
        ("bronze_documents", True, 0)
    ]
    assert json.loads(stored[0]["report"])["success"] is True


def test_bad_partition_fails_naming_each_broken_expectation(spark, settings):
    rows = [doc("a" * 32), doc("a" * 32), doc("c" * 32, language="xx"), doc("short", text="kurz")]
    report = quality_gate.validate(
        table_frame(spark, BRONZE_DOCUMENTS, rows),
        gate_suites.bronze_suite(quality_gate.BRONZE_GATE, settings),
        DAY,
    )
    assert not report.success
    failed = "\n".join(report.failures)
    assert "expect_column_values_to_be_unique" in failed
    assert "expect_column_values_to_be_in_set" in failed and "'xx'" in failed
    assert "expect_column_value_lengths_to_equal" in failed
    assert "expect_column_values_to_be_between(column='n_chars'" in failed
    assert len(report.failures) == 4


def test_an_empty_partition_fails(spark, settings):
    report = quality_gate.run(spark, settings, DAY)
    assert not report.success
    assert any("expect_table_row_count_to_be_between" in f for f in report.failures)


def test_failing_gate_stage_raises_and_marks_the_mlflow_run_failed(spark, settings):
    write_bronze(spark, settings, [doc("a" * 32, language="xx")])
    run_id = tracking.open_run(settings, "test/gate")
    with pytest.raises(quality_gate.GateFailed, match="gate bronze_documents on 2026-11-20: 1 of"):
        gate(JobContext(settings, DAY, run_id, {"gate": "bronze_documents"}))
    run = tracking.client(settings).get_run(run_id)
    assert run.info.status == "FAILED"
    assert run.data.metrics["gate.bronze_documents.success"] == 0.0
    artifacts = [a.path for a in tracking.client(settings).list_artifacts(run_id, "gates")]
    assert artifacts == ["gates/bronze_documents.json"]


def test_later_gates_name_bad_scores_missing_domains_and_a_blown_budget(spark):
    from thresher.tables import SILVER_DOMAINS, SILVER_QUALITY_SCORES, mixture_table

    def score(doc_id, criterion, value):
        return (doc_id, DAY, criterion, "v1", value, True, [], {}, 100)

    scores = spark.createDataFrame(
        [score("a", "rules", 0.5), score("a", "rules", 0.5), score("b", "rules", 1.5)],
        SILVER_QUALITY_SCORES.schema,
    )
    report = quality_gate.validate(
        scores, gate_suites.quality_suite(quality_gate.QUALITY_GATE, ["rules"], 3), DAY
    )
    failed = "\n".join(report.failures)
    assert "expect_compound_columns_to_be_unique" in failed  # "a" scored twice
    assert "expect_column_values_to_be_between(column='score'" in failed  # 1.5
    assert len(report.failures) == 2

    domains = spark.createDataFrame(
        [("a", DAY, "sports", 0.9, "v1", "supervised")], SILVER_DOMAINS.schema
    )
    report = quality_gate.validate(
        domains, gate_suites.domains_suite(quality_gate.DOMAINS_GATE, 2), DAY
    )
    assert [f.split("(")[0] for f in report.failures] == ["expect_table_row_count_to_equal"]

    def chosen(doc_id, tokens, copies):
        return (doc_id, DAY, "all", tokens, 0.1, 0.2, 1.5, copies, "p1", 1, {"silver.x": 3})

    mixture = spark.createDataFrame(
        [chosen("a", 600, 2), chosen("b", 100, 1)], mixture_table("default").schema
    ).withColumn("mixture_tokens", F.col("tokens") * F.col("copies"))
    # 1,300 tokens: a budget of 1,000 is missed by more than the largest document (200)
    over = gate_suites.mixture_suite(quality_gate.MIXTURE_GATE, 1000, largest_document=200)
    report = quality_gate.validate(mixture, over, DAY)
    assert [f.split("(")[0] for f in report.failures] == ["expect_column_sum_to_be_between"]
    under = gate_suites.mixture_suite(quality_gate.MIXTURE_GATE, 1600, largest_document=200)
    assert not quality_gate.validate(mixture, under, DAY).success
    within = gate_suites.mixture_suite(quality_gate.MIXTURE_GATE, 1000, largest_document=600)
    assert quality_gate.validate(mixture, within, DAY).success


def test_a_gate_task_log_keeps_gx_import_chatter_out():
    """GX logs ~200 INFO lines as it is imported: a fresh process (as an Airflow task is)
    that opens the gates' context logs none of them."""
    import subprocess
    import sys

    script = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.INFO, stream=sys.stdout, format='%(name)s')\n"
        "from spark_jobs.gate_suites import gx_context\n"
        "gx_context()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert "great_expectations._docs_decorators" not in out  # its "Skipping registering"
    assert len(out.splitlines()) < 10, out[:500]
