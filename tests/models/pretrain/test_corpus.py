"""Reading a corpus from Delta, Parquet or JSONL; order, copies and packing."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from models.pretrain.corpus import (
    corpus_from_table,
    pack,
    read_corpus,
    training_order,
    validation_groups,
)
from thresher.entrypoint import BadInput

ROWS = [
    {"text": "a b", "language": "en", "domain": "news", "copies": 2, "split": "train"},
    {"text": "c", "language": "de", "domain": "news", "copies": 0, "split": "train"},
    {"text": "d e f", "language": "de", "domain": "law", "copies": 3, "split": "train"},
    {"text": "g", "language": "en", "domain": "law", "copies": 1, "split": "validation"},
]


def test_delta_parquet_and_jsonl_read_the_same_rows(spark, tmp_path):
    delta = str(tmp_path / "delta")
    spark.createDataFrame(ROWS).write.format("delta").save(delta)
    parquet = tmp_path / "corpus.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS), parquet)
    jsonl = tmp_path / "corpus.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in ROWS))
    for path in (delta, str(parquet), str(jsonl)):
        corpus = corpus_from_table(read_corpus(path))
        assert sorted(corpus.texts) == ["a b", "c", "d e f", "g"], path
        assert sorted(corpus.copies.tolist()) == [0, 1, 2, 3]


def test_bad_corpora_are_named(tmp_path):
    with pytest.raises(BadInput, match="does not exist"):
        read_corpus(str(tmp_path / "missing"))
    no_text = tmp_path / "no_text.parquet"
    pq.write_table(pa.table({"body": ["x"]}), no_text)
    with pytest.raises(BadInput, match="no 'text' column"):
        read_corpus(str(no_text))
    empty = tmp_path / "empty.parquet"
    pq.write_table(pa.table({"text": pa.array([], pa.string())}), empty)
    with pytest.raises(BadInput, match="is empty"):
        read_corpus(str(empty))
    negative = pa.Table.from_pylist([{"text": "x", "copies": -1}])
    with pytest.raises(BadInput, match="negative"):
        corpus_from_table(negative)


def test_training_order_honours_copies_and_holds_out_validation():
    corpus = corpus_from_table(pa.Table.from_pylist(ROWS))
    order = training_order(corpus, seed=7)
    assert np.bincount(order, minlength=4).tolist() == [2, 0, 3, 0]
    assert np.array_equal(order, training_order(corpus, seed=7))
    orders = {tuple(training_order(corpus, seed=s)) for s in range(10)}
    assert len(orders) > 1  # the seed decides the order


def test_without_optional_columns_every_document_trains_once():
    corpus = corpus_from_table(pa.table({"text": ["x", "y"]}))
    assert corpus.copies.tolist() == [1, 1]
    assert not corpus.validation.any()
    assert corpus.languages == ["unknown", "unknown"]


def test_pack_separates_documents_with_eos_and_drops_the_tail():
    tokens = [np.array([1, 2], np.int32), np.array([3], np.int32)]
    blocks = pack(tokens, np.array([0, 1, 0]), eos_id=9, block=3)
    # stream 1 2 9 3 9 1 2 9 → two full blocks, "2 9" dropped
    assert blocks.tolist() == [[1, 2, 9], [3, 9, 1]]
    assert pack(tokens, np.array([], int), eos_id=9, block=3).shape == (0, 3)


def test_validation_groups_by_language_and_domain():
    corpus = corpus_from_table(pa.Table.from_pylist(ROWS))
    groups = validation_groups(corpus)
    assert {k: v.tolist() for k, v in groups.items()} == {"language:en": [3], "domain:law": [3]}
