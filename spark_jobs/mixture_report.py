"""What a mixture is made of, before and after sampling: per language, per domain, quality.

"Before" is every document the mixture could draw from (scored on the mixture's first
criterion); "after" is the mixture itself, each document counted with its copies. Tokens are
UTF-8 bytes (``thresher.text.size``), the unit the quota and the language shares are in; the
language mix the mixture was asked for (its recipe's quota: target share per language, the
budget, requested and realised tokens) is reported beside what it holds. The figures are small
aggregates (one row per language or domain), so they are collected and
plotted on the driver; the documents never are.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from spark_jobs.delta_io import commit_metadata, read_table
from spark_jobs.sampling import SINGLE_DOMAIN
from thresher.config import Settings
from thresher.tables import BRONZE_DOCUMENTS, SILVER_DOMAINS, SILVER_QUALITY_SCORES, mixture_table

PERCENTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


def _pool(spark: SparkSession, settings: Settings, criterion: str) -> DataFrame:
    scores = read_table(spark, SILVER_QUALITY_SCORES, settings).where(
        F.col("criterion") == criterion
    )
    languages = read_table(spark, BRONZE_DOCUMENTS, settings).select(
        "doc_id", "ingest_date", "language"
    )
    domains = read_table(spark, SILVER_DOMAINS, settings).select("doc_id", "ingest_date", "domain")
    return (
        scores.select("doc_id", "ingest_date", "tokens", "score")
        .dropDuplicates(["doc_id", "ingest_date"])
        .join(languages, ["doc_id", "ingest_date"])
        .join(domains, ["doc_id", "ingest_date"], "left")
        .withColumn("domain", F.coalesce("domain", F.lit(SINGLE_DOMAIN)))
    )


def _shares(frame: DataFrame, key: str, weight: str) -> dict[str, dict[str, float]]:
    rows = frame.groupBy(key).agg(
        F.sum(weight).alias("documents"), F.sum(F.col("tokens") * F.col(weight)).alias("tokens")
    )
    return {
        r[key]: {"documents": int(r["documents"]), "tokens": int(r["tokens"])}
        for r in rows.collect()
    }


def composition(spark: SparkSession, settings: Settings) -> dict:
    """Per language and per domain: documents and tokens before and after; quality percentiles."""
    criterion = settings.mixture.criteria[0].partition("@")[0]
    pool = _pool(spark, settings, criterion).withColumn("one", F.lit(1)).persist()
    mixture = read_table(spark, mixture_table(settings.mixture.name), settings).select(
        "doc_id", "ingest_date", "copies"
    )
    chosen = pool.join(mixture, ["doc_id", "ingest_date"])
    try:
        recipe = commit_metadata(spark, mixture_table(settings.mixture.name).path(settings))
        report = {"criterion": criterion, "quota": recipe.get("quota", {})}
        for key in ("language", "domain"):
            before, after = _shares(pool, key, "one"), _shares(chosen, key, "copies")
            report[f"by_{key}"] = {
                value: {
                    "before_documents": before[value]["documents"],
                    "before_tokens": before[value]["tokens"],
                    "after_documents": after.get(value, {}).get("documents", 0),
                    "after_tokens": after.get(value, {}).get("tokens", 0),
                }
                for value in sorted(before)
            }
        # quality of the documents, unweighted by copies (percentiles of distinct documents)
        for name, frame in (("before", pool), ("after", chosen)):
            values = frame.agg(F.percentile_approx("score", list(PERCENTILES), 10_000)).first()[0]
            report[f"quality_{name}"] = dict(
                zip([f"p{int(p * 100)}" for p in PERCENTILES], values or [], strict=False)
            )
    finally:
        pool.unpersist()
    return report


def metrics(report: dict) -> dict[str, float]:
    """Flat MLflow metrics: token share per language and domain after sampling, quality medians."""
    out: dict[str, float] = {}
    for key in ("language", "domain"):
        total = sum(v["after_tokens"] for v in report[f"by_{key}"].values()) or 1
        for value, row in report[f"by_{key}"].items():
            out[f"mixture.{key}.{value}.token_share"] = row["after_tokens"] / total
    quota = report.get("quota") or {}
    for value, row in quota.get("languages", {}).items():
        out[f"mixture.language.{value}.target_share"] = row["target_share"]
    for key in ("budget_tokens", "requested_tokens", "realised_tokens"):
        if key in quota:
            out[f"mixture.quota.{key}"] = quota[key]
    for name in ("before", "after"):
        if "p50" in report[f"quality_{name}"]:
            out[f"mixture.quality_{name}.p50"] = report[f"quality_{name}"]["p50"]
    return out


def plots(report: dict, folder: Path) -> list[Path]:
    """Bar charts of token shares before/after per language and per domain, and quality."""
    import matplotlib

    matplotlib.use("Agg")  # no display on workers or schedulers
    import matplotlib.pyplot as plt

    paths = []
    for key in ("language", "domain"):
        rows = report[f"by_{key}"]
        names = list(rows)
        before_total = sum(r["before_tokens"] for r in rows.values()) or 1
        after_total = sum(r["after_tokens"] for r in rows.values()) or 1
        xs = range(len(names))
        fig, ax = plt.subplots(figsize=(max(6, len(names) * 0.5), 4))
        ax.bar(
            [x - 0.2 for x in xs],
            [rows[n]["before_tokens"] / before_total for n in names],
            0.4,
            label="before sampling",
        )
        ax.bar(
            [x + 0.2 for x in xs],
            [rows[n]["after_tokens"] / after_total for n in names],
            0.4,
            label="mixture (with copies)",
        )
        targets = (report.get("quota") or {}).get("languages", {}) if key == "language" else {}
        if targets:
            ax.scatter(
                [x + 0.2 for x in xs],
                [targets.get(n, {}).get("target_share", 0.0) for n in names],
                marker="_",
                s=400,
                color="black",
                label="target share",
            )
        ax.set_xticks(list(xs), names, rotation=45, ha="right")
        ax.set_ylabel("share of tokens")
        ax.set_title(f"Token share by {key}")
        ax.legend()
        fig.tight_layout()
        path = folder / f"tokens_by_{key}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        paths.append(path)
    fig, ax = plt.subplots(figsize=(6, 4))
    for name in ("before", "after"):
        quantiles = report[f"quality_{name}"]
        ax.plot([float(k[1:]) for k in quantiles], list(quantiles.values()), marker="o", label=name)
    ax.set_xlabel("percentile")
    ax.set_ylabel(f"{report['criterion']} score")
    ax.set_title("Quality before and after sampling")
    ax.legend()
    fig.tight_layout()
    path = folder / "quality_percentiles.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return [*paths, path]


def log_composition(spark: SparkSession, settings: Settings, mlflow_run_id: str) -> dict:
    """Compute the composition and log it to the run: JSON, flat metrics and plots."""
    from thresher import tracking

    report = composition(spark, settings)
    tracking.log_json(settings, mlflow_run_id, report, "mixtures/composition.json")
    tracking.log_metrics(settings, mlflow_run_id, metrics(report))
    with tempfile.TemporaryDirectory() as folder:
        for path in plots(report, Path(folder)):
            tracking.client(settings).log_artifact(mlflow_run_id, str(path), "mixtures")
    return report
