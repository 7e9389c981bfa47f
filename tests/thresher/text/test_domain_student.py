"""The fast domain student: fitted on SIB-200 labels, saved and loaded, refusing bad input."""

import io

import numpy as np
import pytest

from spark_jobs.domain_labels import sib200_rows
from thresher.text import domain_student


@pytest.fixture(scope="module")
def sib200(shared_data):
    return sib200_rows(shared_data / "sib200", ("en", "de", "es"))


@pytest.fixture(scope="module")
def student(sib200):
    train = [r for r in sib200 if r[1] == "train" and r[2] in ("en", "de")][:400]
    labels = tuple(sorted({r[4] for r in sib200}))
    targets = np.eye(len(labels))[[labels.index(r[4]) for r in train]]
    return domain_student.fit([r[5] for r in train], targets, labels, max_chars=256, max_iter=40)


def test_it_transfers_to_a_language_it_never_saw(student, sib200):
    """Unseen Spanish pieces vote through E5's input embeddings: well above chance (1/7)."""
    dev = [r for r in sib200 if r[1] == "dev" and r[2] == "es"]
    predicted, confidence = student.predict([r[5] for r in dev])
    accuracy = np.mean([p == r[4] for p, r in zip(predicted, dev, strict=True)])
    assert accuracy >= 0.4
    assert ((confidence >= 1 / 7) & (confidence <= 1)).all()


def test_a_saved_student_predicts_the_same(student, sib200):
    buffer = io.BytesIO()
    domain_student.save(student, buffer)
    buffer.seek(0)
    loaded = domain_student.load(buffer)
    texts = [r[5] for r in sib200[:50]]
    assert loaded.labels == student.labels and loaded.max_chars == 256
    np.testing.assert_allclose(loaded.logits(texts), student.logits(texts), rtol=1e-6)


def test_bad_input_is_refused(tmp_path):
    with pytest.raises(ValueError, match="targets must be 2 x 7"):
        domain_student.fit(["a", "b"], np.ones((2, 3)) / 3, tuple("abcdefg"))
    with pytest.raises(ValueError, match="at least one training text"):
        domain_student.fit([], np.zeros((0, 7)), tuple("abcdefg"))
    other = tmp_path / "other.npz"
    np.savez(other, weights=np.zeros(3))
    with open(other, "rb") as handle, pytest.raises(ValueError, match="not a domain student"):
        domain_student.load(handle)


def test_truncation_stops_at_a_word_boundary():
    assert domain_student.truncate("short", 256) == "short"
    assert domain_student.truncate("word " * 30, 98) == "word " * 18 + "word"
    assert domain_student.truncate("x" * 300, 256) == "x" * 256  # no space near: a hard cut
