"""Accuracy, MLC (Thresher definition) and perplexity on hand-made aligned predictions.

Every expected value is worked out by hand in the comments.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from models.mubench import metrics


def table(task, language, predicted, answers):
    return pd.DataFrame(
        {
            "task": task,
            "item_id": [str(i + 1) for i in range(len(answers))],
            "language": language,
            "predicted": predicted,
            "answer": answers,
        }
    )


ANSWERS = [0, 1, 0, 0]
COPA = pd.concat(
    [
        table("copa", "en", [0, 1, 1, 0], ANSWERS),  # right on 1, 2, 4: 3/4
        table("copa", "de", [0, 1, 0, 1], ANSWERS),  # right on 1, 2, 3: 3/4
        table("copa", "zh", [0, 1, 0, 0], ANSWERS),  # all right: 1
    ]
)
# de/en agree on items 1, 2: 1/2; de/zh on 1, 2, 3: 3/4; en/zh on 1, 2, 4: 3/4.
NLI = pd.concat(
    [
        table("nli", "en", [2, 0], [2, 1]),  # 1/2
        table("nli", "de", [2, 1], [2, 1]),  # 1; agree with en on item 1 only: MLC 1/2
    ]
)
PREDICTIONS = pd.concat([COPA, NLI], ignore_index=True)


def test_accuracy_per_language_and_task():
    per_language = metrics.accuracy(PREDICTIONS)
    assert per_language.to_dict("records") == [
        {"task": "copa", "language": "de", "n": 4, "accuracy": 0.75},
        {"task": "copa", "language": "en", "n": 4, "accuracy": 0.75},
        {"task": "copa", "language": "zh", "n": 4, "accuracy": 1.0},
        {"task": "nli", "language": "de", "n": 2, "accuracy": 1.0},
        {"task": "nli", "language": "en", "n": 2, "accuracy": 0.5},
    ]
    per_task = metrics.task_accuracy(PREDICTIONS).set_index("task")
    assert per_task.loc["copa", "accuracy"] == pytest.approx(2.5 / 3)  # (.75 + .75 + 1) / 3
    assert per_task.loc["nli", "accuracy"] == pytest.approx(0.75)
    assert per_task.loc["copa", "languages"] == 3


def test_mlc_per_language_pair():
    pairs = metrics.consistency(PREDICTIONS)
    got = {
        (r.task, r.language_a, r.language_b): (r.n, r.mlc, r.rel_mlc) for r in pairs.itertuples()
    }
    assert got == {
        ("copa", "de", "en"): (4, 0.5, pytest.approx(0.5 / 0.75)),  # accuracies .75, .75
        ("copa", "de", "zh"): (4, 0.75, pytest.approx(0.75 / 0.875)),  # .75, 1
        ("copa", "en", "zh"): (4, 0.75, pytest.approx(0.75 / 0.875)),
        ("nli", "de", "en"): (2, 0.5, pytest.approx(0.5 / 0.75)),  # 1, .5
    }


def test_mlc_summary_is_the_mean_over_pairs_and_rel_mlc_divides_by_mean_accuracy():
    summary = metrics.consistency_summary(PREDICTIONS).set_index("task")
    # copa: MLC (1/2 + 3/4 + 3/4) / 3 = 2/3; accuracy 5/6; Rel-MLC (2/3) / (5/6) = 0.8.
    assert summary.loc["copa", "pairs"] == 3
    assert summary.loc["copa", "mlc"] == pytest.approx(2 / 3)
    assert summary.loc["copa", "rel_mlc"] == pytest.approx(0.8)
    assert summary.loc["nli", "mlc"] == pytest.approx(0.5)
    assert summary.loc["nli", "rel_mlc"] == pytest.approx(2 / 3)


def test_mlc_against_english():
    versus = metrics.against_reference(PREDICTIONS, "en")
    got = {(r.task, r.language): (r.mlc, round(r.rel_mlc, 6)) for r in versus.itertuples()}
    assert got == {
        ("copa", "de"): (0.5, round(2 / 3, 6)),
        ("copa", "zh"): (0.75, round(6 / 7, 6)),
        ("nli", "de"): (0.5, round(2 / 3, 6)),
    }
    assert metrics.against_reference(PREDICTIONS, "fr").empty


def test_mlc_uses_the_items_both_languages_have():
    partial = pd.concat([table("t", "en", [0, 1, 1], [0, 1, 0]), table("t", "de", [0, 0], [0, 1])])
    (row,) = metrics.consistency(partial).itertuples()
    # Items 1 and 2 only: agree on 1 → 1/2; accuracies there en 1, de 1/2 → Rel 0.5 / 0.75.
    assert (row.n, row.mlc, row.accuracy_a, row.accuracy_b) == (2, 0.5, 0.5, 1.0)
    assert row.rel_mlc == pytest.approx(2 / 3)


def test_rel_mlc_is_undefined_at_zero_accuracy():
    wrong = pd.concat([table("t", "en", [1, 1], [0, 0]), table("t", "de", [1, 1], [0, 0])])
    (row,) = metrics.consistency_summary(wrong).itertuples()
    assert row.mlc == 1.0 and math.isnan(row.rel_mlc)


def test_duplicate_rows_are_refused():
    with pytest.raises(ValueError, match="more than once"):
        metrics.accuracy(pd.concat([COPA, COPA.head(1)]))


@pytest.mark.parametrize(
    ("logprobs", "chars", "tokens", "expected"),
    [
        # sums -4 > -6; per character -1 < -0.5; per token -4 < -1
        ([-4.0, -6.0], [4, 12], [1, 6], (0, 1, 1)),
        # per character -2 > -3; per token -4 < -1
        ([-4.0, -6.0], [2, 2], [1, 6], (0, 0, 1)),
        # ties go to the first option
        ([-1.0, -1.0], [3, 3], [1, 1], (0, 0, 0)),
    ],
)
def test_option_predictions(logprobs, chars, tokens, expected):
    assert metrics.option_predictions(logprobs, chars, tokens) == expected


def test_perplexity_in_bits_per_byte():
    ln2 = math.log(2)
    texts = pd.DataFrame(
        {
            "task": "news",
            "item_id": ["a", "b", "a"],
            "language": ["en", "en", "de"],
            "logprob": [-8 * ln2, -4 * ln2, -6 * ln2],
            "n_tokens": [2, 2, 3],
            "n_bytes": [4, 2, 6],
        }
    )
    got = metrics.perplexity(texts).set_index("language")
    # en: 12 bits / 6 bytes = 2; token perplexity exp(12 ln2 / 4) = 2^3 = 8.
    assert got.loc["en", "bits_per_byte"] == pytest.approx(2.0)
    assert got.loc["en", "token_perplexity"] == pytest.approx(8.0)
    # de: 6 bits / 6 bytes = 1; exp(6 ln2 / 3) = 4.
    assert got.loc["de", "bits_per_byte"] == pytest.approx(1.0)
    assert got.loc["de", "token_perplexity"] == pytest.approx(4.0)
    assert got.loc["en", "n"] == 2 and got.loc["en", "n_bytes"] == 6


def test_report_puts_mlc_beside_accuracy_for_each_variant():
    choices = PREDICTIONS.assign(
        predicted_norm=PREDICTIONS["answer"], predicted_norm_token=PREDICTIONS["predicted"]
    )
    report = metrics.report(choices, pd.DataFrame(), reference="en")
    copa = report["tasks"]["copa"]
    assert copa["languages"]["zh"] == {"n": 4, "acc": 1.0, "acc_norm": 1.0, "acc_norm_token": 1.0}
    assert copa["acc"] == pytest.approx(2.5 / 3) and copa["acc_norm"] == 1.0
    assert copa["mlc"]["name"] == "MLC (Thresher definition)"
    assert copa["mlc"]["acc"]["mean_pairwise"] == pytest.approx(2 / 3)
    assert copa["mlc"]["acc"]["rel_mlc"] == pytest.approx(0.8)
    assert copa["mlc"]["acc"]["vs_reference"]["zh"]["mlc"] == 0.75
    # Always answering right agrees everywhere: MLC 1, Rel-MLC 1.
    assert copa["mlc"]["acc_norm"]["mean_pairwise"] == 1.0
    assert copa["mlc"]["acc_norm"]["rel_mlc"] == 1.0
    assert "MLC(L1, L2)" in report["mlc_definition"]
