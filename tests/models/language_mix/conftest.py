"""A language-mix pool (built by the Spark job) and its tokenizer, once."""

from __future__ import annotations

import dataclasses

import pytest

from tests.conftest import make_settings
from tests.corpus import write_curated_mixture, write_parallel_units


@pytest.fixture(scope="session")
def mix_lake(spark, tmp_path_factory):
    """(home, pool summary); the tokenizer is at <home>/checkpoints/mix/tokenizer."""
    from models.pretrain.tokenizer import train_tokenizer
    from spark_jobs import language_mix

    home = tmp_path_factory.mktemp("mix-lake")
    settings = make_settings(home)
    settings = dataclasses.replace(
        settings,
        language_mix=dataclasses.replace(settings.language_mix, language="de", holdout=0.2),
    )
    write_curated_mixture(spark, settings, documents=30)
    write_parallel_units(spark, settings)
    summary = language_mix.build(spark, settings)
    texts = [r["text"] for r in spark.read.format("delta").load(summary["path"]).collect()]
    train_tokenizer(texts, 300, home / "checkpoints" / "mix" / "tokenizer")
    return home, summary


@pytest.fixture
def mix_env(mix_lake, monkeypatch):
    """Entry points run in this process read the lake's home from the environment."""
    home, summary = mix_lake
    monkeypatch.setenv("THRESHER_HOME", str(home))
    return home, summary
