"""The built-in item sets, built from the real corpora in ../shared/data."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from thresher.config import DEFAULT_LANGUAGES
from thresher.corpora.items import ItemsError, check_aligned
from thresher.corpora.sources import SIB200_LABELS, load_builtin, split_sentence

XCOPA_LANGUAGES = {"et", "ht", "id", "it", "qu", "sw", "ta", "th", "tr", "vi", "zh"}
PROJECT_LANGUAGES = set(DEFAULT_LANGUAGES)
XQUAD_LANGUAGES = {"ar", "de", "el", "en", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh"}


def by_key(items):
    return {(i.language, i.item_id): i for i in items}


def keys_per_language(items):
    keys = defaultdict(set)
    for i in items:
        keys[i.language].add(i.item_id)
    return keys


@pytest.mark.parametrize(
    ("name", "languages", "per_language", "kind"),
    [
        ("xcopa", XCOPA_LANGUAGES, 100, "choice"),
        ("sib200", PROJECT_LANGUAGES, 99, "choice"),
        ("xquad", XQUAD_LANGUAGES, 240, "perplexity"),
        ("ntrex", PROJECT_LANGUAGES, 123, "perplexity"),
        ("flores", PROJECT_LANGUAGES, 99, "perplexity"),
        ("flores_cloze", PROJECT_LANGUAGES, 99, "choice"),
    ],
)
def test_builtin_sets_are_aligned(shared_data, name, languages, per_language, kind):
    items = load_builtin(name, shared_data)
    counts = Counter(i.language for i in items)
    assert counts == dict.fromkeys(languages, per_language)
    assert {i.task for i in items} == {name} and {i.kind for i in items} == {kind}
    keys = keys_per_language(items)
    assert all(ids == keys["zh"] for ids in keys.values())
    check_aligned(items)


def test_xcopa_cloze_follows_lm_eval(shared_data):
    items = by_key(load_builtin("xcopa", shared_data))
    first = items[("et", "0")]
    # "Mees keeras kraani lahti." (effect): period dropped, connector, lower-cased options.
    assert first.context == "Mees keeras kraani lahti seetõttu"
    assert first.options == (" tualett täitus veega.", " tilast voolas vett.")
    assert first.answer == 1
    # Tamil premises have no final punctuation: nothing is cut.
    assert items[("ta", "7")].context.endswith("வீங்கின காரணமாக")


def test_xcopa_question_type_is_the_majority_across_languages(shared_data):
    items = by_key(load_builtin("xcopa", shared_data))
    # Item 7 ("my eyes were red and swollen" / "I cried") is a "cause" item; the Thai and
    # Turkish files call it "effect", which would give them "therefore" instead of "because".
    assert items[("th", "7")].context == "ตาของฉันแดงและบวม เพราะ"
    assert items[("tr", "7")].context == "Gözlerim kızardı ve şişti çünkü"
    assert items[("it", "7")].context.endswith(" perché")


def test_sib200_is_a_choice_among_english_label_words(shared_data):
    items = by_key(load_builtin("sib200", shared_data))
    english, chinese = items[("en", "548")], items[("zh", "548")]
    assert english.options == chinese.options == tuple(" " + w for w in SIB200_LABELS)
    assert english.answer == chinese.answer == SIB200_LABELS.index("sports")
    assert english.context.startswith("Text: With the change from the quarter to the half mile")
    assert chinese.context == (
        "Text: 从四分之一英里转变为半英里的赛跑，速度变得不那么重要了，耐力成为绝对重要的因素。"
        "\nTopic:"
    )


def test_sib200_label_words_per_language(shared_data):
    from thresher.corpora.sources import load_sib200

    words = ["Wissenschaft", "Reisen", "Politik", "Sport", "Gesundheit", "Unterhaltung", "Erdkunde"]
    items = by_key(load_sib200(shared_data / "sib200", label_words={"de": words}))
    assert items[("de", "548")].options[3] == " Sport"
    assert items[("en", "548")].options[3] == " sports"
    with pytest.raises(ItemsError, match="needs 7 words"):
        load_sib200(shared_data / "sib200", label_words={"de": words[:3]})


def test_perplexity_sets_hold_one_text_per_item(shared_data):
    xquad = by_key(load_builtin("xquad", shared_data))
    paragraph = xquad[("en", "56beb4343aeaaa14008c925b")]
    assert paragraph.context == "" and paragraph.answer == 0
    assert paragraph.options[0].startswith("The Panthers defense gave up just 308 points")
    ntrex = by_key(load_builtin("ntrex", shared_data))
    document = ntrex[("en", "bbc.381790")].options[0]
    assert document.startswith("Welsh AMs worried about 'looking like muppets'\n")


def test_missing_folders_are_named(tmp_path):
    with pytest.raises(ItemsError, match="XCOPA folder not found"):
        load_builtin("xcopa", tmp_path)
    with pytest.raises(ItemsError, match="unknown built-in item set 'copa'"):
        load_builtin("copa", tmp_path)


def test_sentences_split_at_the_middle_word_or_character():
    assert split_sentence("The river rose over night", "en") == ("The river", " rose over night")
    assert split_sentence("河水一夜之间上涨", "zh") == ("河水一夜", "之间上涨")
    # a Chinese sentence with spaces around numbers still splits by characters
    assert split_sentence("每秒 1.5 公里", "zh") == ("每秒 1", ".5 公里")
    assert split_sentence("Short one", "en") == ("Shor", "t one")


def test_flores_cloze_asks_the_same_question_in_every_language(shared_data):
    items = by_key(load_builtin("flores_cloze", shared_data))
    sentences = by_key(load_builtin("flores", shared_data))
    for (language, key), item in items.items():
        # the true ending completes the sentence; the answer slot rotates with the position
        assert item.context + item.options[item.answer] == sentences[language, key].options[0]
        assert len(item.options) == 4 and len(set(item.options)) == 4
    en, zh = items["en", "241"], items["zh", "241"]
    assert en.answer == zh.answer
    assert {i.answer for i in items.values()} == {0, 1, 2, 3}
