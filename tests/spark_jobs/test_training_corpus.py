"""Mixture → training corpus: text joined, copies kept, a stable held-out split."""

from __future__ import annotations

import pytest
from delta.tables import DeltaTable
from pyspark.sql import functions as F

from spark_jobs import training_corpus
from spark_jobs.delta_io import read_table
from tests.corpus import write_curated_mixture
from thresher.tables import BRONZE_DOCUMENTS, corpus_table, mixture_table


def test_the_corpus_carries_text_copies_and_a_fixed_split(spark, settings):
    ids = write_curated_mixture(spark, settings, documents=40)
    summary = training_corpus.build(spark, settings, holdout=0.25)

    corpus = spark.read.format("delta").load(summary["corpus.path"])
    rows = {r.doc_id: r for r in corpus.collect()}
    assert sorted(rows) == ids
    assert all(r.copies == 1 + int(r.doc_id[-4:]) % 3 for r in rows.values())
    assert all(
        r.text.startswith(("The ", "Der ", "La ", "Farmers", "Die ", "Les ")) for r in rows.values()
    )
    held = {d for d, r in rows.items() if r.split == "validation"}
    assert 0 < len(held) < len(ids)
    assert summary["corpus.validation_documents"] == len(held)
    assert summary["corpus.train_tokens"] == sum(
        r.tokens * r.copies for r in rows.values() if r.split == "train"
    )
    meta = DeltaTable.forPath(spark, summary["corpus.path"]).history(1).first()["userMetadata"]
    assert '"mixture": "gold.mixture_default"' in meta

    # a rebuild gives the same split: the hash of doc_id decides, not the run
    again = training_corpus.build(spark, settings, holdout=0.25)
    reread = spark.read.format("delta").load(again["corpus.path"])
    assert {r.doc_id for r in reread.where("split = 'validation'").collect()} == held


def test_a_mixture_document_without_text_fails_loudly(spark, settings):
    write_curated_mixture(spark, settings, documents=12)
    path = BRONZE_DOCUMENTS.path(settings)
    read_table(spark, BRONZE_DOCUMENTS, settings).where(F.col("doc_id") != "doc-0003").write.format(
        "delta"
    ).mode("overwrite").save(path + "_tmp")
    spark.read.format("delta").load(path + "_tmp").write.format("delta").mode("overwrite").save(
        path
    )
    with pytest.raises(ValueError, match="1 documents of gold.mixture_default have no text"):
        training_corpus.build(spark, settings)


def test_a_missing_mixture_is_named(spark, settings):
    with pytest.raises(FileNotFoundError, match="gold.mixture_nothing does not exist"):
        training_corpus.build(spark, settings, "nothing")
    assert corpus_table("x").qualified_name == "gold.corpus_x"
    assert mixture_table("x").keys == corpus_table("x").keys
