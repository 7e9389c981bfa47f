"""Promotion against the real MLflow registry (SQLite in a temp home): not worse, or kept."""

from __future__ import annotations

import pytest
import torch

from models.murating import promote
from models.murating.head import load_rater
from models.murating.registry import champion, register_rater
from models.murating.train import train
from thresher import model_registry, tracking
from thresher.config import MuRatingSettings, Settings
from thresher.entrypoint import BadInput
from thresher.murating import lifecycle
from thresher.murating.embeddings import EmbeddingCache, cache_folder
from thresher.murating.pairs import training_pairs


@pytest.fixture
def lake(judged_docs, quality_cache, tmp_path, monkeypatch):
    """Settings in a temp home, the synthetic vectors in its embedding cache, pairs on disk."""
    monkeypatch.setenv("THRESHER_HOME", str(tmp_path / "home"))
    settings = Settings.from_env()
    EmbeddingCache(cache_folder(settings), 256)._save(dict(quality_cache.vectors))
    pairs = training_pairs(judged_docs, 60, 120, 40, seed=1)
    pairs.to_parquet(tmp_path / "pairs.parquet")
    return settings, str(tmp_path / "pairs.parquet"), pairs


def register(settings, folder, key: str) -> str:
    run_id = tracking.open_run(settings, f"tests/{key}")
    return register_rater(settings, run_id, folder, {lifecycle.PAIR_SET_TAG: "default"})


def test_a_candidate_becomes_champion_only_if_it_is_not_worse(lake, quality_cache, tmp_path):
    settings, pairs_path, pairs = lake
    config = MuRatingSettings(epochs=8, batch_size=16, learning_rate=3e-3, hidden=16, seed=1)
    train(pairs, tmp_path / "good", config, cache=quality_cache)
    good = register(settings, tmp_path / "good" / "model", "good")
    reversed_rater = load_rater(tmp_path / "good" / "model")
    with torch.no_grad():  # the same rater, every preference turned round
        reversed_rater.head[-1].weight.neg_()
        reversed_rater.head[-1].bias.neg_()
    reversed_rater.save(tmp_path / "reversed")
    worse = register(settings, tmp_path / "reversed", "reversed")

    first = promote.main(["--candidate", good, "--pairs", pairs_path])
    assert first["promoted"] and first["reason"] == "no champion yet"
    assert champion(settings) == good

    second = promote.main(["--candidate", worse, "--pairs", pairs_path])
    assert not second["promoted"] and champion(settings) == good
    assert second["candidate_accuracy"]["overall"] < second["champion_accuracy"]["overall"]
    assert second["champion_accuracy"]["overall"] >= 0.8
    tags = {v.version: v.tags for v in model_registry.versions(settings, "murating")}
    assert tags[worse][lifecycle.PROMOTION_TAG].startswith("not promoted: accuracy")
    logged = tracking.client(settings).search_runs(
        [tracking.experiment_id(settings)], "params.`promotion.decision` = 'not promoted'"
    )
    assert len(logged) == 1 and "promotion.champion_accuracy" in logged[0].data.metrics

    forced = promote.main(["--candidate", worse, "--pairs", pairs_path, "--force"])
    assert forced["promoted"] and champion(settings) == worse  # a rollback works the same way
    aliases = {v.version: v.aliases for v in model_registry.versions(settings, "murating")}
    assert aliases == {good: (), worse: ("champion",)}  # what the registry page shows


def test_a_candidate_that_is_not_a_version_number_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("THRESHER_HOME", str(tmp_path / "home"))
    with pytest.raises(BadInput, match="registry version number"):
        promote.main(["--candidate", "champion; rm -rf /"])
    assert champion(Settings.from_env()) is None
