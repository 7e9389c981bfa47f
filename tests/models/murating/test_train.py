import dataclasses
import json

import numpy as np
import pytest

from models.murating.head import load_rater, score_texts
from models.murating.train import main, train
from tests.models.tiny import save_model, save_word_tokenizer
from thresher.config import MuRatingSettings
from thresher.murating.pairs import training_pairs


@pytest.fixture
def pairs(judged_docs):
    return training_pairs(judged_docs, 60, 120, 40, seed=1)


def test_a_tiny_training_run_lowers_the_loss_and_ranks_held_out_pairs(
    pairs, quality_cache, tmp_path
):
    config = MuRatingSettings(epochs=15, batch_size=16, learning_rate=3e-3, hidden=32, seed=1)
    result = train(pairs, tmp_path / "run", config, cache=quality_cache)
    losses = [h["train_loss"] for h in result["history"]]
    assert losses[-1] < losses[0] - 0.05 and losses[-1] < 0.55  # ln 2 = 0.69 untrained
    report = result["eval"]
    assert report["pairwise_accuracy_by_language"]["en"] >= 0.8
    assert report["pairwise_accuracy_by_pair_type"]["cross_lingual"] >= 0.7
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert len(saved["history"]) == 15
    page = (tmp_path / "run" / "report.html").read_text()
    assert "Pairwise accuracy on held-out pairs" in page and "chance" in page
    assert page.count("<tr>") >= 15  # one row per epoch at least


def test_training_resumes_from_its_checkpoint(pairs, quality_cache, tmp_path):
    config = MuRatingSettings(epochs=4, batch_size=16, hidden=16, seed=2)
    train(pairs, tmp_path / "a", dataclasses.replace(config, epochs=2), cache=quality_cache)
    resumed = train(pairs, tmp_path / "a", config, cache=quality_cache)
    train(pairs, tmp_path / "b", config, cache=quality_cache)  # the same epochs in one go
    assert [h["epoch"] for h in resumed["history"]] == [3, 4]
    texts = sorted(set(pairs.text_a))
    np.testing.assert_allclose(
        score_texts(_reload(tmp_path / "a", quality_cache), texts),
        score_texts(_reload(tmp_path / "b", quality_cache), texts),
        rtol=1e-5,
        atol=1e-6,
    )


def _reload(folder, cache):
    rater = load_rater(folder / "model")
    rater.cache = cache
    return rater


def test_missing_pairs_exit_with_code_2(tmp_path, monkeypatch, capsys):
    from thresher.entrypoint import run_entry_point

    monkeypatch.setenv("THRESHER_HOME", str(tmp_path))
    monkeypatch.setenv("THRESHER_TRACKING_TRACKING_URI", "off")
    with pytest.raises(SystemExit) as exit_info:
        run_entry_point(main, ["--pairs", str(tmp_path / "none"), "--output", "x"])
    assert exit_info.value.code == 2
    assert "do not exist" in capsys.readouterr().err


@pytest.fixture(scope="module")
def tiny_encoder(tmp_path_factory):
    """A tiny BERT (random weights) and a word-level tokenizer, saved like a checkpoint."""
    from transformers import BertConfig, BertModel

    folder = tmp_path_factory.mktemp("tiny-encoder")
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "document", "in", "en", "de", "zh"]
    words += [str(i) for i in range(24)]
    save_word_tokenizer(
        folder, words, "[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]"
    )
    config = BertConfig(
        vocab_size=len(words),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
    )
    return save_model(folder, BertModel, config)


def test_the_finetune_backend_trains_the_encoder_and_reloads(pairs, tiny_encoder, tmp_path):
    import torch

    config = MuRatingSettings(
        backend="finetune",
        encoder_path=str(tiny_encoder),
        epochs=3,
        batch_size=32,
        learning_rate=3e-3,
        max_length=16,
        seed=1,
    )
    result = train(pairs, tmp_path / "ft", config)
    losses = [h["train_loss"] for h in result["history"]]
    assert losses[-1] < losses[0]
    reloaded = load_rater(tmp_path / "ft" / "model")
    texts = ["document 3 in de", "document 7 in en"]
    first = score_texts(reloaded, texts)
    assert first.shape == (2,) and np.all(np.isfinite(first))
    from safetensors.torch import load_file

    # the encoder itself was trained, not only the head: its saved weights differ
    before = load_file(tiny_encoder / "model.safetensors")
    after = load_file(tmp_path / "ft" / "model" / "encoder" / "model.safetensors")
    changed = [k for k in before if k in after and not torch.equal(before[k], after[k])]
    assert changed
