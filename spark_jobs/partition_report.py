"""The curation run's one page for a partition (``report.html`` in its MLflow run).

What a reviewer reads first: each gate's result, the stage funnel with every drop and
quarantine reason, language and domain shares before and after sampling, quality
percentiles per language and criterion, and the sizes of the dedup clusters. Everything is a
small aggregate of the lake's tables, computed on the driver's side of Spark.
"""

from __future__ import annotations

import datetime as dt
import json

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.utils import AnalysisException

from spark_jobs.delta_io import on_partition, read_table
from spark_jobs.mixture_report import PERCENTILES, composition
from thresher import tracking
from thresher.config import Settings
from thresher.jobs import CURATION
from thresher.report_page import ReportPage, shares
from thresher.tables import BRONZE_DOCUMENTS, GATE_RESULTS, SILVER_DEDUP, SILVER_QUALITY_SCORES

LABELS = [f"p{int(p * 100)}" for p in PERCENTILES]
# Stages in pipeline order; the accounting names them "<stage>[<source>]".
STAGE_ORDER = ("ingest", "dedup", "quality", "domains", "mixture")


def _stage_rank(name: str) -> tuple[int, str]:
    stage = name.partition("[")[0]
    return (STAGE_ORDER.index(stage) if stage in STAGE_ORDER else len(STAGE_ORDER), name)


def gate_rows(spark: SparkSession, settings: Settings, partition: dt.date) -> list[tuple]:
    """(gate, passed, detail) for every gate that ran on the partition, in stage order."""
    rows = {
        r["gate"]: r
        for r in read_table(spark, GATE_RESULTS, settings).where(on_partition(partition)).collect()
    }
    out = []
    gates = CURATION.gates
    for gate in [g for g in gates if g in rows] + sorted(set(rows) - set(gates)):
        row = rows[gate]
        failed = [
            r.get("expectation_config", {}).get("type", "?")
            for r in json.loads(row["report"]).get("results", [])
            if not r.get("success", True)
        ]
        detail = f"{row['evaluated']} expectations, {row['failed']} failed"
        out.append(
            (gate, bool(row["success"]), detail + (f": {', '.join(failed)}" if failed else ""))
        )
    return out


def quality_by_language(spark: SparkSession, settings: Settings, partition: dt.date) -> list[tuple]:
    """(criterion, language, documents, passed share, p10 … p90) of the partition's scores."""
    on_date = on_partition(partition)
    languages = read_table(spark, BRONZE_DOCUMENTS, settings).where(on_date)
    scores = read_table(spark, SILVER_QUALITY_SCORES, settings).where(on_date)
    grouped = (
        scores.join(
            languages.select("doc_id", "ingest_date", "language"), ["doc_id", "ingest_date"]
        )
        .groupBy("criterion", "language")
        .agg(
            F.count("*").alias("documents"),
            F.avg(F.col("passed").cast("double")).alias("passed"),
            F.percentile_approx("score", list(PERCENTILES), 10_000).alias("quantiles"),
        )
        .orderBy("criterion", "language")
    )
    return [
        (r["criterion"], r["language"], r["documents"], f"{r['passed']:.0%}", *r["quantiles"])
        for r in grouped.collect()
    ]


def cluster_sizes(spark: SparkSession, settings: Settings, partition: dt.date) -> list[tuple]:
    """(cluster size, clusters, documents): dedup clusters by their members in the partition."""
    decisions = read_table(spark, SILVER_DEDUP, settings).where(on_partition(partition))
    sizes = decisions.groupBy("cluster_id").agg(F.count("*").alias("size"))
    rows = sizes.groupBy("size").agg(F.count("*").alias("clusters")).orderBy("size").collect()
    return [(r["size"], r["clusters"], r["size"] * r["clusters"]) for r in rows]


def _mixture_composition(spark: SparkSession, settings: Settings) -> dict | None:
    try:
        return composition(spark, settings)
    except AnalysisException:  # no mixture (or no scores) yet: a stage run on its own
        return None


def partition_page(
    spark: SparkSession, settings: Settings, partition: dt.date, stats: dict
) -> ReportPage:
    """Build the page from the partition's statistics (``stage_stats.partition_statistics``)."""
    page = ReportPage(
        f"Curation of {partition.isoformat()}",
        f"Lake {settings.storage_root}; mixture '{settings.mixture.name}'. "
        "Counts are records of this partition; the mixture draws from every curated day.",
    )
    gates = gate_rows(spark, settings, partition)
    passed = sum(ok for _, ok, _ in gates)
    page.section("Gates", f"{passed} of {len(gates)} Great Expectations gates passed.")
    page.checks(gates)

    page.section("Stage funnel", "in = kept + dropped + quarantined at every stage.")
    stages = {name: stats["stages"][name] for name in sorted(stats["stages"], key=_stage_rank)}
    page.table(
        ("stage", "in", "kept", "dropped", "quarantined"),
        [
            (name, s["in"], s["kept"], sum(s["dropped"].values()), sum(s["quarantined"].values()))
            for name, s in stages.items()
        ],
    )
    reasons = [
        (name, category, reason, n)
        for name, s in stages.items()
        for category in ("dropped", "quarantined")
        for reason, n in sorted(s[category].items())
    ]
    page.section("Drop and quarantine reasons")
    if reasons:
        page.table(("stage", "outcome", "reason", "records"), reasons)
    else:
        page.text("No record was dropped or quarantined.")

    bronze = stats["bronze"]
    page.section(
        "Bronze", f"{bronze['documents']:,} documents, {bronze['characters']:,} characters"
    )
    language_shares = shares(bronze["languages"])
    page.table(
        ("language", "documents", "share"),
        [(k, v, f"{language_shares[k]:.1%}") for k, v in bronze["languages"].items()],
    )

    mix = _mixture_composition(spark, settings)
    for key in ("language", "domain"):
        page.section(
            f"Tokens by {key}, before and after sampling",
            "Before: every scored document the mixture could draw from; after: the mixture, "
            "each document counted with its copies.",
        )
        if mix is None:
            page.text("No mixture has been sampled yet.")
            continue
        rows = mix[f"by_{key}"]
        before = shares({k: r["before_tokens"] for k, r in rows.items()})
        after = shares({k: r["after_tokens"] for k, r in rows.items()})
        page.bars(
            {k: {"before sampling": before[k], "mixture": after[k]} for k in rows},
            ("before sampling", "mixture"),
        )

    page.section("Quality percentiles per language", "Scores of this partition's kept documents.")
    page.table(
        ("criterion", "language", "documents", "passed", *LABELS),
        quality_by_language(spark, settings, partition),
    )

    page.section("Dedup clusters", "Documents of this partition grouped by their representative.")
    page.table(("cluster size", "clusters", "documents"), cluster_sizes(spark, settings, partition))
    if stats.get("quarantine"):
        page.section("Quarantine")
        page.table(("reason", "records"), sorted(stats["quarantine"].items()))
    return page


def log_partition_report(
    spark: SparkSession, settings: Settings, partition: dt.date, mlflow_run_id: str, stats: dict
) -> str:
    """Build the partition's page and log it to the run as ``report.html``."""
    return tracking.log_report(
        settings, mlflow_run_id, partition_page(spark, settings, partition, stats)
    )
