"""Shingling per script, MinHash estimates, and the LSH banding maths."""

import numpy as np
import pytest

from thresher.languages import CHARACTER_LANGUAGES
from thresher.text import minhash

TEXT = (
    "the river rose through the night and by morning the old bridge was under water while "
    "families on both banks moved their animals to the hills and waited for news from town"
)


def test_words_for_spaced_scripts_and_characters_for_cjk_and_thai():
    assert minhash.tokens("Hello, World! Ça va?", "fr") == ["hello", "world", "ça", "va"]
    assert minhash.tokens("东京 大学", "zh") == ["东", "京", "大", "学"]
    assert minhash.tokens("ภาษา ไทย", "th") == list("ภาษาไทย")


def test_shingles_are_deterministic_unique_and_counted_by_window():
    words = TEXT.split()
    hashes = minhash.shingle_hashes(TEXT, "en", 5)
    assert hashes.dtype == np.uint32
    assert np.all(np.diff(hashes.astype(np.int64)) > 0)
    assert hashes.size == len(words) - 4  # every 5-word window of this text is distinct
    assert np.array_equal(hashes, minhash.shingle_hashes(TEXT.upper(), "en", 5))
    assert minhash.shingle_hashes("two words", "en", 5).size == 1
    assert minhash.shingle_hashes("", "en", 5).size == 0


def test_signature_agreement_estimates_jaccard():
    other = TEXT.replace("old bridge", "new bridge").replace("animals", "cattle")
    a, b = minhash.shingle_hashes(TEXT, "en", 3), minhash.shingle_hashes(other, "en", 3)
    exact = minhash.jaccard(a, b)
    sig_a = minhash.signature(a, 256, seed=7)
    sig_b = minhash.signature(b, 256, seed=7)
    assert 0.4 < exact < 0.9
    assert abs(float(np.mean(sig_a == sig_b)) - exact) < 0.1
    assert np.array_equal(sig_a, minhash.signature(a, 256, seed=7))


def test_banding_for_the_usual_thresholds():
    assert minhash.lsh_parameters(0.8, 128) == (9, 13)
    bands, rows = minhash.lsh_parameters(0.5, 128)
    assert bands * rows <= 128 and bands > 9  # a lower threshold needs more, shorter bands
    with pytest.raises(ValueError, match="threshold"):
        minhash.lsh_parameters(1.0, 128)


@pytest.mark.parametrize(("threshold", "num_perm"), [(0.8, 128), (0.7, 256), (0.9, 64)])
def test_banding_s_curve_separates_around_the_threshold(threshold, num_perm):
    bands, rows = minhash.lsh_parameters(threshold, num_perm)

    def probability(s):
        return 1 - (1 - s**rows) ** bands

    assert probability(threshold + 0.1) > 0.9
    assert probability(threshold - 0.3) < 0.1


def test_identical_signatures_share_every_band_and_bands_never_collide():
    sig = minhash.signature(minhash.shingle_hashes(TEXT, "en", 5), 128, 1)
    bands = minhash.band_hashes(sig, 9, 13)
    assert bands.dtype == np.int64 and bands.size == 9
    assert np.array_equal(bands, minhash.band_hashes(sig.copy(), 9, 13))
    same_rows = np.tile(sig[:13], 9)  # every band holds the same values
    assert len(set(minhash.band_hashes(same_rows, 9, 13).tolist())) == 9


def _reference_shingle_count(text: str, language: str, n: int) -> int:
    toks = minhash.tokens(text, language)
    return len({tuple(toks[i : i + n]) for i in range(max(1, len(toks) - n + 1))}) if toks else 0


def test_batch_shingling_matches_the_reference_tokens_and_single_documents(monkeypatch):
    texts = [TEXT, "", "東京大学の 学生です", "ภาษาไทย ง่าย", "one two", TEXT.upper(), "a_b c-d"]
    languages = ["en", "en", "ja", "th", "en", "en", "en"]
    monkeypatch.setattr(minhash, "SHINGLE_CHARS_PER_SLICE", 40)  # several slices per batch
    hashes, offsets = minhash.batch_shingles(texts, languages, 5, 3)
    assert offsets.tolist()[0] == 0 and offsets[-1] == hashes.size and offsets.size == 8
    for i, (text, language) in enumerate(zip(texts, languages, strict=True)):
        n = 3 if language in CHARACTER_LANGUAGES else 5
        own = hashes[offsets[i] : offsets[i + 1]]
        assert own.size == _reference_shingle_count(text, language, n)
        assert np.array_equal(own, minhash.shingle_hashes(text, language, n))
    assert np.array_equal(
        hashes[offsets[0] : offsets[1]], hashes[offsets[5] : offsets[6]]
    )  # case-insensitive


