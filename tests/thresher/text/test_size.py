"""One token count for every language: UTF-8 bytes, whatever the label."""

from __future__ import annotations

from collections import defaultdict

from thresher.corpora.sources import load_flores
from thresher.text import quality_rules
from thresher.text.size import byte_tokens


def test_a_document_counts_its_bytes_whatever_its_language():
    text = "東京の大学 and a bridge. Мост."
    assert byte_tokens(text) == len(text.encode("utf-8")) == 39
    counts = {quality_rules.token_count(text, lang) for lang in ("ja", "en", "ru", "zh", None)}
    assert counts == {39}  # the count no longer depends on the label (characters for ja/zh)


def test_aligned_sentences_count_alike_across_scripts(shared_data):
    """FLORES sentences are translations of each other: in bytes every language of the 18 is
    within 0.9–2.7× its English, where characters and words ranged 0.69–5.3×."""
    sizes, old = defaultdict(int), defaultdict(int)
    for item in load_flores(shared_data / "sib200"):
        sizes[item.language] += byte_tokens(item.options[0])
        old[item.language] += len(quality_rules.tokens(item.options[0], item.language))
    ratios = {lang: n / sizes["en"] for lang, n in sizes.items()}
    before = {lang: n / old["en"] for lang, n in old.items()}
    assert len(ratios) == 18 and min(ratios.values()) >= 0.9 and max(ratios.values()) <= 2.7
    assert max(ratios.values()) / min(ratios.values()) < max(before.values()) / min(before.values())
    assert abs(ratios["ja"] - 1) < abs(before["ja"] - 1)  # characters made Japanese 2.4×
