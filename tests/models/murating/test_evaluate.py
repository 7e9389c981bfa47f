import pandas as pd
import pytest

from models.murating.evaluate import length_bucket, pairwise_accuracy, parallel_spearman


def test_pairwise_accuracy_counts_decided_pairs_per_language_source_length_and_type():
    short, long = "x" * 100, "y" * 1500
    pairs = pd.DataFrame(
        {
            "pair_type": ["monolingual", "cross_lingual", "parallel", "monolingual"],
            "language_a": ["en", "en", "en", "de"],
            "language_b": ["en", "de", "de", "de"],
            "source_a": ["ntrex", "ntrex", "xquad", "tatoeba"],
            "source_b": ["tatoeba", "ntrex", "xquad", "tatoeba"],
            "text_a": [short, long, short, short],
            "text_b": [long, long, short, short],
            "label": [0.9, 0.2, 0.5, 0.52],
        }
    )
    result = pairwise_accuracy(pairs, [1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0], margin=0.1)
    # the parallel pair and the near-tie are not counted; the cross-lingual one is wrong
    assert result["pairs"] == 2
    assert result["by_language"] == {"de": 0.0, "en": 0.5}
    assert result["by_pair_type"] == {"cross_lingual": 0.0, "monolingual": 1.0}
    # a pair counts once for each of its two sources (lengths): ntrex in both counted pairs
    assert result["by_source"] == {"ntrex": 0.5, "tatoeba": 1.0}
    assert result["by_length"] == {"0-256": 1.0, "1001-2000": 0.5}


def test_length_buckets_cover_every_length_once():
    assert [length_bucket(n) for n in (0, 256, 257, 1000, 1001, 2000, 2001, 10**6)] == [
        "0-256",
        "0-256",
        "257-1000",
        "257-1000",
        "1001-2000",
        "1001-2000",
        "2001+",
        "2001+",
    ]


def test_parallel_spearman_compares_each_language_with_its_english_side():
    docs = pd.DataFrame({"unit_id": list("abcdabcd"), "language": ["en"] * 4 + ["de"] * 4})
    result = parallel_spearman(docs, [1, 2, 3, 4, 10, 20, 30, 40])
    assert result == {"de": pytest.approx(1.0)}
    assert parallel_spearman(docs, [1, 2, 3, 4, 40, 30, 20, 10])["de"] == pytest.approx(-1.0)
