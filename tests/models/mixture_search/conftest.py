"""A scored lake, its search features (built by the Spark job) and a tokenizer, once."""

from __future__ import annotations

import pytest

from tests.corpus import write_scored_documents


@pytest.fixture(scope="session")
def search_lake(build_lake):
    """(home, features summary); the tokenizer is at <home>/checkpoints/search/tokenizer."""
    from spark_jobs import search_features

    def write(spark, settings):
        write_scored_documents(spark, settings, documents=300)

    return build_lake("search", write, search_features.build)


@pytest.fixture
def search_env(search_lake, monkeypatch):
    """Entry points run in this process read the lake's home from the environment."""
    home, summary = search_lake
    monkeypatch.setenv("THRESHER_HOME", str(home))
    monkeypatch.setenv("THRESHER_LANGUAGES", "en,de,fr")
    return home, summary
