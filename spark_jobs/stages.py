"""Stage entry points: session, job, tracking. The ``thresher`` CLI and the DAGs call these.

Each takes the settings, the partition it owns and the MLflow run to log into, and returns
a small JSON-able summary (what an Airflow task pushes to XCom: counts, never data).
"""

from __future__ import annotations

import datetime as dt
import logging

from thresher import tracking
from thresher.config import Settings

log = logging.getLogger(__name__)


def ingest_stage(
    settings: Settings,
    partition: dt.date,
    mlflow_run_id: str,
    input_path: str | None = None,
    source: str | None = None,
) -> dict:
    from spark_jobs import ingest
    from spark_jobs.session import get_spark

    input_path = input_path or settings.input_path
    source = source or ingest.default_source(input_path)
    tracking.log_params(
        settings, mlflow_run_id, {"ingest.input_path": input_path, "ingest.source": source}
    )
    counts = ingest.run(
        get_spark(settings, "thresher-ingest"), settings, partition, input_path, source
    )
    tracking.log_metrics(settings, mlflow_run_id, counts.metrics())
    return {"partition": partition.isoformat(), "source": source, **counts.metrics()}


def gate_stage(
    settings: Settings, partition: dt.date, mlflow_run_id: str, gate: str = "bronze_documents"
) -> dict:
    from spark_jobs import quality_gate
    from spark_jobs.session import get_spark

    report = quality_gate.run(get_spark(settings, "thresher-gate"), settings, partition, gate)
    name = f"gate.{report.gate}"
    tracking.log_json(settings, mlflow_run_id, report.result, f"gates/{report.gate}.json")
    tracking.log_metrics(
        settings,
        mlflow_run_id,
        {f"{name}.success": report.success, f"{name}.failed": len(report.failures)},
    )
    if not report.success:
        tracking.finish_run(settings, mlflow_run_id, status="FAILED")
        raise quality_gate.GateFailed(report.summary())
    return {"gate": report.gate, "success": True, "evaluated": report.evaluated}


def dedup_stage(settings: Settings, partition: dt.date, mlflow_run_id: str) -> dict:
    from spark_jobs import dedup
    from spark_jobs.session import get_spark
    from spark_jobs.stage_stats import ALL_SOURCES, write_stage_counts

    spark = get_spark(settings, "thresher-dedup")
    counts, sizes = dedup.run(spark, settings, partition)
    write_stage_counts(spark, settings, partition, ALL_SOURCES, counts)
    clusters = {
        "dedup.clusters": sum(sizes.values()),
        "dedup.max_cluster_size": max(sizes, default=0),
        "dedup.clusters_with_duplicates": sum(n for size, n in sizes.items() if size > 1),
    }
    tracking.log_metrics(settings, mlflow_run_id, counts.metrics() | clusters)
    distribution = {str(size): n for size, n in sorted(sizes.items())}
    tracking.log_json(settings, mlflow_run_id, distribution, "dedup/cluster_sizes.json")
    return {"partition": partition.isoformat(), **counts.metrics()}


def stats_stage(settings: Settings, partition: dt.date, mlflow_run_id: str) -> dict:
    from spark_jobs import stage_stats
    from spark_jobs.partition_report import log_partition_report
    from spark_jobs.session import get_spark

    spark = get_spark(settings, "thresher-stats")
    stats = stage_stats.partition_statistics(spark, settings, partition)
    tracking.log_metrics(settings, mlflow_run_id, stage_stats.statistics_metrics(stats))
    tracking.log_json(settings, mlflow_run_id, stats, "stage_statistics.json")
    log_partition_report(spark, settings, partition, mlflow_run_id, stats)
    tracking.finish_run(settings, mlflow_run_id)
    log.info("partition %s: %s", partition, stats["bronze"])
    return stats


