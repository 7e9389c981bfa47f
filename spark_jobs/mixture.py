"""Build one QuaDMix mixture (``gold.mixture_<name>``): read pinned sources, sample, write.

The transforms live in ``spark_jobs.sampling``; this module pins the inputs, writes the table
and records the recipe. Same seed + same source versions + same parameters = the same table.
Run ``python -m spark_jobs.mixture`` to build the configured mixture.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from spark_jobs import quota, sampling
from spark_jobs.delta_io import commit_metadata, rebuild_table
from thresher import mixture_quota
from thresher.config import Settings
from thresher.quadmix import QuadMixParams
from thresher.tables import BRONZE_DOCUMENTS, SILVER_QUALITY_SCORES, mixture_table

log = logging.getLogger(__name__)

RANK_MODES = ("auto", "exact", "binned", "approximate")


def run(
    spark: SparkSession,
    settings: Settings,
    domains: DataFrame | None = None,
    params: QuadMixParams | None = None,
    source_versions: dict[str, int] | None = None,
    dates: tuple[dt.date, dt.date] | None = None,
) -> dict:
    """Sample the mixture and replace its table; return the summary (counts, recipe).

    ``domains`` (doc_id, ingest_date, domain) overrides ``silver.domains``; without either,
    every document is in one domain. ``source_versions`` pins the Delta versions read (default:
    the current ones, which are recorded). ``dates`` limits the inclusive ingest_date range.
    """
    config = settings.mixture
    if config.rank_mode not in RANK_MODES:
        raise ValueError(f"rank_mode must be one of {RANK_MODES}, got {config.rank_mode!r}")
    versions = source_versions or sampling.current_versions(spark, settings)
    frame, resolved, domain_source = scored_documents(spark, settings, versions, domains, dates)
    params = params or sampling.load_params(settings, list(resolved))
    frame = frame.persist()
    drawn = None
    try:
        present = sorted(r["domain"] for r in frame.select("domain").distinct().collect())
        for domain in present:
            params.domain_index(domain)  # fails early, naming a domain without parameters
        merged = sampling.merged_quality(frame, params, present)
        documents = frame.count()
        mode = config.rank_mode
        if mode == "auto":
            mode = "exact" if documents <= config.exact_max_documents else "binned"
        if mode == "exact":
            ranked, bound = sampling.exact_rank(merged), 0.0
        elif mode == "binned":
            ranked, bound = sampling.binned_rank(merged, config.rank_bins), 0.0
        else:
            ranked, bound = sampling.approximate_rank(merged, config.rank_bins)
        draws = ranked.select("node", "domain", "rank").mapInPandas(
            sampling.draw_rows(params, config.seed), sampling.DRAW_SCHEMA
        )
        drawn = ranked.join(draws, "node").persist()
        fits, shares, largest = quota.fit(drawn, documents, mixture_quota.Quota.of(config))
        quota_record = mixture_quota.quota_record(
            fits, config.budget_tokens, config.language_policy, shares
        )
        quota_record["largest_document_tokens"] = largest
        pairs = [x for k, v in sorted(versions.items()) for x in (F.lit(k), F.lit(v))]
        recorded = F.create_map(*pairs)
        selected = (
            quota.draw_copies(drawn, fits)
            .where(F.col("copies") > 0)
            .withColumn("params_version", F.lit(params.version))
            .withColumn("seed", F.lit(config.seed))
            .withColumn("source_versions", recorded)
        )
        recipe = {
            "params": json.loads(params.to_json()),
            "params_version": params.version,
            "seed": config.seed,
            "criteria": [f"{n}@{v}" for n, v in resolved.items()],
            "larger_is_better": list(config.larger_is_better),
            "rank_mode": mode,
            "rank_bins": config.rank_bins,
            "rank_error_bound": bound,
            "source_versions": versions,
            # a domains DataFrame passed in is not pinned by a version: the recipe says so
            "domains": domain_source,
            "dates": [d.isoformat() for d in dates] if dates else None,
            "budget_tokens": config.budget_tokens,
            "language_policy": config.language_policy,
            "language_alpha": config.language_alpha,
            "language_shares": config.explicit_shares,
            "quota": quota_record,
        }
        # the whole table, one commit: a retry or rebuild leaves exactly the new mixture
        spec = mixture_table(config.name)
        path = rebuild_table(spark, spec, settings, selected, recipe)
        totals = (
            spark.read.format("delta")
            .load(path)
            .agg(
                F.count("*").alias("selected"),
                F.coalesce(F.sum("copies"), F.lit(0)).alias("copies"),
                F.coalesce(F.sum(F.col("copies") * F.col("tokens")), F.lit(0)).alias("tokens"),
            )
            .first()
        )
    finally:
        frame.unpersist()
        if drawn is not None:
            drawn.unpersist()
    budget = config.budget_tokens
    largest = quota_record["largest_document_tokens"]
    summary = {
        "mixture": spec.qualified_name,
        "mixture.documents": documents,
        "mixture.selected": totals["selected"],
        "mixture.copies": totals["copies"],
        "mixture.tokens": totals["tokens"],
        "mixture.budget_tokens": budget,
        "mixture.requested_tokens": quota_record["requested_tokens"],
        # the quota: met within one document's tokens (the largest the pool holds)
        "mixture.within_budget": budget == 0 or abs(totals["tokens"] - budget) <= largest,
        "mixture.params_version": params.version,
        "mixture.rank_mode": mode,
        "mixture.rank_error_bound": bound,
        "source_versions": versions,
        "quota": quota_record,
    }
    log.info("mixture %s: %s", spec.qualified_name, summary)
    return summary


def scored_documents(
    spark: SparkSession,
    settings: Settings,
    versions: dict[str, int],
    domains: DataFrame | None = None,
    dates: tuple[dt.date, dt.date] | None = None,
) -> tuple[DataFrame, dict[str, str], str]:
    """What the sampler ranks: (node, doc_id, ingest_date, language, tokens, σ per criterion,
    domain).

    Read at the pinned ``versions``; returns the frame, the resolved ``criterion → version``
    and where the domains came from (``silver.domains``, ``argument`` or ``single``).
    """
    config = settings.mixture
    scores_table = SILVER_QUALITY_SCORES.qualified_name
    bronze_table = BRONZE_DOCUMENTS.qualified_name
    if bronze_table not in versions:
        raise ValueError(
            f"the recipe pins no version of {bronze_table}: it predates ranking within "
            "languages; build the mixture again instead of rebuilding it"
        )
    scores = sampling.read_at(spark, settings, scores_table, versions[scores_table])
    languages = sampling.read_at(spark, settings, bronze_table, versions[bronze_table])
    scores = scores.join(
        languages.select("doc_id", "ingest_date", "language"), ["doc_id", "ingest_date"]
    )
    if dates:
        scores = scores.where(F.col("ingest_date").between(F.lit(dates[0]), F.lit(dates[1])))
    frame, resolved = sampling.criterion_sigmas(scores, config.criteria, config.larger_is_better)
    domain_source = "argument" if domains is not None else "single"
    if domains is None and sampling.DOMAINS_TABLE in versions:
        domain_source = sampling.DOMAINS_TABLE
        domains = sampling.read_at(
            spark, settings, sampling.DOMAINS_TABLE, versions[sampling.DOMAINS_TABLE]
        )
    if domains is None:
        frame = frame.withColumn("domain", F.lit(sampling.SINGLE_DOMAIN))
    else:
        labels = domains.select("doc_id", "ingest_date", "domain")
        frame = frame.join(labels, ["doc_id", "ingest_date"], "left").withColumn(
            "domain", F.coalesce("domain", F.lit(sampling.SINGLE_DOMAIN))
        )
    return frame, resolved, domain_source


def mixture_recipe(spark: SparkSession, settings: Settings, name: str | None = None) -> dict:
    """The recipe recorded by the last build of ``gold.mixture_<name>``."""
    return commit_metadata(spark, mixture_table(name or settings.mixture.name).path(settings))


def rebuild(spark: SparkSession, settings: Settings, recipe: dict) -> dict:
    """Build the mixture again from a recorded recipe (pinned versions, parameters, seed)."""
    import dataclasses

    mixture = dataclasses.replace(
        settings.mixture,
        seed=recipe["seed"],
        criteria=tuple(recipe["criteria"]),
        larger_is_better=tuple(recipe["larger_is_better"]),
        rank_mode=recipe["rank_mode"],
        rank_bins=recipe["rank_bins"],
        budget_tokens=recipe["budget_tokens"],
        language_policy=recipe["language_policy"],
        language_alpha=recipe["language_alpha"],
        language_shares={k: str(v) for k, v in recipe["language_shares"].items()},
    )
    dates = recipe["dates"] and tuple(dt.date.fromisoformat(d) for d in recipe["dates"])
    return run(
        spark,
        dataclasses.replace(settings, mixture=mixture),
        params=QuadMixParams.from_json(json.dumps(recipe["params"])),
        source_versions=recipe["source_versions"],
        dates=dates,
    )


if __name__ == "__main__":
    from spark_jobs.session import run_as_script

    run_as_script(run)
