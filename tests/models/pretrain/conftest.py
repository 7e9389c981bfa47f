"""A small multilingual corpus and its tokenizer, shared by the pretraining tests."""

from __future__ import annotations

import json

import pytest

from tests.corpus import SENTENCES


@pytest.fixture(scope="session")
def corpus_file(tmp_path_factory):
    rows = []
    for i in range(60):
        language = ("en", "de", "fr")[i % 3]
        text = " ".join(SENTENCES[(i + k) % len(SENTENCES)] for k in range(4))
        split = "validation" if i % 10 == 0 else "train"
        rows.append(
            {
                "text": text,
                "language": language,
                "domain": "news",
                "copies": 1 + i % 2,
                "split": split,
            }
        )
    path = tmp_path_factory.mktemp("corpus") / "corpus.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    return path


@pytest.fixture(scope="session")
def tokenizer_dir(corpus_file, tmp_path_factory):
    from models.pretrain.corpus import corpus_from_table, read_corpus
    from models.pretrain.tokenizer import train_tokenizer

    corpus = corpus_from_table(read_corpus(str(corpus_file)))
    out = tmp_path_factory.mktemp("tokenizer")
    train_tokenizer(corpus.texts, 400, out)
    return out
