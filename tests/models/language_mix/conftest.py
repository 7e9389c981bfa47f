"""A language-mix pool (built by the Spark job) and its tokenizer, once."""

from __future__ import annotations

import dataclasses

import pytest

from tests.corpus import write_curated_mixture, write_parallel_units


@pytest.fixture(scope="session")
def mix_lake(build_lake):
    """(home, pool summary); the tokenizer is at <home>/checkpoints/mix/tokenizer."""
    from spark_jobs import language_mix

    def tune(settings):
        mix = dataclasses.replace(settings.language_mix, language="de", holdout=0.2)
        return dataclasses.replace(settings, language_mix=mix)

    def write(spark, settings):
        write_curated_mixture(spark, settings, documents=30)
        write_parallel_units(spark, settings)

    return build_lake("mix", write, language_mix.build, tune)


@pytest.fixture
def mix_env(mix_lake, monkeypatch):
    """Entry points run in this process read the lake's home from the environment."""
    home, summary = mix_lake
    monkeypatch.setenv("THRESHER_HOME", str(home))
    return home, summary
