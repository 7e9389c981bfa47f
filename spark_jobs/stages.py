"""The entry points of the curation jobs declared in ``thresher.jobs.CURATION``.

Each takes a ``JobContext`` (the settings, the partition it owns, the MLflow run to log into,
the run's parameters), builds its Spark session, runs its job and logs what it found; it
returns a small JSON-able summary (what an Airflow task pushes to XCom: counts, never data).
The executors (``spark_jobs.pipeline``: the DAG's tasks, the CLI, the benchmark) call them.
"""

from __future__ import annotations

import logging
import math

from thresher import tracking
from thresher.jobs import JobContext

log = logging.getLogger(__name__)


def ingest(ctx: JobContext) -> dict:
    from spark_jobs import ingest
    from spark_jobs.session import get_spark
    from thresher import names

    settings, partition, mlflow_run_id = ctx.settings, ctx.partition, ctx.mlflow_run_id
    input_path = ctx.params.get("input_path") or settings.input_path
    source = ctx.params.get("source")
    try:
        names.input_path(input_path)
        source = names.source_name(source) if source else ingest.default_source(input_path)
    except names.InvalidName as exc:
        raise ingest.IngestError(str(exc)) from None
    # The first source of a run names its params; every source is in the tag (a run key can
    # be shared by several ingest commands).
    tracking.log_new_params(
        settings, mlflow_run_id, {"ingest.input_path": input_path, "ingest.source": source}
    )
    sources = tracking.client(settings).get_run(mlflow_run_id).data.tags.get("thresher.sources")
    listed = sorted({*(sources or "").split(","), source} - {""})
    tracking.set_tags(settings, mlflow_run_id, {"thresher.sources": ",".join(listed)})
    counts = ingest.run(
        get_spark(settings, "thresher-ingest"), settings, partition, input_path, source
    )
    tracking.log_metrics(settings, mlflow_run_id, counts.metrics())
    return {"partition": partition.isoformat(), "source": source, **counts.metrics()}


def gate(ctx: JobContext) -> dict:
    """The gate named by ``ctx.params["gate"]`` (a suite of ``spark_jobs.quality_gate``)."""
    from spark_jobs import quality_gate
    from spark_jobs.session import get_spark

    settings, partition, mlflow_run_id = ctx.settings, ctx.partition, ctx.mlflow_run_id
    gate = ctx.params["gate"]

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


def dedup(ctx: JobContext) -> dict:
    from spark_jobs import dedup
    from spark_jobs.session import get_spark
    from spark_jobs.stage_stats import ALL_SOURCES, write_stage_counts

    settings, partition, mlflow_run_id = ctx.settings, ctx.partition, ctx.mlflow_run_id
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


def stage_statistics(ctx: JobContext) -> dict:
    from spark_jobs import stage_stats
    from spark_jobs.partition_report import log_partition_report
    from spark_jobs.session import get_spark

    settings, partition, mlflow_run_id = ctx.settings, ctx.partition, ctx.mlflow_run_id
    spark = get_spark(settings, "thresher-stats")
    stats = stage_stats.partition_statistics(spark, settings, partition)
    tracking.log_metrics(settings, mlflow_run_id, stage_stats.statistics_metrics(stats))
    tracking.log_json(settings, mlflow_run_id, stats, "stage_statistics.json")
    log_partition_report(spark, settings, partition, mlflow_run_id, stats)
    tracking.finish_run(settings, mlflow_run_id)
    log.info("partition %s: %s", partition, stats["bronze"])
    return stats


def reference_classifier(ctx: JobContext) -> dict:
    """Train the configured reference-classifier version unless it is already saved."""
    from spark_jobs import domain_model, reference_classifier
    from spark_jobs.session import get_spark

    settings, mlflow_run_id = ctx.settings, ctx.mlflow_run_id
    path = reference_classifier.model_path(settings)
    if domain_model.model_exists(path):
        metadata = domain_model.load_metadata(get_spark(settings), path)
        return {**metadata, "trained": False}
    spark = get_spark(settings, "thresher-reference-classifier", own_driver=True)
    metadata = reference_classifier.train_reference_classifier(spark, settings)
    name = f"quality.{reference_classifier.CRITERION}"
    tracking.log_metrics(settings, mlflow_run_id, {f"{name}.holdout_auc": metadata["holdout_auc"]})
    tracking.log_json(settings, mlflow_run_id, metadata, f"quality/{name}.json")
    return {**metadata, "trained": True}


