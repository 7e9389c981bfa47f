"""A scored lake, its search features (built by the Spark job) and a tokenizer, once."""

from __future__ import annotations

import pytest

from tests.conftest import make_settings
from tests.corpus import write_scored_documents


@pytest.fixture(scope="session")
def search_lake(spark, tmp_path_factory):
    """(home, features summary); the tokenizer is at <home>/checkpoints/search/tokenizer."""
    from models.pretrain.tokenizer import train_tokenizer
    from spark_jobs import search_features

    home = tmp_path_factory.mktemp("search-lake")
    settings = make_settings(home)
    write_scored_documents(spark, settings, documents=300)
    summary = search_features.build(spark, settings)
    texts = [r["text"] for r in spark.read.format("delta").load(summary["path"]).collect()]
    train_tokenizer(texts, 300, home / "checkpoints" / "search" / "tokenizer")
    return home, summary


@pytest.fixture
def search_env(search_lake, monkeypatch):
    """Entry points run in this process read the lake's home from the environment."""
    home, summary = search_lake
    monkeypatch.setenv("THRESHER_HOME", str(home))
    monkeypatch.setenv("THRESHER_LANGUAGES", "en,de,fr")
    return home, summary
