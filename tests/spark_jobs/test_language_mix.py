"""The language-mix pool: both languages of a mixture, parallel pairs, rewritten on change."""

from __future__ import annotations

import pytest

from spark_jobs import language_mix
from tests.corpus import SENTENCE_PAIRS, write_curated_mixture, write_parallel_units


def _settings(settings, **mix):
    import dataclasses

    return dataclasses.replace(
        settings, language_mix=dataclasses.replace(settings.language_mix, **mix)
    )


def test_the_pool_holds_both_languages_and_the_pairs(spark, settings):
    settings = _settings(settings, language="de", holdout=0.2)
    ids = write_curated_mixture(spark, settings, documents=30)
    write_parallel_units(spark, settings)

    summary = language_mix.build(spark, settings)

    pool = spark.read.format("delta").load(summary["path"]).toPandas()
    mono = pool[pool["kind"] == "monolingual"]
    # write_curated_mixture labels documents en, de, fr in turn: fr is left out
    assert set(mono["language"]) == {"en", "de"}
    assert len(mono) == len([i for n, i in enumerate(ids) if n % 3 != 2])
    assert set(mono["split"]) == {"train", "validation"}
    pairs = pool[pool["kind"] == "parallel"].sort_values("doc_id")
    # the English-only unit has no German side and is no pair
    assert list(pairs["text"]) == [f"{en}\n\n{de}" for en, de in SENTENCE_PAIRS]
    assert set(pairs["language"]) == {"en-de"} and set(pairs["split"]) == {"train"}
    assert summary["documents"]["parallel.en-de.train"] == len(SENTENCE_PAIRS)
    assert summary["rewritten"]

    again = language_mix.build(spark, settings)
    assert not again["rewritten"] and again["fingerprint"] == summary["fingerprint"]
    other = language_mix.build(spark, _settings(settings, language="de", holdout=0.3))
    assert other["rewritten"] and other["fingerprint"] != summary["fingerprint"]


def test_a_mixture_without_the_language_is_refused(spark, settings):
    settings = _settings(settings, language="ja")
    write_curated_mixture(spark, settings, documents=6)
    write_parallel_units(spark, settings)
    with pytest.raises(ValueError, match="no 'ja' documents to train on"):
        language_mix.build(spark, settings)


def test_missing_parallel_documents_name_the_dag_to_run(spark, settings):
    write_curated_mixture(spark, settings, documents=6)
    with pytest.raises(FileNotFoundError, match="run the murating DAG first"):
        language_mix.build(spark, _settings(settings, language="de"))