def quality(ctx: JobContext) -> dict:
    from spark_jobs import quality
    from spark_jobs.session import get_spark

    settings, partition, mlflow_run_id = ctx.settings, ctx.partition, ctx.mlflow_run_id
    summary = quality.run(get_spark(settings, "thresher-quality"), settings, partition)
    metrics = {k: v for k, v in summary.items() if isinstance(v, int | float)}
    tracking.log_metrics(settings, mlflow_run_id, metrics)
    return summary


def mixture(ctx: JobContext) -> dict:
    from spark_jobs import mixture
    from spark_jobs.mixture_report import log_composition
    from spark_jobs.session import get_spark

    settings, mlflow_run_id = ctx.settings, ctx.mlflow_run_id
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


def domain_model(ctx: JobContext) -> dict:
    """Train the supervised domain classifier's configured version unless it is saved (the
    student method's teacher included).

    The kmeans method fits its clusters on the first partition it classifies instead, and the
    student learns from its teacher there.
    """
    from spark_jobs import domain_labels, domain_model
    from spark_jobs.session import get_spark

    settings, mlflow_run_id = ctx.settings, ctx.mlflow_run_id
    if settings.domain.method == domain_model.KMEANS:
        return {"method": settings.domain.method, "trained": False}
    path = domain_model.model_path(settings, domain_model.SUPERVISED)
    if domain_model.model_exists(path):
        return {"method": settings.domain.method, "path": path, "trained": False}
    spark = get_spark(settings, "thresher-domain-model", own_driver=True)
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


def domain_student(ctx: JobContext) -> dict:
    """Distil the fast domain classifier from the saved E5 one on the run's partition unless
    the configured version is saved (``domain.method = student``; other methods need none)."""
    from spark_jobs import domain_distillation, domain_model
    from spark_jobs.dedup import kept_documents
    from spark_jobs.session import get_spark

    settings, mlflow_run_id = ctx.settings, ctx.mlflow_run_id
    if settings.domain.method != domain_model.STUDENT:
        return {"method": settings.domain.method, "trained": False}
    path = domain_model.model_path(settings, domain_model.STUDENT)
    if domain_model.model_exists(path):
        return {"method": settings.domain.method, "path": path, "trained": False}
    spark = get_spark(settings, "thresher-domain-student", own_driver=True)
    docs = kept_documents(spark, settings, ctx.partition)
    student = domain_distillation.train_domain_student(spark, settings, docs)
    numbers = {k: v for k, v in student.items() if isinstance(v, float | int)}
    tracking.log_metrics(
        settings, mlflow_run_id, {f"domain.student.{k}": v for k, v in numbers.items()}
    )
    tracking.log_json(settings, mlflow_run_id, student, "domain/student.json")
    return {"method": settings.domain.method, "path": path, "trained": True, **numbers}


def domains(ctx: JobContext) -> dict:
    from spark_jobs import domains
    from spark_jobs.session import get_spark

    settings, partition, mlflow_run_id = ctx.settings, ctx.partition, ctx.mlflow_run_id
    summary = domains.classify_domains(get_spark(settings, "thresher-domains"), settings, partition)
    tracking.log_metrics(
        settings,
        mlflow_run_id,
        {f"domain.documents.{name}": n for name, n in summary["domains"].items()},
    )
    fallback = summary.get("teacher_fallback")
    if fallback is not None:  # the documents the student handed to its teacher
        flat = {**fallback, **{f"check.{k}": v for k, v in fallback.get("check", {}).items()}}
        metrics = {
            f"domain.teacher_fallback.{k}": v
            for k, v in flat.items()
            if isinstance(v, float | int) and math.isfinite(v)
        }
        tracking.log_metrics(settings, mlflow_run_id, metrics)
    return summary
