"""The language-mix DAG end to end: the Spark pool, one tokenizer, mapped cells as local
processes, and the table of accuracy and MLC over the two knobs on the parent MLflow run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.corpus import write_aligned_items, write_curated_mixture, write_parallel_units
from tests.dags.conftest import airflow_cli
from thresher import tracking
from thresher.language_mix import experiment_settings


@pytest.mark.airflow
def test_the_grid_trains_a_model_per_cell_and_logs_the_table(spark, pipeline_env, tmp_path):
    env, settings = pipeline_env
    items = write_aligned_items(tmp_path / "items.jsonl")
    env = {
        **env,
        "THRESHER_LANGUAGE_MIX_ENGLISH_SHARES": "0.8,0.2",
        "THRESHER_LANGUAGE_MIX_PARALLEL_SHARES": "0.5",
        "THRESHER_LANGUAGE_MIX_HOLDOUT": "0.2",
        "THRESHER_LANGUAGE_MIX_MAX_STEPS": "2",
        "THRESHER_LANGUAGE_MIX_SEQUENCE_LENGTH": "32",
        "THRESHER_LANGUAGE_MIX_BATCH_SIZE": "4",
        "THRESHER_LANGUAGE_MIX_VOCAB_SIZE": "300",
        "THRESHER_LANGUAGE_MIX_ITEMS": str(items),
    }
    write_curated_mixture(spark, settings, documents=30)
    write_parallel_units(spark, settings)
    log = tmp_path / "run.log"

    result = airflow_cli(
        "dags",
        "test",
        "language_mix",
        "2026-11-02",
        "--conf",
        json.dumps({"language": "de"}),
        env=env,
        log=log,
    )

    assert result.returncode == 0, log.read_text()[-4000:]
    (folder,) = (settings.home / "checkpoints").glob("language_mix/default/de/*")
    assert (folder / "tokenizer" / "tokenizer.json").is_file()
    cells = sorted(p.name for p in (folder / "cells").iterdir())
    assert cells == ["en0.2-par0.5", "en0.8-par0.5"]
    client = tracking.client(experiment_settings(settings))
    experiment = tracking.experiment_id(experiment_settings(settings))
    (parent,) = client.search_runs([experiment], "tags.`airflow.dag_id` = 'language_mix'")
    assert parent.info.status == "FINISHED" and parent.data.metrics["cells"] == 2
    local = client.download_artifacts(
        parent.info.run_id, "language_mix/results.json", str(tmp_path)
    )
    rows = json.loads(Path(local).read_text())
    assert [(r["english_share"], r["parallel_share"]) for r in rows] == [(0.8, 0.5), (0.2, 0.5)]
    for row in rows:
        assert 0 <= row["cloze.acc_en"] <= 1 and 0 <= row["cloze.acc_de"] <= 1
        assert 0 <= row["cloze.mlc"] <= 1 and row["val_loss_de"] > 0
    # more English in the budget: more passes over the English documents
    assert rows[0]["epochs_en"] > rows[1]["epochs_en"]
    children = client.search_runs(
        [experiment], f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'"
    )
    assert sorted(r.info.run_name for r in children) == [
        "cell en0.2-par0.5 (de)",
        "cell en0.8-par0.5 (de)",
    ]
