"""The mixture search DAG end to end: Spark features, mapped proxies and confirmations as local
processes, the regression and choice, the report and the final mixture; re-running its tasks
resumes every finished proxy. The selection study's DAG is wired by the same executor
(``thresher_tasks.experiments``): its shape is checked here, its steps run in
``tests/bench/test_experiments.py``."""

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
    "THRESHER_MIXTURE_SEARCH_NOISE_SETS": "1",
    "THRESHER_MIXTURE_SEARCH_SEEDS": "2",
    "THRESHER_MIXTURE_SEARCH_FOLDS": "2",
    "THRESHER_MIXTURE_SEARCH_CANDIDATES": "2000",
    "THRESHER_MIXTURE_SEARCH_TOP_K": "3",
    "THRESHER_MIXTURE_SEARCH_BOOTSTRAP": "100",
    "THRESHER_PROXY_MAX_STEPS": "2",
    "THRESHER_PROXY_SEQUENCE_LENGTH": "32",
    "THRESHER_PROXY_BATCH_SIZE": "4",
    "THRESHER_PROXY_VOCAB_SIZE": "300",
    "THRESHER_PROXY_BUDGET_TOKENS": "20000",
    "THRESHER_PROXY_CURVE_POINTS": "2",
    "THRESHER_HELDOUT_SETS": "flores",
    "THRESHER_HELDOUT_CHOICE_SETS": "flores_cloze",
    "THRESHER_HELDOUT_LIMIT": "2",
    "THRESHER_LANGUAGES": "en,de,fr",
    "THRESHER_MIXTURE_LANGUAGE_POLICY": "uniform",
}


def _results(log: str, module: str) -> list[dict]:
    """The JSON results the processes of ``module`` printed (an entry point prints its result)."""
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
def test_a_search_chooses_confirms_and_its_tasks_resume_when_run_again(
    spark, pipeline_env, shared_data, tmp_path, monkeypatch
):
    env, settings = pipeline_env
    env = {**env, **SEARCH_ENV}
    write_scored_documents(spark, settings, documents=300)
    log = tmp_path / "dags-test.log"

    result = airflow_cli("dags", "test", "mixture_search", "2026-11-02", env=env, log=log)

    output = log.read_text()
    assert result.returncode == 0, output[-4000:]
    runs = _results(output, "models.mixture_search.proxy")
    search = [r for r in runs if r["role"] == "search"]
    confirm = [r for r in runs if r["role"] != "search"]
    assert len(search) == PROXIES + 1 and not any(r["resumed"] for r in search)  # + a repeat
    assert sorted((r["index"], r["seed"]) for r in search) == [
        (0, 1),
        (0, 2),
        (1, 1),
        (2, 1),
        (3, 1),
    ]
    # chosen and best random draw at seeds 1 and 2; the best draw's seed 1 was already trained
    assert sorted((r["role"], r["seed"]) for r in confirm) == [
        ("best_random", 1),
        ("best_random", 2),
        ("chosen", 1),
        ("chosen", 2),
    ]
    assert [r["resumed"] for r in confirm if r["role"] == "best_random" and r["seed"] == 1] == [
        True
    ]
    final = spark.read.format("delta").load(mixture_table("searched").path(settings))
    (version,) = {r["params_version"] for r in final.select("params_version").collect()}
    (choice,) = (settings.home / "checkpoints").glob("mixture_search/default/*/choice")
    assert (choice / "params" / f"{version}.json").is_file()

    client = tracking.client(search_settings(settings))
    experiment = tracking.experiment_id(search_settings(settings))
    (parent,) = client.search_runs([experiment], "tags.`airflow.dag_id` = 'mixture_search'")
    assert parent.info.status == "FINISHED"
    assert {"search.lightgbm_mae", "search.mean_baseline_mae", "search.chosen_bpb"} <= set(
        parent.data.metrics
    )
    local = client.download_artifacts(parent.info.run_id, "search/report.json", str(tmp_path))
    report = json.loads(Path(local).read_text())
    assert set(report["regression"]["intervals"]) >= {"lightgbm_minus_mean_mae", "spearman"}
    assert report["seed_noise"]["sets"]["0"]["n"] == 2
    assert [step for step, _ in report["learning_curve"]["held_out_bpb"]] == [1, 2]
    assert report["confirmation"]["chosen"]["n"] == 2
    children = client.search_runs(
        [experiment], f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'"
    )
    names = sorted(r.info.run_name.split(" ")[0] for r in children)
    trained = sum(not r["resumed"] for r in runs)  # a resumed proxy logs no second child run
    assert names == ["choice", *["proxy"] * trained, "regression"]

    # A second run, without a second Airflow, Spark JVM and a dozen interpreters: the unchanged
    # lake's features keep their fingerprint (the search folder's name), and the DAG's own
    # model-task commands, run again under a new parent run, find the tokenizer and every
    # finished proxy instead of training them, and choose the same parameters.
    for name, value in env.items():
        if name.startswith("THRESHER_"):
            monkeypatch.setenv(name, value)
    rebuilt = search_features.build(spark, Settings.from_env())
    assert not rebuilt["rewritten"] and choice.parent.name.startswith(rebuilt["fingerprint"])
    rerun = tracking.open_run(search_settings(settings), "tests/mixture_search/rerun", "rerun")
    (tokenizer_args,) = _task_commands(output, "models.pretrain.tokenizer")
    assert tokenizer.main(tokenizer_args)["trained"] is False
    proxy_args = _task_commands(output, "models.mixture_search.proxy")[: PROXIES + 1]
    second = [proxy.main(_under_parent(args, rerun)) for args in proxy_args]
    assert all(r["resumed"] for r in second)
    assert sorted(r["loss"] for r in second) == sorted(r["loss"] for r in search)
    (choose_args,) = _task_commands(output, "models.mixture_search.choose")
    assert choose.main(_under_parent(choose_args, rerun))["params_version"] == version


def test_the_selection_study_dag_maps_every_arm_and_seed(monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    from tests.conftest import REPO

    monkeypatch.setenv("THRESHER_SELECTION_SEEDS", "2")
    dag = DagBag(dag_folder=str(REPO / "dags" / "selection_study.py")).dags["selection_study"]
    assert dag.schedule is None and set(dag.params.keys()) == {"mixture"}
    upstream = {t.task_id: t.upstream_task_ids for t in dag.tasks}
    assert upstream["tokenizer"] == {"features"} and upstream["open"] == {"features"}
    assert upstream["arm"] == {"tokenizer", "open"}
    assert upstream["summary"] == {"features", "open", "arm"}
    arguments = dag.get_task("arm").expand_input.value["arguments"]
    arms = [(a[a.index("--arm") + 1], a[a.index("--seed") + 1]) for a in arguments]
    assert len(arms) == 2 * 6 and ("quadmix_searched", "2") in arms
    assert "xcom_pull(task_ids='open')['run_id']" in " ".join(arguments[0])
