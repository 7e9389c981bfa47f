"""A proxy: its mixture under the quota, one short training run, held-out bits per byte;
finished and interrupted proxies resume instead of starting over."""

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

BUDGET = 20_000
PROXY = {
    "MAX_STEPS": "2",
    "SEQUENCE_LENGTH": "32",
    "BATCH_SIZE": "4",
    "VOCAB_SIZE": "300",
    "BUDGET_TOKENS": str(BUDGET),
    "CURVE_POINTS": "2",
}
HELDOUT = {"SETS": "flores,udhr", "CHOICE_SETS": "flores_cloze", "LIMIT": "3"}


@pytest.fixture
def proxy_env(search_env, shared_data, monkeypatch):
    """The search lake, a tiny proxy, equal language shares and a few held-out items."""
    for name, value in PROXY.items():
        monkeypatch.setenv(f"THRESHER_PROXY_{name}", value)
    for name, value in HELDOUT.items():
        monkeypatch.setenv(f"THRESHER_HELDOUT_{name}", value)
    monkeypatch.setenv("THRESHER_MIXTURE_LANGUAGE_POLICY", "uniform")
    return search_env


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


def _base(summary: dict, folder: str) -> list[str]:
    return [
        "--features",
        summary["path"],
        "--search-dir",
        folder,
        "--tokenizer",
        "search/tokenizer",
    ]


def test_one_proxy_meets_the_quota_and_reports_held_out_bits_per_byte(proxy_env, tmp_path):
    home, summary = proxy_env
    parent = _parent_run(home)
    params = _params_file(tmp_path, summary, omega=0.5)
    args = [*_base(summary, "search/one"), "--params", str(params), "--parent-run-id", parent]

    result = proxy.main(args)

    assert result["status"] == "finished" and not result["resumed"] and result["steps"] == 2
    assert math.isfinite(result["loss"]) and result["loss"] == result["bpb_mean"] > 0
    assert set(result["bpb_by_language"]) == {"en", "de", "fr"}
    assert set(result["bpb_by_set"]) == {"flores", "udhr"}
    cloze = result["choice"]["flores_cloze"]
    assert 0 <= cloze["accuracy"] <= 1 and cloze["chance"] == 0.25
    # the quota: 20,000 bytes within one document, a third for each language
    quota = result["mixture"]["quota"]
    assert abs(quota["realised_tokens"] - BUDGET) <= 2000
    for row in quota["languages"].values():
        assert row["realised_share"] == pytest.approx(1 / 3, abs=0.05)
    folder = Path(result["proxy_dir"])
    assert (
        folder
        == home / "checkpoints" / "search" / "one" / "proxies" / result["params_version"] / "seed-1"
    )
    assert json.loads((folder / proxy.FINISHED).read_text())["loss"] == result["loss"]
    run = tracking.client(Settings(home=home)).get_run(result["mlflow_run_id"])
    assert run.data.tags["mlflow.parentRunId"] == parent
    assert run.data.metrics["proxy_bpb"] == pytest.approx(result["loss"])
    assert run.info.status == "FINISHED"

    again = proxy.main(args)  # a finished proxy is returned, not trained again
    assert again["resumed"] and again["loss"] == result["loss"]
    assert again["mlflow_run_id"] == result["mlflow_run_id"]  # same parent: same child run
    other = proxy.main([*args, "--seed", "2"])  # another seed: other draws, another proxy
    assert Path(other["proxy_dir"]).name == "seed-2" and not other["resumed"]


def test_a_sampled_index_is_the_papers_draw_and_too_little_text_is_a_result(proxy_env, monkeypatch):
    _, summary = proxy_env
    from thresher.mixture_search import sample_set

    monkeypatch.setenv("THRESHER_MIXTURE_SEARCH_SAMPLE_SEED", "9")
    result = proxy.main([*_base(summary, "search/sampled"), "--index", "3", "--curve"])
    expected = sample_set(summary["criteria"], summary["domains"], 9, 3, "linear")
    assert result["params_version"] == expected.version and result["status"] == "finished"
    # the learning curve: held-out bits per byte at steps 1 and 2, beside the unigram level
    curve = result["curve"]
    assert [step for step, _ in curve["held_out_bpb"]] == [1, 2]
    assert curve["held_out_bpb"][-1][1] == result["loss"]
    # the training loss as logged (every log interval and at the last step)
    assert math.isfinite(curve["unigram_bpb"]) and curve["train_loss"][-1][0] == 2

    # the quota is met within one document, so a batch larger than the whole quota is what
    # leaves too little text: 20,000 bytes are not one batch of 2,000 × 33 tokens
    monkeypatch.setenv("THRESHER_PROXY_BATCH_SIZE", "2000")
    empty = proxy.main([*_base(summary, "search/tiny-quota"), "--index", "3"])
    assert empty["status"] == "too_small" and empty["loss"] is None


def test_a_search_folder_refuses_proxies_trained_differently(proxy_env, tmp_path, monkeypatch):
    _, summary = proxy_env
    args = [
        *_base(summary, "search/strict"),
        "--params",
        str(_params_file(tmp_path, summary, omega=0.5)),
    ]
    proxy.main(args)
    monkeypatch.setenv("THRESHER_PROXY_MAX_STEPS", "3")
    with pytest.raises(BadInput, match="belongs to another search"):
        proxy.main(args)


def test_an_interrupted_proxy_resumes_from_its_last_checkpoint(proxy_env, tmp_path, monkeypatch):
    home, summary = proxy_env
    monkeypatch.setenv("THRESHER_PROXY_MAX_STEPS", "300")
    monkeypatch.setenv("THRESHER_PROXY_CHECKPOINT_EVERY", "10")
    args = [
        *_base(summary, "search/interrupted"),
        "--params",
        str(_params_file(tmp_path, summary, omega=0.5)),
    ]
    env = {**os.environ, "THRESHER_TRACKING_TRACKING_URI": "off", "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-m", "models.mixture_search.proxy", *args],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    proxies = home / "checkpoints" / "search" / "interrupted" / "proxies"
    try:
        deadline = time.monotonic() + 300
        while not list(proxies.glob("*/seed-1/checkpoints/step_*.pt")):
            assert child.poll() is None, "the proxy ended before its first checkpoint"
            assert time.monotonic() < deadline, "no checkpoint within 300 s"
            time.sleep(0.05)
    finally:
        os.killpg(child.pid, signal.SIGKILL)  # as a preempted pod would be
        child.wait()
    (folder,) = proxies.glob("*/seed-1")
    assert not (folder / proxy.FINISHED).exists()

    result = proxy.main(args)

    assert result["status"] == "finished" and not result["resumed"]
    assert 10 <= result["resumed_from_step"] < 300 and result["steps"] == 300