def test_batch_signatures_equal_one_document_at_a_time_across_chunk_edges(monkeypatch):
    monkeypatch.setattr(minhash, "SIGNATURE_CHUNK", 7)  # documents cut by chunk edges
    sets = [minhash.shingle_hashes(t, "en", 2) for t in (TEXT, "", "a b c", TEXT[:90])]
    offsets = np.concatenate(([0], np.cumsum([s.size for s in sets])))
    batch = minhash.batch_signatures(np.concatenate(sets), offsets, 64, 3)
    assert batch.shape == (4, 64)
    assert np.all(batch[1] == minhash.MAX_HASH)  # no shingles: the empty signature
    for row, hashes in zip(batch, sets, strict=True):
        assert np.array_equal(row, minhash.signature(hashes, 64, 3))
    bands = minhash.band_hashes(batch, 8, 8)
    assert bands.shape == (4, 8) and np.array_equal(bands[0], minhash.band_hashes(batch[0], 8, 8))


def test_weighing_misses_heavily_buys_recall_at_the_threshold():
    def at_threshold(bands, rows):
        return 1 - (1 - 0.8**rows) ** bands

    balanced = minhash.lsh_parameters(0.8, 128)
    recall_first = minhash.lsh_parameters(0.8, 128, fp_weight=0.05, fn_weight=0.95)
    assert recall_first == (16, 8)
    assert at_threshold(*balanced) < 0.5 < 0.9 < at_threshold(*recall_first)


def test_one_permutation_agreement_estimates_jaccard_like_independent_permutations():
    """Over 200 random set pairs across the similarity range, one-permutation hashing with
    densification estimates Jaccard as closely as 128 independent permutations."""
    rng = np.random.default_rng(5)
    sets, exact = [], []
    for _ in range(200):
        shared = rng.integers(0, 2**32, size=rng.integers(20, 600), dtype=np.uint32)
        a = np.unique(np.concatenate([shared, rng.integers(0, 2**32, 40, dtype=np.uint32)]))
        b = np.unique(np.concatenate([shared, rng.integers(0, 2**32, 40, dtype=np.uint32)]))
        sets += [a, b]
        exact.append(minhash.jaccard(a, b))
    offsets = np.concatenate(([0], np.cumsum([s.size for s in sets])))
    errors = {}
    for scheme in minhash.SIGNATURE_SCHEMES:
        sig = minhash.signatures(np.concatenate(sets), offsets, 128, 1, scheme)
        estimate = (sig[0::2] == sig[1::2]).mean(axis=1)
        errors[scheme] = np.abs(estimate - np.array(exact))
    assert errors["one_permutation"].mean() < 0.035
    assert errors["one_permutation"].mean() < 1.25 * errors["permutations"].mean()


def test_one_permutation_signatures_fill_every_bin_and_depend_only_on_the_set():
    short = minhash.shingle_hashes("a b c d e f g h", "en", 2)  # 7 shingles for 64 bins
    sets = [short, np.array([], np.uint32), minhash.shingle_hashes(TEXT, "en", 2)]
    offsets = np.concatenate(([0], np.cumsum([s.size for s in sets])))
    batch = minhash.one_permutation_signatures(np.concatenate(sets), offsets, 64, 3)
    assert batch.shape == (3, 64) and batch.dtype == np.uint32
    assert np.all(batch[0] != minhash.MAX_HASH)  # densified: every bin holds a shingle's value
    assert set(batch[0].tolist()) <= set(
        minhash.one_permutation_signatures(short, np.array([0, short.size]), 64, 3)[0].tolist()
    )
    assert np.all(batch[1] == minhash.MAX_HASH)  # no shingles: the empty signature
    alone = minhash.one_permutation_signatures(sets[2], np.array([0, sets[2].size]), 64, 3)
    assert np.array_equal(batch[2], alone[0])  # the same set, the same signature, in any batch
    with pytest.raises(ValueError, match="unknown MinHash scheme"):
        minhash.signatures(short, np.array([0, short.size]), 64, 3, "bogus")
