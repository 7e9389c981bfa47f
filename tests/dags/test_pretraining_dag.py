"""The pretraining DAG end to end: Spark corpus job, then two model tasks as local processes."""

from __future__ import annotations

import json

import pytest

from tests.corpus import write_curated_mixture
from tests.dags.conftest import airflow_cli
from thresher import tracking
from thresher.tables import corpus_table

CONF = {
    "size": "tiny",
    "max_steps": 6,
    "sequence_length": 32,
    "batch_size": 4,
    "vocab_size": 300,
    "holdout": 0.2,
}


@pytest.mark.airflow
def test_a_run_trains_a_tokenizer_and_a_model_on_the_mixture(spark, pipeline_env, tmp_path):
    env, settings = pipeline_env
    write_curated_mixture(spark, settings, documents=60)
    log = tmp_path / "dags-test.log"

    result = airflow_cli(
        "dags",
        "test",
        "pretraining",
        "2026-11-02",
        "--conf",
        json.dumps(CONF),
        env=env,
        log=log,
    )

    output = log.read_text()
    assert result.returncode == 0, output[-4000:]
    corpus = spark.read.format("delta").load(corpus_table("default").path(settings))
    assert corpus.where("split = 'validation'").count() > 0
    checkpoints = settings.home / "checkpoints"
    (tokenizer,) = (checkpoints / "tokenizers" / "default").glob("v*/tokenizer.json")
    (model,) = (checkpoints / "pretrain" / "default" / "tiny").glob("*/model/config.json")
    metrics = json.loads((model.parent.parent / "metrics.json").read_text())
    assert metrics["steps"] == 6 and metrics["tokens"] == 6 * 4 * 32
    # the model task ran as a local process and its result came back as the task's XCom
    assert "Running " in output and "models.pretrain.train" in output
    client = tracking.client(settings)
    (run,) = client.search_runs(
        [tracking.experiment_id(settings)], "tags.`thresher.run_key` LIKE 'pretrain/%'"
    )
    assert run.info.status == "FINISHED"
    assert "val_loss.all" in run.data.metrics
