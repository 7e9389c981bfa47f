"""The training entry point: learning, seeding, resuming, early stopping, bad input."""

from __future__ import annotations

import json

import pytest
import torch

from models.poso import data, train
from models.poso.networks import NetworkConfig, build_network
from tests.models.poso.events import synthetic_events, write_events
from thresher.entrypoint import BadInput, run_entry_point

TINY = NetworkConfig(
    embedding_dim=4, hidden=(8,), heads=1, value_mixtures=2, experts=2, gate_hidden=4
)


@pytest.fixture(scope="module")
def events(tmp_path_factory):
    return str(write_events(tmp_path_factory.mktemp("poso") / "events"))


def config(events: str, output, **overrides) -> train.TrainConfig:
    base = {
        "events": events,
        "model": "poso_mlp",
        "seed": 1,
        "output": str(output),
        "max_epochs": 2,
        "batch_size": 64,
        "learning_rate": 0.01,
        "network": TINY,
        "threads": 1,
    }
    return train.TrainConfig(**(base | overrides))


def test_one_epoch_lowers_the_training_loss(events):
    encoded = data.encode(data.read_events(events))
    split, cpu = encoded.splits["train"], torch.device("cpu")
    train.seed_everything(0)
    model = build_network("poso_mha", encoded.sizes, TINY)
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def loss() -> float:
        with torch.no_grad():
            full = next(data.batches(split, len(split["label"]), cpu))
            return float(loss_fn(model(full), full["label"]))

    before = loss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    train.train_epoch(model, optimizer, split, cpu, 64, torch.Generator().manual_seed(0))
    assert loss() < before - 0.01


def test_a_run_writes_results_per_group_and_is_reproducible(events, tmp_path):
    first = train.train(config(events, tmp_path / "a"))
    second = train.train(config(events, tmp_path / "b"))
    for split in ("valid", "test"):
        assert set(first[split]) == {"overall", "new", "regular"}
    assert (
        first["test"]["new"]["events"] + first["test"]["regular"]["events"]
        == (first["test"]["overall"]["events"])
    )
    assert first["groups"]["test"]["new_share"] > 0
    assert first["test"] == second["test"]  # same seed, same numbers
    saved = json.loads((tmp_path / "a" / "result.json").read_text())
    assert saved["test"] == first["test"] and saved["epochs"] == 2
    for name in ("best.pt", "checkpoint.pt", "network.json", "vocab.json"):
        assert (tmp_path / "a" / name).exists()


def test_an_interrupted_run_resumes_to_the_same_weights(events, tmp_path):
    straight = train.train(config(events, tmp_path / "straight", max_epochs=3, patience=9))
    train.train(config(events, tmp_path / "resumed", max_epochs=1, patience=9))
    resumed = train.train(config(events, tmp_path / "resumed", max_epochs=3, patience=9))
    assert resumed["epochs"] == 3
    ours = torch.load(tmp_path / "resumed" / "checkpoint.pt", weights_only=False)["model"]
    theirs = torch.load(tmp_path / "straight" / "checkpoint.pt", weights_only=False)["model"]
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)
    drop_time = lambda rows: [{k: v for k, v in r.items() if k != "epoch_s"} for r in rows]  # noqa: E731
    assert drop_time(resumed["history"]) == drop_time(straight["history"])


def test_early_stopping_waits_patience_epochs_after_the_best(events, tmp_path):
    # A zero learning rate never improves on the first epoch's validation GAUC.
    result = train.train(
        config(events, tmp_path / "flat", learning_rate=0.0, max_epochs=10, patience=2)
    )
    assert (result["epochs"], result["best_epoch"], result["stopped_early"]) == (3, 1, True)


def test_a_checkpoint_of_another_configuration_is_refused(events, tmp_path):
    train.train(config(events, tmp_path / "run", max_epochs=1))
    with pytest.raises(BadInput, match="another configuration"):
        train.train(config(events, tmp_path / "run", model="baseline", max_epochs=2))


def _exit(argv, capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as raised:
        run_entry_point(train.main, argv)
    return raised.value.code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("make_input", "message"),
    [
        (lambda tmp: tmp / "missing", "events path does not exist"),
        (lambda tmp: write_events(tmp / "e", synthetic_events(3, 4).slice(0, 0), 1), "no rows"),
        (
            lambda tmp: write_events(tmp / "c", synthetic_events(3, 4).drop_columns(["label"])),
            r"lack columns \['label'\]",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(make_input, message, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("THRESHER_TRACKING_TRACKING_URI", "off")
    monkeypatch.setenv("THRESHER_CHECKPOINT_ROOT", str(tmp_path))
    argv = [
        "--events",
        str(make_input(tmp_path)),
        "--model",
        "baseline",
        "--seed",
        "1",
        "--output",
        str(tmp_path / "out"),
    ]
    code, err = _exit(argv, capsys)
    assert code == 2
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert __import__("re").search(message, err)


def test_main_logs_params_epochs_groups_and_the_model_to_mlflow(events, tmp_path, monkeypatch):
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("THRESHER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("THRESHER_CHECKPOINT_ROOT", str(tmp_path))
    monkeypatch.setenv("THRESHER_TRACKING_TRACKING_URI", uri)
    monkeypatch.setenv("THRESHER_TRACKING_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    client = MlflowClient(uri)
    experiment = client.create_experiment("thresher-poso", (tmp_path / "artifacts").as_uri())
    parent = client.create_run(experiment).info.run_id
    argv = [
        "--events",
        events,
        "--model",
        "poso_mmoe",
        "--seed",
        "2",
        "--output",
        str(tmp_path / "out"),
        "--max-epochs",
        "2",
        "--embedding-dim",
        "4",
        "--threads",
        "1",
        "--parent-run-id",
        parent,
        "--run-key",
        "grid-1/poso_mmoe/s2",
    ]
    result = run_entry_point(train.main, argv)
    run = client.get_run(result["mlflow_run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.tags["mlflow.parentRunId"] == parent
    assert (
        run.data.params["model"] == "poso_mmoe" and run.data.params["network.gate_scale"] == "2.0"
    )
    steps = [m.step for m in client.get_metric_history(run.info.run_id, "train.loss")]
    assert steps == [1, 2]
    assert {"test.new.gauc", "test.regular.gauc", "test.overall.auc"} <= set(run.data.metrics)
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "model")}
    assert artifacts == {"model/best.pt", "model/network.json", "model/vocab.json"}
