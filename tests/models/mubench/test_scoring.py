"""Cloze scoring with a tiny LLaMA: manual log-probs, padding invariance, windows, choices."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch", reason="needs the 'ml' extra (torch, transformers)")
pytest.importorskip("transformers", reason="needs the 'ml' extra (torch, transformers)")

from models.mubench.evaluate import score_items  # noqa: E402
from models.mubench.scoring import CausalLMScorer, plan_windows, split_pair  # noqa: E402
from thresher.corpora.items import Item  # noqa: E402

REQUESTS = [
    ("The cat sat on the", " mat."),
    ("The cat sat on the ", "moon."),  # trailing space moves to the continuation
    ("", "The sun rises in the east."),  # empty context: conditioned on BOS only
    ("Der Hund", " schläft."),
    ("Topic: sports, travel, politics, health, geography. The sun sets in the", " west."),
    ("猫在", "睡觉。"),
]


@pytest.fixture(scope="module")
def scorer(tiny_lm):
    return CausalLMScorer.from_pretrained(str(tiny_lm), device="cpu", batch_size=4)


def manual_logprob(scorer, context, continuation):
    """Sum of log-softmax at the continuation's tokens, from one unpadded forward pass."""
    tok = scorer.tokenizer
    context, continuation = split_pair(context, continuation)
    context_ids = tok(context, add_special_tokens=False)["input_ids"] if context else []
    whole = tok(context + continuation, add_special_tokens=False)["input_ids"]
    ids = [tok.bos_token_id, *whole]
    with torch.no_grad():
        logits = scorer.model(input_ids=torch.tensor([ids])).logits[0].double()
    logprobs = torch.log_softmax(logits, dim=-1)
    first = 1 + len(context_ids)
    picked = [logprobs[p - 1, ids[p]].item() for p in range(first, len(ids))]
    return sum(picked), len(picked)


def test_split_pair_moves_trailing_whitespace():
    assert split_pair("The cat sat on the ", "moon.") == ("The cat sat on the", " moon.")
    assert split_pair("A\n", "B") == ("A", "\nB")


@pytest.mark.parametrize(
    ("length", "first", "max_length", "spans"),
    [
        (10, 7, 16, [(0, 7, 10)]),  # fits: all tokens before the targets as context
        (10, 7, 4, [(5, 7, 10)]),  # left context cut to fit: input tokens 5..8
        # long text: blocks of 4 targets, each with as much context as fits
        (10, 1, 4, [(0, 1, 5), (4, 5, 9), (5, 9, 10)]),
    ],
)
def test_plan_windows(length, first, max_length, spans):
    assert plan_windows(length, first, max_length) == spans


def test_plan_windows_refuses_nothing_to_score():
    with pytest.raises(ValueError, match="targets must start"):
        plan_windows(3, 3, 8)


def test_sum_matches_a_manual_computation(scorer):
    for (context, continuation), result in zip(
        REQUESTS, scorer.loglikelihoods(REQUESTS), strict=True
    ):
        expected, n_tokens = manual_logprob(scorer, context, continuation)
        assert result.n_tokens == n_tokens > 0
        assert result.logprob == pytest.approx(expected, abs=1e-4)


def test_batching_and_padding_do_not_change_scores(tiny_lm):
    single = CausalLMScorer.from_pretrained(str(tiny_lm), device="cpu", batch_size=1)
    batched = CausalLMScorer.from_pretrained(str(tiny_lm), device="cpu", batch_size=len(REQUESTS))
    one = single.loglikelihoods(REQUESTS)
    together = batched.loglikelihoods(REQUESTS)
    assert [r.n_tokens for r in one] == [r.n_tokens for r in together]
    for a, b in zip(one, together, strict=True):
        assert a.logprob == pytest.approx(b.logprob, abs=1e-4)
    # Deterministic: the same call gives the same numbers.
    assert batched.loglikelihoods(REQUESTS) == together


def test_long_texts_are_scored_in_windows(tiny_lm, scorer):
    text = " ".join(["The sun rises in the east and sets in the west."] * 6)
    small = CausalLMScorer.from_pretrained(str(tiny_lm), device="cpu", max_length=16)
    (windowed,) = small.loglikelihoods([("", text)])
    (whole,) = scorer.loglikelihoods([("", text)])
    n_tokens = len(scorer.tokenizer(text, add_special_tokens=False)["input_ids"])
    assert n_tokens > 3 * 16  # several windows
    assert windowed.n_tokens == whole.n_tokens == n_tokens  # every token scored once
    assert whole.logprob == pytest.approx(manual_logprob(scorer, "", text)[0], abs=1e-3)


def test_a_model_that_knows_the_answers_picks_them(tiny_lm):
    scorer = CausalLMScorer.from_pretrained(str(tiny_lm), device="cpu")
    # Teach the tiny model the two right sentences until it all but memorises them.
    torch.manual_seed(0)
    texts = ["<s>The cat sat on the mat.", "<s>The sun rises in the east."]
    batch = scorer.tokenizer(texts, add_special_tokens=False, padding=True, return_tensors="pt")
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    model = scorer.model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-2)
    for _ in range(40):
        model(**batch, labels=labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()
    items = [
        Item("t", "cat", "en", "The cat sat on the", (" mat.", " moon."), 0),
        Item("t", "sun", "en", "The sun rises in the", (" west.", " east."), 1),
    ]
    predictions = score_items(items, scorer)
    assert predictions["predicted"].tolist() == [0, 1]
    assert predictions["predicted_norm"].tolist() == [0, 1]
    assert predictions["predicted_norm_token"].tolist() == [0, 1]
    for row in predictions.itertuples():
        right, wrong = row.option_logprobs[row.answer], row.option_logprobs[1 - row.answer]
        assert right > -1.0 and wrong < right - 10  # nearly all probability on the right one
