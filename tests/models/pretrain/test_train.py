"""The pretraining loop learns, resumes exactly, refuses bad input and logs to MLflow."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from models.pretrain.corpus import corpus_from_table, read_corpus
from models.pretrain.tokenizer import load_tokenizer
from models.pretrain.train import TrainConfig, main, train
from thresher.entrypoint import BadInput, Tracker

CONFIG = TrainConfig(
    size="tiny",
    sequence_length=32,
    batch_size=8,
    max_steps=12,
    learning_rate=3e-3,
    warmup_steps=2,
    log_every=4,
    checkpoint_every=6,
    eval_blocks=8,
    compile="off",
)


class Recorder(Tracker):
    def __init__(self, stop_at: int | None = None):
        self.metrics: list[tuple[int, dict]] = []
        self.stop_at = stop_at

    def log_metrics(self, metrics, step):
        self.metrics.append((step, dict(metrics)))
        if step == self.stop_at:
            raise RuntimeError("worker lost")  # an interruption after a checkpoint


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two busy cores: one thread is faster and reproducible
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def inputs(corpus_file, tokenizer_dir):
    return corpus_from_table(read_corpus(str(corpus_file))), load_tokenizer(tokenizer_dir)


def _weights(path):
    from transformers import LlamaForCausalLM

    return LlamaForCausalLM.from_pretrained(str(path)).state_dict()


def test_training_lowers_the_loss(inputs, tmp_path):
    corpus, tokenizer = inputs
    recorder = Recorder()
    config = dataclasses.replace(CONFIG, max_steps=40, log_every=10)
    summary = train(config, corpus, tokenizer, tmp_path, recorder)
    losses = [m["train_loss"] for _, m in recorder.metrics if "train_loss" in m]
    assert losses[-1] < losses[0] - 0.5, losses
    assert set(summary["val_loss"]) == {
        "all",
        "language:en",
        "language:de",
        "language:fr",
        "domain:news",
    }
    assert summary["tokens"] == 40 * 8 * 32
    assert (tmp_path / "model" / "config.json").is_file()


def test_a_resumed_run_ends_where_an_uninterrupted_one_does(inputs, tmp_path):
    corpus, tokenizer = inputs
    train(CONFIG, corpus, tokenizer, tmp_path / "straight", Tracker())

    with pytest.raises(RuntimeError, match="worker lost"):
        train(CONFIG, corpus, tokenizer, tmp_path / "resumed", Recorder(stop_at=8))
    summary = train(CONFIG, corpus, tokenizer, tmp_path / "resumed", Tracker())
    assert summary["resumed_from_step"] == 6

    straight, resumed = (
        _weights(tmp_path / "straight" / "model"),
        _weights(tmp_path / "resumed" / "model"),
    )
    for name, tensor in straight.items():
        assert torch.allclose(tensor, resumed[name], atol=1e-6), name


def test_a_corpus_smaller_than_a_batch_is_refused(inputs, tmp_path):
    corpus, tokenizer = inputs
    config = dataclasses.replace(CONFIG, sequence_length=512, batch_size=64)
    with pytest.raises(BadInput, match="fewer than one batch"):
        train(config, corpus, tokenizer, tmp_path, Tracker())


def test_the_entry_point_logs_its_run_to_mlflow(corpus_file, tokenizer_dir, tmp_path, monkeypatch):
    from thresher import tracking
    from thresher.config import Settings

    monkeypatch.setenv("THRESHER_HOME", str(tmp_path / "home"))
    result = main(
        [
            "--corpus",
            str(corpus_file),
            "--tokenizer",
            str(tokenizer_dir),
            "--output",
            "run",
            "--max-steps",
            "4",
            "--log-every",
            "2",
            "--sequence-length",
            "32",
            "--batch-size",
            "4",
            "--compile",
            "off",
        ]
    )
    assert result["model"] == str(tmp_path / "home" / "checkpoints" / "run" / "model")
    run = tracking.client(Settings.from_env()).get_run(result["mlflow_run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.params["model.parameters"] == str(result["parameters"])
    assert {"train_loss", "tokens_per_second", "learning_rate", "val_loss.all"} <= set(
        run.data.metrics
    )
    with pytest.raises(BadInput, match="unknown model size"):
        main(
            [
                "--corpus",
                str(corpus_file),
                "--tokenizer",
                str(tokenizer_dir),
                "--output",
                "x",
                "--size",
                "huge",
            ]
        )
