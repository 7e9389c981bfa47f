"""Sampler inputs of a mixture search: σ per criterion, domain, tokens and text per document.

A QuaDMix search trains many proxies, each on the mixture one parameter set selects. Building
each mixture through Spark would cost a Spark job per proxy, yet the expensive part (σ per
criterion and the domain join) does not depend on the parameters. This job computes it once,
with the code the mixture itself runs (``mixture.scored_documents``: σ ranked within each
language), adds the documents' text and writes ``gold.search_features_<name>``. Each proxy
(and each arm of the selection study) then applies the numpy sampler
(``thresher.mixture_search.mixture_copies``): the copies Spark would draw for the same
parameters, seed and quota. Every document is selectable: experiments are scored on
held-out text outside the pool (``thresher.corpora.heldout``), never on a split of it.

The table is rewritten only when its recipe (source Delta versions, criteria) changes, so
its fingerprint, and with it every proxy's output folder, survives a re-run.
Run ``python -m spark_jobs.search_features`` to build it for the configured mixture.
"""

from __future__ import annotations

import logging

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from spark_jobs import sampling
from spark_jobs.delta_io import derived_table, ensure_table, last_version, rebuild_table
from spark_jobs.mixture import scored_documents
from thresher.config import Settings
from thresher.tables import BRONZE_DOCUMENTS, search_features_table

log = logging.getLogger(__name__)


def build(spark: SparkSession, settings: Settings, name: str | None = None) -> dict:
    """Write (or find up to date) ``gold.search_features_<name>``; return its summary."""
    name = name or settings.mixture.name
    config = settings.mixture
    versions = sampling.current_versions(spark, settings)
    bronze_path = ensure_table(spark, BRONZE_DOCUMENTS, settings)
    versions[BRONZE_DOCUMENTS.qualified_name] = last_version(spark, bronze_path)
    recipe = {
        "criteria": list(config.criteria),
        "larger_is_better": list(config.larger_is_better),
        "sigma": "percent rank within language",
        "source_versions": dict(sorted(versions.items())),
    }
    spec = search_features_table(name)
    path, fingerprint, unchanged = derived_table(spark, spec, settings, recipe)
    if unchanged is not None:
        return unchanged

    frame, resolved, domain_source = scored_documents(spark, settings, versions)
    names = list(resolved)
    sigmas = F.create_map(*[x for n in names for x in (F.lit(n), F.col(f"`{n}`"))])
    documents = sampling.read_at(
        spark, settings, BRONZE_DOCUMENTS.qualified_name, versions[BRONZE_DOCUMENTS.qualified_name]
    ).select("ingest_date", "doc_id", "text")
    features = frame.select(
        "doc_id", "ingest_date", "node", "language", "domain", "tokens", sigmas.alias("sigmas")
    ).join(documents, ["ingest_date", "doc_id"], "left")
    ordered = features.select(*[F.col(f.name).cast(f.dataType) for f in spec.schema.fields])
    ordered = ordered.persist()
    try:
        stats = ordered.agg(
            F.count("*").alias("documents"),
            F.sum(F.col("text").isNull().cast("int")).alias("missing_text"),
            F.sum("tokens").alias("tokens"),
        ).first()
        if stats["missing_text"]:
            raise ValueError(
                f"{stats['missing_text']} scored documents have no text in "
                f"{BRONZE_DOCUMENTS.qualified_name} at version "
                f"{versions[BRONZE_DOCUMENTS.qualified_name]}"
            )
        domains = sorted(r["domain"] for r in ordered.select("domain").distinct().collect())
        summary = {
            "features": spec.qualified_name,
            "path": path,
            "fingerprint": fingerprint,
            "criteria": names,
            "criteria_versions": [f"{n}@{v}" for n, v in resolved.items()],
            "domains": domains,
            "domain_source": domain_source,
            "documents": stats["documents"],
            "tokens": int(stats["tokens"] or 0),
            "source_versions": recipe["source_versions"],
        }
        metadata = {"fingerprint": fingerprint, "recipe": recipe, "summary": summary}
        # the whole table in one commit; its metadata is what a later run compares against
        rebuild_table(spark, spec, settings, ordered, metadata)
    finally:
        ordered.unpersist()
    log.info("search features %s", summary)
    return {**summary, "rewritten": True}


if __name__ == "__main__":
    from spark_jobs.session import run_as_script

    run_as_script(build)
