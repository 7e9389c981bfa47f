import pytest

from tests.corpus import NTREX_LANGUAGES, ntrex_documents
from thresher.config import QualitySettings
from thresher.text import quality_rules as qr

CONFIG = QualitySettings()
PROSE = (
    "The committee met on Tuesday to discuss the new budget. Members said that the plan "
    "was not ready, and they asked for more time to review it with the city council."
)


def test_empty_text_fails_length_and_scores_low():
    values = qr.rule_values("", "en")
    assert values["words"] == 0 and values["mean_word_length"] == 0
    assert values["duplicate_line_fraction"] == 0 and values["top_2gram_fraction"] == 0
    score, failed = qr.evaluate(values, CONFIG)
    assert {"min_words", "min_mean_word_length", "min_stop_word_ratio"} <= set(failed)
    assert 0 <= score < 1


def test_clean_prose_passes_every_rule():
    text = "\n".join(
        [
            PROSE,
            "",
            "Residents who came to the meeting worried about taxes and the state of the roads.",
            "It will vote again next week, after a public hearing in the old town hall.",
        ]
    )
    score, failed = qr.evaluate(qr.rule_values(text, "en"), CONFIG)
    assert (score, failed) == (1.0, [])


def test_repeated_lines_and_paragraphs():
    lines = ["Buy cheap watches now.", "Free shipping today.", "Buy cheap watches now."] * 3
    values = qr.rule_values("\n".join(lines), "en")
    assert values["duplicate_line_fraction"] == pytest.approx(7 / 9)  # 2 distinct of 9
    assert values["duplicate_paragraph_fraction"] == 0  # one paragraph
    values = qr.rule_values("\n\n".join([PROSE, PROSE, "Something else here."]), "en")
    assert values["duplicate_paragraph_fraction"] == pytest.approx(1 / 3)
    _, failed = qr.evaluate(values, CONFIG)
    assert "max_duplicate_paragraph_fraction" in failed


def test_gopher_repetition_counts_repeats_not_first_occurrences():
    words = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
    values = qr.rule_values(" ".join(words + words), "en")
    for n in qr.DUPLICATE_NGRAMS:  # the second half repeats the first, character for character
        assert values[f"duplicate_{n}gram_fraction"] == pytest.approx(0.5)
    assert values["top_2gram_fraction"] == pytest.approx(2 * len("onetwo") / (2 * 39))
    once = qr.rule_values(" ".join(words), "en")
    assert once["top_2gram_fraction"] == 0 and once["duplicate_5gram_fraction"] == 0


def test_all_symbols_and_bullets():
    text = "\n".join(["# ### ...", "- #### …", "* ## ## ##"])
    values = qr.rule_values(text, "en")
    assert values["alphabetic_word_ratio"] == 0
    assert values["symbol_word_ratio"] > 1
    assert values["bullet_line_fraction"] == pytest.approx(2 / 3)
    assert values["punctuated_line_fraction"] == pytest.approx(2 / 3)  # "..." and "…" end two
    _, failed = qr.evaluate(values, CONFIG)
    assert {"min_alphabetic_word_ratio", "max_symbol_word_ratio"} <= set(failed)


def test_cjk_counts_characters_and_skips_word_length():
    text = "我们的城市在发展。人们都说这是一个好消息。"
    values = qr.rule_values(text, "zh")
    assert values["words"] == 19  # letters only: the two "。" are not tokens
    # the sampler's size is the document's UTF-8 bytes (thresher.text.size), not its characters
    assert qr.token_count(text, "zh") == len(text.encode("utf-8")) == 63
    assert "mean_word_length" not in values
    # stop characters 的 在 都 说 这 是 一 个 们 ×2 … as a share of the 19 characters
    assert 0.3 < values["stop_word_ratio"] < 0.7
    assert values["alphabetic_word_ratio"] == 1.0


def test_thai_has_no_punctuation_rule_and_unknown_languages_no_stop_words():
    assert "punctuated_line_fraction" not in qr.rule_values("ภาษาไทย เป็น ภาษา", "th")
    assert "stop_word_ratio" not in qr.rule_values(PROSE, "sw")
    assert "stop_word_ratio" in qr.rule_values(PROSE, "en")


def test_version_follows_thresholds():
    assert qr.rules_version(CONFIG) == qr.rules_version(QualitySettings())
    assert qr.rules_version(QualitySettings(min_words=10)) != qr.rules_version(CONFIG)
    assert qr.rules_version(QualitySettings(seed=9)) == qr.rules_version(CONFIG)


def test_real_news_passes_in_every_default_language(shared_data):
    # The thresholds are calibrated so that edited news (NTREX) is not thrown away.
    for code, language in NTREX_LANGUAGES.items():
        docs = ntrex_documents(shared_data, code, 123)
        passing = sum(not qr.evaluate(qr.rule_values(d, language), CONFIG)[1] for d in docs)
        assert passing / len(docs) >= 0.95, (code, passing)
