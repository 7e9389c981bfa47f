"""The pool a language-mix experiment draws from: English, one other language, parallel pairs.

MuBench's pretraining study (PAPERS.md) varies two knobs of a training mixture: the ratio of
English to a second language, and the share of parallel data. This job gathers, once per
experiment, everything a cell of that grid draws from and writes
``gold.language_mix_pool_<mixture>``:

- **monolingual**: the documents of ``gold.mixture_<mixture>`` in English or the second
  language, with their text from bronze.documents and the corpus's fixed held-out split
  (``training_corpus.split_column``: a document is held out in every cell alike);
- **parallel**: every unit of ``silver.murating_documents`` (one pair set) that exists in both
  languages, as one document: the English text, a blank line, the translation. Pairs are
  training text only.

The table is rewritten only when its recipe (source Delta versions, language, holdout, pair
set) changes, so its fingerprint, and with it the experiment's output folder, survives a
re-run. ``python -m spark_jobs.language_mix`` builds it for the configured mixture.
"""

from __future__ import annotations

import logging

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from spark_jobs.delta_io import derived_table, is_delta_table, last_version, rebuild_table
from spark_jobs.training_corpus import split_column
from thresher.config import Settings
from thresher.tables import (
    BRONZE_DOCUMENTS,
    SILVER_MURATING_DOCUMENTS,
    language_mix_pool_table,
    mixture_table,
)

log = logging.getLogger(__name__)
ENGLISH = "en"


def _require(spark: SparkSession, path: str, name: str, how: str) -> int:
    if not is_delta_table(spark, path):
        raise FileNotFoundError(f"{name} does not exist at {path}: {how}")
    return last_version(spark, path)


def monolingual(
    spark: SparkSession, settings: Settings, name: str, version: int, language: str, holdout: float
) -> DataFrame:
    """Mixture ``name`` at ``version`` ⋈ bronze text, English and ``language`` only."""
    mixture = (
        spark.read.format("delta")
        .option("versionAsOf", version)
        .load(mixture_table(name).path(settings))
        .where(F.col("copies") > 0)
        .select("ingest_date", "doc_id")
    )
    documents = (
        spark.read.format("delta")
        .load(BRONZE_DOCUMENTS.path(settings))
        .select("ingest_date", "doc_id", "text", "language")
    )
    return (
        mixture.join(documents, ["ingest_date", "doc_id"], "inner")
        .where(F.col("language").isin(ENGLISH, language))
        .select(
            "doc_id",
            F.lit("monolingual").alias("kind"),
            "language",
            F.lit("mixture").alias("source"),
            "text",
            split_column(holdout).alias("split"),
        )
    )


def parallel(spark: SparkSession, settings: Settings, pair_set: str, language: str) -> DataFrame:
    """One document per unit of ``pair_set`` that has an English and a ``language`` side."""
    docs = (
        spark.read.format("delta")
        .load(SILVER_MURATING_DOCUMENTS.path(settings))
        .where((F.col("pair_set") == pair_set) & F.col("language").isin(ENGLISH, language))
    )
    english = docs.where(F.col("language") == ENGLISH).select(
        "unit_id", "source", F.col("text").alias("english")
    )
    other = docs.where(F.col("language") == language).select(
        "unit_id", F.col("text").alias("translation")
    )
    return english.join(other, "unit_id").select(
        F.concat(F.lit("parallel:"), "unit_id").alias("doc_id"),
        F.lit("parallel").alias("kind"),
        F.lit(f"{ENGLISH}-{language}").alias("language"),
        "source",
        F.concat_ws("\n\n", "english", "translation").alias("text"),
        F.lit("train").alias("split"),
    )


def build(
    spark: SparkSession,
    settings: Settings,
    name: str | None = None,
    language: str | None = None,
) -> dict:
    """Write (or find up to date) ``gold.language_mix_pool_<name>``; return its summary."""
    config = settings.language_mix
    name = name or settings.mixture.name
    language = language or config.language
    if language == ENGLISH or not language.isalpha():
        raise ValueError(f"language must be a language code other than en, got {language!r}")
    mixture_path = mixture_table(name).path(settings)
    murating_path = SILVER_MURATING_DOCUMENTS.path(settings)
    versions = {
        mixture_table(name).qualified_name: _require(
            spark, mixture_path, f"gold.mixture_{name}", "run the curation DAG first"
        ),
        BRONZE_DOCUMENTS.qualified_name: _require(
            spark, BRONZE_DOCUMENTS.path(settings), "bronze.documents", "run ingest first"
        ),
        SILVER_MURATING_DOCUMENTS.qualified_name: _require(
            spark, murating_path, "silver.murating_documents", "run the murating DAG first"
        ),
    }
    recipe = {
        "language": language,
        "holdout": config.holdout,
        "pair_set": config.pair_set,
        "source_versions": dict(sorted(versions.items())),
    }
    spec = language_mix_pool_table(name)
    path, fingerprint, unchanged = derived_table(spark, spec, settings, recipe)
    if unchanged is not None:
        return unchanged

    mixture_version = versions[mixture_table(name).qualified_name]
    pool = monolingual(spark, settings, name, mixture_version, language, config.holdout).union(
        parallel(spark, settings, config.pair_set, language)
    )
    ordered = pool.select(*[F.col(f.name).cast(f.dataType) for f in spec.schema.fields])
    counts = {
        f"{row['kind']}.{row['language']}.{row['split']}": row["n"]
        for row in ordered.groupBy("kind", "language", "split")
        .agg(F.count("*").alias("n"))
        .collect()
    }
    summary = {
        "pool": spec.qualified_name,
        "path": path,
        "fingerprint": fingerprint,
        "language": language,
        "documents": dict(sorted(counts.items())),
        "source_versions": recipe["source_versions"],
    }
    missing = [
        what
        for what, key in (
            ("English documents", f"monolingual.{ENGLISH}.train"),
            (f"{language!r} documents", f"monolingual.{language}.train"),
        )
        if not counts.get(key)
    ]
    if missing:
        raise ValueError(
            f"gold.mixture_{name} has no {' and no '.join(missing)} to train on: the "
            f"experiment needs both languages in the mixture ({summary['documents']})"
        )
    if not counts.get(f"parallel.{ENGLISH}-{language}.train"):
        log.warning("no English–%s parallel units in pair set %r", language, config.pair_set)
    metadata = {"fingerprint": fingerprint, "recipe": recipe, "summary": summary}
    rebuild_table(spark, spec, settings, ordered, metadata)
    log.info("language-mix pool %s", summary)
    return {**summary, "rewritten": True}


if __name__ == "__main__":
    from spark_jobs.session import run_as_script

    run_as_script(build)
