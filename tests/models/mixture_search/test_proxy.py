"""A proxy: its sampled mixture, one short training run, its loss; finished and interrupted
proxies resume instead of starting over."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from models.mixture_search import proxy
from tests.conftest import REPO
from thresher import tracking
from thresher.config import Settings
from thresher.entrypoint import BadInput
from thresher.quadmix import QuadMixParams

TRAINING = ["--sequence-length", "32", "--batch-size", "4", "--tokenizer", "search/tokenizer"]


def _params_file(tmp_path: Path, summary: dict, omega: float, eps: float = 0.0) -> Path:
    """Hand-set parameters: keep each domain's best ``omega`` share of tokens."""
    params = QuadMixParams.uniform(summary["criteria"], summary["domains"], omega=omega, eps=eps)
    path = tmp_path / f"params-{params.version}.json"
    path.write_text(params.to_json())
    return path


def _parent_run(home: Path) -> str:
    from thresher.mixture_search import search_settings

    settings = search_settings(Settings(home=home))
    return tracking.open_run(settings, f"tests/parent/{time.time_ns()}", "parent")


def test_one_proxy_trains_on_its_mixture_and_reports_its_loss(search_env, tmp_path):
    home, summary = search_env
    parent = _parent_run(home)
    args = ["--features", summary["path"], "--search-dir", "search/one", *TRAINING,
            "--params", str(_params_file(tmp_path, summary, omega=0.5)),
            "--max-steps", "2", "--parent-run-id", parent]  # fmt: skip

    result = proxy.main(args)

    assert result["status"] == "finished" and not result["resumed"]
    assert math.isfinite(result["loss"]) and result["loss"] > 0
    assert result["steps"] == 2
    # the mixture keeps about half of the training tokens (up to twice each), never held-out text
    mixture = result["mixture"]
    assert 0 < mixture["documents"] < summary["documents"] - summary["validation_documents"]
    assert mixture["tokens"] == sum(mixture["tokens_per_domain"].values())
    folder = Path(result["proxy_dir"])
    assert folder.parent == home / "checkpoints" / "search" / "one" / "proxies"
    assert json.loads((folder / proxy.FINISHED).read_text())["loss"] == result["loss"]
    settings = Settings(home=home)
    run = tracking.client(settings).get_run(result["mlflow_run_id"])
    assert run.data.tags["mlflow.parentRunId"] == parent
    assert run.data.metrics["proxy_loss"] == pytest.approx(result["loss"])
    assert run.info.status == "FINISHED"

    again = proxy.main(args)  # a finished proxy is returned, not trained again
    assert again["resumed"] and again["loss"] == result["loss"]
    assert again["mlflow_run_id"] == result["mlflow_run_id"]  # same parent: same child run


def test_a_sampled_index_is_the_papers_draw_and_too_little_text_is_a_result(search_env, tmp_path):
    home, summary = search_env
    from thresher.mixture_search import sample_set

    base = ["--features", summary["path"], "--search-dir", "search/sampled", *TRAINING,
            "--max-steps", "1"]  # fmt: skip
    result = proxy.main([*base, "--index", "3", "--sample-seed", "9"])
    expected = sample_set(summary["criteria"], summary["domains"], 9, 3, "linear")
    assert result["params_version"] == expected.version
    assert result["status"] in ("finished", "too_small")

    nothing = _params_file(tmp_path, summary, omega=0.0)  # S = ε = 0 everywhere
    empty = proxy.main([*base, "--params", str(nothing)])
    assert empty["status"] == "too_small" and empty["loss"] is None
    assert empty["mixture"]["documents"] == 0


def test_a_search_folder_refuses_proxies_trained_differently(search_env, tmp_path):
    _, summary = search_env
    params = str(_params_file(tmp_path, summary, omega=0.5))
    base = ["--features", summary["path"], "--search-dir", "search/strict", *TRAINING,
            "--params", params]  # fmt: skip
    proxy.main([*base, "--max-steps", "1"])
    with pytest.raises(BadInput, match="belongs to another search"):
        proxy.main([*base, "--max-steps", "2"])


def test_an_interrupted_proxy_resumes_from_its_last_checkpoint(search_env, tmp_path):
    home, summary = search_env
    args = ["--features", summary["path"], "--search-dir", "search/interrupted", *TRAINING,
            "--params", str(_params_file(tmp_path, summary, omega=0.5)),
            "--max-steps", "300", "--checkpoint-every", "10"]  # fmt: skip
    env = {**os.environ, "THRESHER_TRACKING_TRACKING_URI": "off", "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, "-m", "models.mixture_search.proxy", *args],
                             env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    proxies = home / "checkpoints" / "search" / "interrupted" / "proxies"
    try:
        deadline = time.monotonic() + 300
        while not list(proxies.glob("*/checkpoints/step_*.pt")):
            assert child.poll() is None, "the proxy ended before its first checkpoint"
            assert time.monotonic() < deadline, "no checkpoint within 300 s"
            time.sleep(0.05)
    finally:
        os.killpg(child.pid, signal.SIGKILL)  # as a preempted pod would be
        child.wait()
    (folder,) = proxies.iterdir()
    assert not (folder / proxy.FINISHED).exists()

    result = proxy.main(args)

    assert result["status"] == "finished" and not result["resumed"]
    assert 10 <= result["resumed_from_step"] < 300 and result["steps"] == 300