def reference_classifier_stage(settings: Settings, mlflow_run_id: str) -> dict:
    """Train the configured reference-classifier version unless it is already saved."""
    from spark_jobs import domain_model, reference_classifier
    from spark_jobs.session import get_spark

    spark = get_spark(settings, "thresher-reference-classifier")
    path = reference_classifier.model_path(settings)
    if domain_model.model_exists(spark, path):
        _, metadata = reference_classifier.load_reference_classifier(spark, settings)
        return {**metadata, "trained": False}
    metadata = reference_classifier.train_reference_classifier(spark, settings)
    name = f"quality.{reference_classifier.CRITERION}"
    tracking.log_metrics(settings, mlflow_run_id, {f"{name}.holdout_auc": metadata["holdout_auc"]})
    tracking.log_json(settings, mlflow_run_id, metadata, f"quality/{name}.json")
    return {**metadata, "trained": True}


def quality_stage(settings: Settings, partition: dt.date, mlflow_run_id: str) -> dict:
    from spark_jobs import quality
    from spark_jobs.session import get_spark

    summary = quality.run(get_spark(settings, "thresher-quality"), settings, partition)
    metrics = {k: v for k, v in summary.items() if isinstance(v, int | float)}
    tracking.log_metrics(settings, mlflow_run_id, metrics)
    return summary


def mixture_stage(settings: Settings, mlflow_run_id: str) -> dict:
    from spark_jobs import mixture
    from spark_jobs.mixture_report import log_composition
    from spark_jobs.session import get_spark

    spark = get_spark(settings, "thresher-mixture")
    summary = mixture.run(spark, settings)
    metrics = {k: v for k, v in summary.items() if isinstance(v, int | float)}
    tracking.log_metrics(settings, mlflow_run_id, metrics)
    tracking.log_json(settings, mlflow_run_id, summary, f"mixtures/{summary['mixture']}.json")
    # the versioned parameters, seed and source versions: what mixture.rebuild replays
    tracking.log_json(
        settings, mlflow_run_id, mixture.mixture_recipe(spark, settings), "mixtures/recipe.json"
    )
    tracking.log_params(
        settings, mlflow_run_id, {"mixture.params_version": summary["mixture.params_version"]}
    )
    log_composition(spark, settings, mlflow_run_id)
    return summary


def domain_model_stage(settings: Settings, mlflow_run_id: str) -> dict:
    """Train the supervised domain classifier's configured version unless it is saved.

    The kmeans method fits its clusters on the first partition it classifies instead.
    """
    from spark_jobs import domain_labels, domain_model
    from spark_jobs.session import get_spark

    if settings.domain.method != domain_model.SUPERVISED:
        return {"method": settings.domain.method, "trained": False}
    spark = get_spark(settings, "thresher-domain-model")
    path = domain_model.model_path(settings)
    if domain_model.model_exists(spark, path):
        return {"method": settings.domain.method, "path": path, "trained": False}
    domain_labels.load_sib200(
        spark, settings, per_split=settings.domain.labels_per_language or None
    )
    metrics = domain_model.train_domain_classifier(
        spark, settings, domain_labels.labelled_texts(spark, settings)
    )
    flat = {f"domain.{k}": v for k, v in metrics.items() if isinstance(v, int | float)}
    flat.update(
        {f"domain.accuracy.{lang}": acc for lang, acc in metrics["accuracy_by_language"].items()}
    )
    tracking.log_metrics(settings, mlflow_run_id, flat)
    tracking.log_json(settings, mlflow_run_id, metrics, "domain/classifier.json")
    return {"method": settings.domain.method, "path": path, "trained": True}


def domain_stage(settings: Settings, partition: dt.date, mlflow_run_id: str) -> dict:
    from spark_jobs import domains
    from spark_jobs.session import get_spark

    summary = domains.classify_domains(get_spark(settings, "thresher-domains"), settings, partition)
    tracking.log_metrics(
        settings,
        mlflow_run_id,
        {f"domain.documents.{name}": n for name, n in summary["domains"].items()},
    )
    return summary
