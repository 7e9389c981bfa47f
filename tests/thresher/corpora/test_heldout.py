"""Held-out evaluation text: nothing a scorer, classifier or selection step has seen, split in
two fixed halves that stay aligned across languages."""

from __future__ import annotations

from collections import defaultdict

import pytest

from thresher.corpora import heldout
from thresher.corpora.sources import load_builtin

LANGUAGES = ("en", "de", "ja", "zh", "it")


@pytest.fixture(scope="module")
def both(shared_data):
    return {
        which: heldout.heldout_items(
            heldout.PERPLEXITY_SETS + heldout.CHOICE_SETS, LANGUAGES, which, shared_data, 200
        )
        for which in heldout.HALVES
    }


def test_the_halves_are_disjoint_and_aligned(both):
    keys = {
        which: {(i.task, i.item_id, i.language) for i in items} for which, items in both.items()
    }
    assert not keys["search"] & keys["test"]
    for items in both.values():  # an aligned set splits the same ids in every language
        ids = defaultdict(set)
        for item in items:
            if item.task in ("flores", "flores_cloze", "xcopa", "xcopa_premises"):
                ids[(item.task, item.language)].add(item.item_id)
        for task in ("flores", "flores_cloze"):
            assert len({frozenset(ids[(task, lang)]) for lang in LANGUAGES}) == 1
    sizes = {which: len(items) for which, items in both.items()}
    assert abs(sizes["search"] - sizes["test"]) < 0.2 * sizes["test"]  # about half each


def test_no_text_a_scorer_or_classifier_learns_from(both, shared_data):
    """NTREX and XQuAD train the reference classifier, SIB-200 train the domain classifier,
    Tatoeba's first 200 lines are MuRating's: none of it is evaluation text."""
    texts = {i.options[0] for items in both.values() for i in items if i.kind == "perplexity"}
    seen = {i.options[0] for name in ("ntrex", "xquad") for i in load_builtin(name, shared_data)}
    train = (shared_data / "sib200" / "deu_Latn" / "train.tsv").read_text(encoding="utf-8")
    murating = (shared_data / "tatoeba" / "tatoeba.deu-eng.deu").read_text().splitlines()[:200]
    assert not texts & seen
    flores_de = [i.options[0] for i in both["test"] if i.task == "flores" and i.language == "de"]
    assert flores_de and not any(sentence in train for sentence in flores_de)
    tatoeba_de = " ".join(
        i.options[0]
        for items in both.values()
        for i in items
        if i.task == "tatoeba" and i.language == "de"
    )
    assert tatoeba_de and not any(line.strip() in tatoeba_de for line in murating if len(line) > 30)


def test_sets_cover_the_study_languages(both):
    found = defaultdict(set)
    for items in both.values():
        for item in items:
            found[item.task].add(item.language)
    assert found["flores"] == found["udhr"] == found["tatoeba"] == set(LANGUAGES)
    assert found["xcopa_premises"] == found["xcopa"] == {"it", "zh"}  # XCOPA's of the five
    udhr = [i for i in both["test"] if i.task == "udhr" and i.language == "en"]
    assert all(len(i.options[0].encode()) < 2 * heldout.UDHR_PASSAGE_BYTES for i in udhr)


def test_a_limit_and_a_bad_half(shared_data):
    few = heldout.heldout_items(["flores"], ["en", "de"], "all", shared_data, 200, limit=3)
    assert len(few) == 6
    with pytest.raises(heldout.ItemsError, match="half"):
        heldout.heldout_items(["flores"], ["en"], "train", shared_data, 200)
