"""The multilingual encoder: offline loading, truncation, cross-lingual geometry."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from spark_jobs.domain_labels import sib200_rows
from spark_jobs.text_embeddings import embed_texts
from thresher.text import e5
from thresher.text.truncate import truncate as truncate_text

_NETWORK_EVENTS = ("socket.connect", "socket.getaddrinfo", "urllib.Request")
_recording: list[list[str]] = []


def _record_network(event: str, args: tuple) -> None:
    if _recording and event in _NETWORK_EVENTS:
        _recording[-1].append(event)


# Audit hooks cannot be removed; this one records only while a test listens.
sys.addaudithook(_record_network)


def test_short_texts_are_kept_whole():
    assert truncate_text("a short text", 100) == "a short text"


def test_long_texts_are_cut_at_a_nearby_word_boundary():
    text = "word " * 100
    cut = truncate_text(text, 52)
    assert len(cut) <= 52 and cut.endswith("word") and not cut.endswith(" ")


def test_text_without_spaces_is_cut_at_the_limit():
    assert truncate_text("漢" * 30, 10) == "漢" * 10


@pytest.mark.parametrize("runtime", e5.RUNTIMES)
def test_encoder_loads_from_the_wheel_without_network(monkeypatch, runtime):
    if runtime == "torch":
        pytest.importorskip("torch")
    monkeypatch.setattr(e5, "_ENCODERS", {})
    _recording.append([])
    try:
        encoder = e5.load_encoder(runtime=runtime)
        vectors = embed_texts(["Ein kurzer Satz.", "短い文です。"], runtime=runtime)
    finally:
        events = _recording.pop()
    assert events == []
    assert encoder.dim == 384 and vectors.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_translations_embed_closer_than_other_sentences(shared_data):
    rows = sib200_rows(shared_data / "sib200", ("en", "de", "zh"), per_split=5)
    train = [r for r in rows if r[1] == "train"]
    by_language = {lang: [r[5] for r in train if r[2] == lang] for lang in ("en", "de", "zh")}
    english = embed_texts(by_language["en"])
    for language in ("de", "zh"):
        similarity = embed_texts(by_language[language]) @ english.T
        # Row i is the translation of English sentence i (SIB-200 is parallel).
        assert (similarity.argmax(axis=1) == np.arange(len(english))).all(), language


@pytest.mark.parametrize("max_chars", [40, 2000])
def test_truncation_is_applied_before_embedding(max_chars):
    text = "The match ended in a draw after extra time. " * 20
    whole, head = embed_texts([text, truncate_text(text, max_chars)], max_chars=max_chars)
    np.testing.assert_allclose(whole, head, atol=1e-5)
