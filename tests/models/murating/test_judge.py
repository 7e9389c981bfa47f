"""The pairwise judge on a tiny causal LM built from a config in the test (no hub download)."""

from __future__ import annotations

import numpy as np
import pytest

from models.murating.judge import ANSWERS, PROMPT, PairwiseJudge, sample_pairs
from tests.models.tiny import save_model, save_word_tokenizer
from thresher.entrypoint import BadInput

FILLER = [f"w{i}" for i in range(6)]


def document(rng, good: bool) -> str:
    words = list(rng.choice(FILLER, 2))
    words.insert(int(rng.integers(0, 3)), "good" if good else "poor")
    return " ".join(words)


@pytest.fixture(scope="module")
def judge_folder(tmp_path_factory):
    """A 2-layer GPT-2 with random weights and a word-level tokenizer, saved as a checkpoint."""
    from transformers import GPT2Config, GPT2LMHeadModel

    folder = tmp_path_factory.mktemp("tiny-judge")
    vocab = ["<pad>", "<unk>", "good", "poor", *FILLER, *{a.strip() for a in ANSWERS}]
    vocab += sorted(set(PROMPT.format(a="", b="").split()) - set(vocab))
    save_word_tokenizer(folder, vocab, "<unk>", pad_token="<pad>", eos_token="<pad>")
    config = GPT2Config(
        vocab_size=len(vocab),
        n_positions=64,
        n_embd=32,
        n_layer=2,
        n_head=2,
        bos_token_id=0,
        eos_token_id=0,
    )
    return save_model(folder, GPT2LMHeadModel, config)


def test_the_judge_reads_both_texts_and_cancels_its_position_bias(judge_folder):
    rng = np.random.default_rng(1)
    first = [document(rng, True) for _ in range(6)]
    second = [document(rng, False) for _ in range(6)]
    judge = PairwiseJudge(str(judge_folder), max_chars=200, batch_size=4)  # two batches, padded
    forward, backward = judge.judge(first, second), judge.judge(second, first)
    assert forward["p"].between(0, 1).all() and forward["p"].nunique() > 1
    # each order's raw answer differs (an untrained model favours a position) ...
    assert not np.allclose(forward["p_ab"], 1 - forward["p_ba"])
    # ... but averaging both orders makes a pair and its swap exactly complementary
    np.testing.assert_allclose(forward["p"] + backward["p"], 1.0, atol=1e-6)
    # both texts reach the judgment: changing either one changes it
    other = [document(rng, True) for _ in range(6)]
    assert not np.allclose(judge.judge(other, second)["p"], forward["p"])
    assert not np.allclose(judge.judge(first, other)["p"], forward["p"])


def test_a_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(BadInput, match="no transformers checkpoint"):
        PairwiseJudge(str(tmp_path / "nowhere"))


def test_judged_pairs_are_distinct_and_seeded():
    a, b = sample_pairs(10, 30, seed=3)
    assert len(a) == 30 and (a != b).all()
    assert len({tuple(sorted(p)) for p in zip(a, b, strict=True)}) == 30
    again = sample_pairs(10, 30, seed=3)
    assert (again[0] == a).all() and (again[1] == b).all()
    assert len(sample_pairs(4, 100, seed=3)[0]) == 6  # every pair of 4 units, no more
