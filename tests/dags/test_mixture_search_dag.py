"""The mixture search DAG end to end: Spark features, mapped proxies as local processes, the
regression and choice, the final mixture; re-running its tasks resumes every finished proxy."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from models.mixture_search import choose, proxy
from models.pretrain import tokenizer
from spark_jobs import search_features
from tests.corpus import write_scored_documents
from tests.dags.conftest import airflow_cli
from thresher import tracking
from thresher.config import Settings
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


def _task_commands(log: str, module: str) -> list[list[str]]:
    """The arguments each model task of ``module`` ran with (LocalProcessOperator logs them)."""
    pattern = re.compile(rf"Running \S+ -m {re.escape(module)} (.*?) \[airflow\.task\.")
    return [shlex.split(m.group(1)) for m in map(pattern.search, log.splitlines()) if m]


def _under_parent(argv: list[str], parent: str) -> list[str]:
    at = argv.index("--parent-run-id") + 1
    return [*argv[:at], parent, *argv[at + 1 :]]


@pytest.mark.airflow
def test_a_search_chooses_parameters_and_its_tasks_resume_when_run_again(
    spark, pipeline_env, tmp_path, monkeypatch
):
    env, settings = pipeline_env
    env = {**env, **SEARCH_ENV}
    write_scored_documents(spark, settings, documents=300)
    log = tmp_path / "dags-test.log"

    result = airflow_cli("dags", "test", "mixture_search", "2026-11-02", "--conf",
                         json.dumps(CONF), env=env, log=log)  # fmt: skip

    output = log.read_text()
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

    # A second DAG run, without a second Airflow, Spark JVM and six interpreters: the unchanged
    # lake's features keep their fingerprint (the search folder's name), and the DAG's own
    # model-task commands, run again under a new parent run, find the tokenizer and every
    # finished proxy instead of training them, and choose the same parameters.
    rebuilt = search_features.build(spark, Settings.from_env(env))
    assert not rebuilt["rewritten"] and choice.parent.name.startswith(rebuilt["fingerprint"])
    for name, value in env.items():
        if name.startswith("THRESHER_"):
            monkeypatch.setenv(name, value)
    rerun = tracking.open_run(search_settings(settings), "tests/mixture_search/rerun", "rerun")
    (tokenizer_args,) = _task_commands(output, "models.pretrain.tokenizer")
    assert tokenizer.main(tokenizer_args)["trained"] is False
    proxy_args = _task_commands(output, "models.mixture_search.proxy")
    second = [proxy.main(_under_parent(args, rerun)) for args in proxy_args]
    assert len(second) == PROXIES and all(r["resumed"] for r in second)
    assert {r["loss"] for r in second} == {r["loss"] for r in first}
    (choose_args,) = _task_commands(output, "models.mixture_search.choose")
    assert choose.main(_under_parent(choose_args, rerun))["params_version"] == version
    again = client.search_runs([experiment], f"tags.`mlflow.parentRunId` = '{rerun}'")
    assert sorted(r.info.run_name.split(" ")[0] for r in again) == names
