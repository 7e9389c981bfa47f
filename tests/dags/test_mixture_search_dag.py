"""The mixture search DAG end to end: Spark features, mapped proxies as local processes, the
regression and choice, the final mixture; a second run resumes every finished proxy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.corpus import write_scored_documents
from tests.dags.conftest import airflow_cli
from thresher import tracking
from thresher.mixture_search import search_settings
from thresher.tables import mixture_table

PROXIES = 4
SEARCH_ENV = {
    "THRESHER_MIXTURE_SEARCH_PROXIES": str(PROXIES),
    "THRESHER_MIXTURE_SEARCH_MAX_STEPS": "2",
    "THRESHER_MIXTURE_SEARCH_SEQUENCE_LENGTH": "32",
    "THRESHER_MIXTURE_SEARCH_BATCH_SIZE": "4",
    "THRESHER_MIXTURE_SEARCH_VOCAB_SIZE": "300",
}
CONF = {"folds": 2, "candidates": 2000, "top_k": 3}


def _proxy_results(log: str) -> list[dict]:
    """The JSON results the proxy processes printed (each entry point prints its result)."""
    decoder, found = json.JSONDecoder(), []
    for line in log.splitlines():
        start = line.find('{"')
        if start >= 0 and '"params_version"' in line and '"resumed"' in line:
            found.append(decoder.raw_decode(line, start)[0])
    return found


@pytest.mark.airflow
def test_a_search_chooses_parameters_and_a_rerun_resumes_its_proxies(spark, pipeline_env, tmp_path):
    env, settings = pipeline_env
    env = {**env, **SEARCH_ENV}
    write_scored_documents(spark, settings, documents=300)
    first_log = tmp_path / "first.log"

    result = airflow_cli("dags", "test", "mixture_search", "2026-11-02", "--conf",
                         json.dumps(CONF), env=env, log=first_log)  # fmt: skip

    output = first_log.read_text()
    assert result.returncode == 0, output[-4000:]
    first = _proxy_results(output)
    assert len(first) == PROXIES and not any(r["resumed"] for r in first)
    assert len({r["params_version"] for r in first}) == PROXIES
    final = spark.read.format("delta").load(mixture_table("searched").path(settings))
    (version,) = {r["params_version"] for r in final.select("params_version").collect()}
    (choice,) = (settings.home / "checkpoints").glob("mixture_search/default/*/choice")
    assert (choice / "params" / f"{version}.json").is_file()
    assert (choice / "predicted_vs_actual.png").is_file()

    client = tracking.client(search_settings(settings))
    experiment = tracking.experiment_id(search_settings(settings))
    (parent,) = client.search_runs([experiment], "tags.`airflow.dag_id` = 'mixture_search'")
    assert parent.info.status == "FINISHED"
    assert {"lightgbm_mae", "linear_mae", "spearman"} <= parent.data.metrics.keys()
    local = client.download_artifacts(
        parent.info.run_id, "search/sampled_params.json", str(tmp_path)
    )
    sampled = [s["version"] for s in json.loads(Path(local).read_text())]
    assert sampled == [r["params_version"] for r in sorted(first, key=lambda r: r["index"])]
    children = client.search_runs(
        [experiment], f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'"
    )
    names = sorted(r.info.run_name.split(" ")[0] for r in children)
    assert names == ["choice", *["proxy"] * PROXIES, "regression"]

    second_log = tmp_path / "second.log"
    again = airflow_cli("dags", "test", "mixture_search", "2026-11-03", "--conf",
                        json.dumps(CONF), env=env, log=second_log)  # fmt: skip
    output = second_log.read_text()
    assert again.returncode == 0, output[-4000:]
    second = _proxy_results(output)
    assert len(second) == PROXIES and all(r["resumed"] for r in second)
    assert {r["loss"] for r in second} == {r["loss"] for r in first}
