"""A lake an experiment's model tasks read, built once per session by its Spark job."""

from __future__ import annotations

import pytest

from tests.conftest import make_settings


@pytest.fixture(scope="session")
def build_lake(spark, tmp_path_factory):
    """``build(name, write, job, tune=None)`` → (home, the job's summary): ``write(spark,
    settings)`` puts the job's inputs in a fresh home, ``job(spark, settings)`` builds the table
    the tasks read, and a 300-token tokenizer is trained on its texts at
    ``<home>/checkpoints/<name>/tokenizer``. ``tune`` adjusts the settings first."""
    from models.pretrain.tokenizer import train_tokenizer

    def build(name, write, job, tune=None):
        home = tmp_path_factory.mktemp(f"{name}-lake")
        settings = make_settings(home)
        settings = tune(settings) if tune else settings
        write(spark, settings)
        summary = job(spark, settings)
        texts = [r["text"] for r in spark.read.format("delta").load(summary["path"]).collect()]
        train_tokenizer(texts, 300, home / "checkpoints" / name / "tokenizer")
        return home, summary

    return build
