"""The poso DAG: its grid follows the settings, and a small sample runs end to end."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import REPO
from tests.dags.conftest import airflow_cli
from thresher import tracking
from thresher.config import POSO_MODELS, Settings, poso_events_export


@pytest.fixture
def parse_poso(monkeypatch, tmp_path):
    """Parses dags/poso.py with THRESHER_HOME in a temp dir and the given variables set."""
    from airflow.dag_processing.dagbag import DagBag

    def parse(**env: str):
        for name, value in {"THRESHER_HOME": str(tmp_path), **env}.items():
            monkeypatch.setenv(name, value)
        bag = DagBag(dag_folder=str(REPO / "dags" / "poso.py"))
        assert bag.import_errors == {}
        return bag.dags["poso"]

    return parse


def cell_arguments(dag) -> list[dict[str, str]]:
    """The flags of each mapped ``train`` task, as a dict per cell."""
    lists = dag.get_task("train").expand_input.value["arguments"]
    return [dict(zip(a[::2], a[1::2], strict=True)) for a in lists]


def test_one_training_task_per_cell_of_the_grid_under_one_parent_run(parse_poso):
    dag = parse_poso(
        THRESHER_POSO_SEEDS="2",
        THRESHER_POSO_MODELS="baseline,poso_mha",
        THRESHER_POSO_GATE_SCALE="3",
    )
    assert dag.schedule is None and dag.catchup is False
    assert set(dag.params.keys()) == {"dataset", "input_path"}
    upstream = {t.task_id: t.upstream_task_ids for t in dag.tasks}
    assert upstream == {
        "events": set(),
        "open": {"events"},
        "train": {"events", "open"},
        "summary": {"open", "train"},
    }
    train = dag.get_task("train")
    assert train.operator_class.__name__ == "LocalProcessOperator"  # THRESHER_EXECUTOR=local
    assert train.partial_kwargs["cmds"] == ["python", "-m", "models.poso.train"]
    cells = cell_arguments(dag)
    assert [(a["--model"], a["--seed"]) for a in cells] == [
        ("baseline", "1"),
        ("baseline", "2"),
        ("poso_mha", "1"),
        ("poso_mha", "2"),
    ]
    for args in cells:
        # Which cell and where its inputs and outputs are; the hyperparameters (the gate
        # scale of 3 here) reach the task in its settings, not its arguments.
        assert "--gate-scale" not in args and "--learning-rate" not in args
        assert "xcom_pull(task_ids='events')" in args["--events"]
        assert "xcom_pull(task_ids='events')" in args["--date"]
        assert "xcom_pull(task_ids='open')" in args["--parent-run-id"]
        assert args["--threads"] == "1"
        assert "xcom_pull(task_ids='open')['output_dir']" in args["--output"]


def test_the_default_grid_is_every_model_over_ten_seeds(parse_poso):
    cells = {(a["--model"], a["--seed"]) for a in cell_arguments(parse_poso())}
    assert cells == {(m, str(s)) for m in POSO_MODELS for s in range(1, 11)}


def test_on_kubernetes_training_tasks_are_gpu_pods(parse_poso):
    pytest.importorskip("airflow.providers.cncf.kubernetes")
    dag = parse_poso(
        THRESHER_EXECUTOR="kubernetes",
        THRESHER_POSO_SEEDS="1",
        THRESHER_POSO_MODELS="poso_mmoe",
    )
    train = dag.get_task("train")
    assert train.operator_class.__name__ == "KubernetesPodOperator"
    assert train.partial_kwargs["container_resources"].limits["nvidia.com/gpu"] == "1"
    (args,) = cell_arguments(dag)
    assert args["--model"] == "poso_mmoe" and "--threads" not in args


def movielens_sample(folder, users: int = 24, events: int = 18, seed: int = 7) -> str:
    """A small MovieLens-format folder (RecBole atomic files) with some late-arriving users."""
    rng = random.Random(seed)
    folder.mkdir()
    lines = ["user_id:token\titem_id:token\trating:float\ttimestamp:float"]
    for u in range(users):
        start = 1000 * (u if u < users * 3 // 4 else users)  # the last quarter arrives late
        for k in range(events):
            item = rng.randrange(40)
            rating = rng.choice([4, 5]) if item % 2 == 0 else rng.choice([1, 2, 3, 4])
            lines.append(f"{u}\t{item}\t{rating}\t{start + 60 * k + u}")
    (folder / "sample.inter").write_text("\n".join(lines) + "\n")
    (folder / "sample.user").write_text(
        "user_id:token\tage:token\tgender:token\n"
        + "".join(f"{u}\t{20 + u}\t{'MF'[u % 2]}\n" for u in range(users))
    )
    return str(folder)


@pytest.mark.airflow
def test_a_small_grid_runs_end_to_end(pipeline_env, tmp_path):
    env, _ = pipeline_env
    env = env | {
        "THRESHER_POSO_INPUT_PATH": movielens_sample(tmp_path / "sample"),
        "THRESHER_POSO_DATASET": "sample",
        "THRESHER_POSO_MODELS": "baseline,poso_mlp",
        "THRESHER_POSO_SEEDS": "1",
        "THRESHER_POSO_MAX_EPOCHS": "2",
        "THRESHER_POSO_NEW_USER_THRESHOLD": "4",
    }
    log = tmp_path / "dags-test.log"

    result = airflow_cli("dags", "test", "poso", "2026-11-20", env=env, log=log)

    output = log.read_text()
    assert result.returncode == 0, output[-4000:]
    settings = Settings.from_env(env)
    export = pq.read_table(poso_events_export(settings, "sample"))
    assert export.num_rows == 24 * 18
    splits = export.group_by("split").aggregate([("user_id", "count_distinct")]).to_pylist()
    users = {r["split"]: r["user_id_count_distinct"] for r in splits}
    assert set(users) == {"train", "valid", "test", "held_out"}
    # The grid is one parent run; each (model, seed) a finished child of it.
    settings = Settings.from_env(env | {"THRESHER_TRACKING_EXPERIMENT": "thresher-poso"})
    client = tracking.client(settings)
    experiment = tracking.experiment_id(settings)
    (parent,) = client.search_runs([experiment], "tags.`airflow.dag_id` = 'poso'")
    runs = client.search_runs([experiment], "tags.`thresher.poso.model` != ''")
    assert sorted(r.data.tags["thresher.poso.model"] for r in runs) == ["baseline", "poso_mlp"]
    for run in runs:
        assert run.info.status == "FINISHED"
        assert run.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert {"test.overall.auc", "test.new.events", "test.regular.events"} <= set(
            run.data.metrics
        )
        steps = [m.step for m in client.get_metric_history(run.info.run_id, "train.loss")]
        assert steps == [1, 2]
    parent = client.get_run(parent.info.run_id)
    assert parent.info.status == "FINISHED" and parent.data.metrics["runs"] == 2
    assert parent.data.params["poso.grid.twins"] == "poso_mlp:baseline"
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id, "poso")}
    assert artifacts == {
        "poso/comparison.png",
        "poso/summary.md",
        "poso/summary.json",
        "poso/events.json",
    }
    local = client.download_artifacts(parent.info.run_id, "poso/summary.json", tmp_path)
    found = json.loads(Path(local).read_text())
    assert set(found["improvements"]) == {"poso_mlp_vs_baseline"}
    assert found["improvements"]["poso_mlp_vs_baseline"]["role"] == "twin"
    assert found["scored"]["test"]["new"]["events"] > 0
    local = client.download_artifacts(parent.info.run_id, "poso/events.json", tmp_path)
    assert json.loads(Path(local).read_text())["splits"]["held_out"]["regular"]["events"] > 0
