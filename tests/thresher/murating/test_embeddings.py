"""A document's read: the first characters, or pieces over its first N tokens, mean-pooled."""

from __future__ import annotations

import numpy as np
import pytest

from thresher.murating.embeddings import DIM, EmbeddingCache, Read, read_pieces


def words(text: str) -> int:
    """A stand-in token count: one token per word."""
    return len(text.split())


TEXT = " ".join(f"w{i}" for i in range(50))


def test_pieces_cover_the_first_n_tokens_in_order_at_word_boundaries():
    pieces = read_pieces(TEXT, 25, 10, words)
    assert [n for _, n in pieces] == [10, 10, 5]
    assert " ".join(p for p, _ in pieces) == " ".join(TEXT.split()[:25])
    assert read_pieces(TEXT, 500, 10, words)[-1] == (" ".join(TEXT.split()[40:]), 10)
    assert read_pieces("", 100, 10, words) == []


def test_the_read_is_a_token_weighted_mean_of_cached_piece_vectors():
    cache = EmbeddingCache(None, read_tokens=25, chunk_tokens=10, token_counter=words)
    rng = np.random.default_rng(0)
    pieces = cache.pieces(TEXT)
    vectors = [rng.normal(size=DIM).astype(np.float32) for _ in pieces]
    for (piece, _), vector in zip(pieces, vectors, strict=True):
        cache.vectors[cache.key(piece)] = vector  # cached: no encoder is loaded
    expected = (10 * vectors[0] + 10 * vectors[1] + 5 * vectors[2]) / 25
    got = cache.embed([TEXT, TEXT])
    np.testing.assert_allclose(got[0], expected / np.linalg.norm(expected), rtol=1e-5)
    assert got.shape == (2, DIM)


def test_the_legacy_read_is_one_piece_of_the_first_characters():
    cache = EmbeddingCache(None, max_chars=8, token_counter=words)
    assert cache.pieces("one two three four five") == [("one two", 1)]
    assert Read(256).label == "first 256 characters"
    assert Read(256, 512, 128).label == "first 512 tokens in pieces of 128"
    with pytest.raises(ValueError, match="chunk_tokens"):
        Read(256, 512, 4000)


def test_the_torch_runtime_embeds_like_the_engine_under_its_own_cache_keys():
    pytest.importorskip("torch")
    texts = ["Le chat dort sur le canapé.", "Die Wahl findet im Mai statt.", "光合作用需要阳光。"]
    engine = EmbeddingCache(None, max_chars=64)
    torch_cache = EmbeddingCache(None, max_chars=64, runtime="torch")
    cosines = np.sum(engine.embed(texts) * torch_cache.embed(texts), axis=1)
    assert cosines.min() >= 0.999, cosines
    assert engine.key(texts[0]) != torch_cache.key(texts[0])
    with pytest.raises(ValueError, match="runtime"):
        EmbeddingCache(None, runtime="onnx")
