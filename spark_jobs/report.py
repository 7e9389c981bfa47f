"""A plain-text account of what the lake holds for one partition, and where to look next."""

from __future__ import annotations

import datetime as dt

from spark_jobs.delta_io import on_partition, read_table
from spark_jobs.session import get_spark
from spark_jobs.stage_stats import partition_statistics
from thresher import tracking
from thresher.config import Settings
from thresher.tables import PARTITIONED_TABLES, mixture_table


def mixture_report(spark, settings: Settings) -> None:
    """The mixture across all dates: documents, copies and tokens, per domain."""
    from pyspark.sql import functions as F

    spec = mixture_table(settings.mixture.name)
    per_domain = (
        read_table(spark, spec, settings)
        .groupBy("domain")
        .agg(
            F.count("*").alias("documents"),
            F.sum("copies").alias("copies"),
            F.sum(F.col("tokens") * F.col("copies")).alias("tokens"),
        )
        .orderBy(F.desc("tokens"))
        .collect()
    )
    total = sum(r["tokens"] for r in per_domain)
    print(
        f"\n{spec.qualified_name}: {sum(r['documents'] for r in per_domain):,} documents, "
        f"{sum(r['copies'] for r in per_domain):,} copies, {total:,} tokens"
    )
    for r in per_domain:
        print(
            f"  {r['domain']:<28}{r['documents']:>8,} docs{r['copies']:>8,} copies"
            f"{r['tokens']:>12,} tokens"
        )


def print_report(settings: Settings, partition: dt.date) -> None:
    spark = get_spark(settings, "thresher-report")
    print(f"\nThresher lake at {settings.storage_root}, partition {partition}\n")
    print(f"{'table':<24}{'rows (all)':>12}{'rows (partition)':>18}  path")
    for spec in PARTITIONED_TABLES:
        frame = read_table(spark, spec, settings)
        total = frame.count()
        in_partition = frame.where(on_partition(partition)).count()
        print(f"{spec.qualified_name:<24}{total:>12,}{in_partition:>18,}  {spec.path(settings)}")

    stats = partition_statistics(spark, settings, partition)
    print("\nRecords per stage (in = kept + dropped + quarantined):")
    for stage, c in stats["stages"].items():
        print(f"  {stage}: in {c['in']:,}  kept {c['kept']:,}")
        for kind in ("dropped", "quarantined"):
            for reason, n in sorted(c[kind].items()):
                print(f"      {kind:<12} {reason:<26}{n:>8,}")
    bronze = stats["bronze"]
    print(
        f"\nbronze.documents: {bronze['documents']:,} documents, "
        f"{bronze['characters']:,} characters, {len(bronze['languages'])} languages"
    )
    print("  " + "  ".join(f"{k}:{v:,}" for k, v in bronze["languages"].items()))
    print("  formats: " + "  ".join(f"{k}:{v:,}" for k, v in bronze["formats"].items()))

    mixture_report(spark, settings)

    client = tracking.client(settings)
    runs = client.search_runs(
        [tracking.experiment_id(settings)],
        filter_string=f"tags.`thresher.partition` = '{partition.isoformat()}'",
        order_by=["attributes.start_time DESC"],
        max_results=5,
    )
    print(f"\nMLflow runs for {partition} (tracking URI {settings.tracking.tracking_uri}):")
    for run in runs:
        url = tracking.run_url(settings, run.info.run_id)
        print(f"  {run.info.run_name}  status={run.info.status}  {url}")
    print(
        "\nOpen the UIs on these same stores:\n"
        "  make airflow-ui   # Airflow at http://127.0.0.1:8080 (user admin; password printed)\n"
        "  make mlflow-ui    # MLflow at http://127.0.0.1:5000\n"
    )
