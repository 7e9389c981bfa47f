"""The choice over a search folder: regression runs, plot, a new parameters version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.mixture_search import choose, proxy
from thresher import tracking
from thresher.config import Settings
from thresher.entrypoint import BadInput
from thresher.mixture_search import sample_set, search_settings
from thresher.quadmix import QuadMixParams

CRITERIA = ("rules", "reference_classifier")
DOMAINS = ("news", "science")


def _loss(params: QuadMixParams) -> float:
    """Known optimum: news keeps 3 % of its tokens."""
    return 3.0 + (params.omega[0] / 0.1 - 0.3) ** 2


def _finished_proxies(search: Path, count: int) -> None:
    """Proxy folders as the proxy entry point leaves them, with losses from ``_loss``: seed 1
    of every sampled set, seed 2 of set 1 (a noise repeat) and a confirmation's proxy of
    other parameters (no index) — only the first are points of the regression."""
    for k in range(count):
        params = sample_set(CRITERIA, DOMAINS, 4, k, "linear")
        folder = search / "proxies" / params.version
        loss = None if k == 0 else _loss(params)  # the first one had too little text
        seeds = (1, 2) if k == 1 else (1,)
        for seed in seeds:
            (folder / f"seed-{seed}").mkdir(parents=True)
            result = {
                "status": "too_small" if loss is None else "finished",
                "loss": loss,
                "index": k,
                "seed": seed,
            }
            (folder / f"seed-{seed}" / proxy.FINISHED).write_text(json.dumps(result))
        (folder / "params.json").write_text(params.to_json())
    other = QuadMixParams.uniform(CRITERIA, DOMAINS)
    (search / "proxies" / other.version / "seed-1").mkdir(parents=True)
    (search / "proxies" / other.version / "params.json").write_text(other.to_json())
    confirmed = {"status": "finished", "loss": 0.0, "index": None, "seed": 1}
    (search / "proxies" / other.version / "seed-1" / proxy.FINISHED).write_text(
        json.dumps(confirmed)
    )


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("THRESHER_HOME", str(tmp_path))
    for name, value in (
        ("FOLDS", "4"),
        ("CANDIDATES", "4000"),
        ("TOP_K", "5"),
        ("SAMPLE_SEED", "4"),
        ("BOOTSTRAP", "300"),
    ):
        monkeypatch.setenv(f"THRESHER_MIXTURE_SEARCH_{name}", value)
    return tmp_path


def test_the_choice_is_a_new_version_near_the_optimum_with_its_runs(home):
    _finished_proxies(home / "checkpoints" / "search", 61)
    settings = search_settings(Settings(home=home))
    parent = tracking.open_run(settings, "tests/search", "parent")

    args = ["--search-dir", "search", "--parent-run-id", parent]

    result = choose.main(args)

    assert result["proxies"] == 60 and result["too_small"] == 1
    metrics, intervals = result["metrics"], result["intervals"]
    assert metrics["lightgbm_mae"] < metrics["linear_mae"] < metrics["mean_baseline_mae"]
    # against the mean predictor, with its interval: the gain is real here (a known optimum)
    low, high = intervals["lightgbm_minus_mean_mae"]
    assert low <= metrics["lightgbm_minus_mean_mae"] <= high < 0
    best = Path(result["best_proxy_params_path"])
    assert QuadMixParams.from_json(best.read_text()).version == result["best_proxy_params_version"]
    chosen = QuadMixParams.from_json(Path(result["params_path"]).read_text())
    assert chosen.version == result["params_version"] == Path(result["params_path"]).stem
    assert chosen == QuadMixParams.from_json(json.dumps(result["params"]))
    assert chosen.omega[0] == pytest.approx(0.03, abs=0.015)
    assert result["predicted_loss"] < 3.05
    out = home / "checkpoints" / "search" / "choice"
    regression = json.loads((out / "regression.json").read_text())
    assert len(regression["points"]) == 60 and regression["folds"] == 4
    assert (out / "predicted_vs_actual.png").read_bytes()[:4] == b"\x89PNG"

    client = tracking.client(settings)
    for run_id, name in (
        (result["regression_run_id"], "regression"),
        (result["choice_run_id"], "choice"),
    ):
        run = client.get_run(run_id)
        assert run.info.run_name == name and run.info.status == "FINISHED"
        assert run.data.tags["mlflow.parentRunId"] == parent
    artifacts = {a.path for a in client.list_artifacts(result["regression_run_id"])}
    assert {"predicted_vs_actual.png", "regression.json"} <= artifacts
    regression_run = client.get_run(result["regression_run_id"])
    assert regression_run.data.metrics["lightgbm_mae"] == pytest.approx(metrics["lightgbm_mae"])
    params_artifacts = client.list_artifacts(result["choice_run_id"], "params")
    assert [a.path for a in params_artifacts] == [f"params/{chosen.version}.json"]
    page = client.download_artifacts(result["choice_run_id"], "report.html", str(home))
    text = Path(page).read_text(encoding="utf-8")
    assert f"Mixture search: parameters {chosen.version}" in text
    assert "mean predictor (baseline)" in text and f"{metrics['lightgbm_mae']:.4g}" in text


def test_too_few_finished_proxies_is_bad_input(home):
    _finished_proxies(home / "checkpoints" / "small", 4)  # 3 with a loss
    with pytest.raises(BadInput, match="3 proxies with a loss"):
        choose.main(["--search-dir", "small"])
