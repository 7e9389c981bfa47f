"""Reading the events export and encoding it: vocabularies from train only, padded history."""

from __future__ import annotations

import pyarrow as pa
import pytest
import torch

from models.poso import data
from tests.models.poso.events import synthetic_events, write_events

ROW = {
    "user_id": "u1",
    "activity_count": 0,
    "activity_bucket": 0,
    "is_new_user": True,
    "history_items": [],
    "history_labels": [],
    "age": 30,
    "gender": "F",
    "occupation": "writer",
    "genres": ["Drama"],
}


def _table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist([ROW | {"event_id": f"e{i}"} | r for i, r in enumerate(rows)])


def test_vocabularies_come_from_the_training_split(tmp_path):
    rows = [
        {"item_id": "a", "label": 1, "split": "train"},
        {
            "item_id": "b",
            "label": 0,
            "split": "train",
            "activity_count": 1,
            "activity_bucket": 1,
            "is_new_user": False,
            "history_items": ["a"],
            "history_labels": [1],
            "genres": ["Drama", "Comedy"],
        },
        # u2 and item c appear only after training: unknown to the model.
        {
            "user_id": "u2",
            "item_id": "c",
            "label": 1,
            "split": "valid",
            "age": None,
            "gender": None,
            "genres": ["Western"],
        },
        {
            "item_id": "c",
            "label": 0,
            "split": "test",
            "activity_count": 2,
            "activity_bucket": 2,
            "is_new_user": False,
            "history_items": ["a", "b"],
            "history_labels": [1, 0],
        },
    ]
    encoded = data.encode(data.read_events(str(write_events(tmp_path / "ev", _table(rows)))))
    train, valid, test = (encoded.splits[s] for s in data.SPLITS)
    assert encoded.vocab["users"] == ["u1"] and encoded.vocab["items"] == ["a", "b"]
    # A new user's event carries the unknown user (0) in training too, as at test time.
    assert train["user"].tolist() == [0, 1] and valid["user"].tolist() == [0]
    assert train["item"].tolist() == [2, 3] and valid["item"].tolist() == [1]  # 1 = unknown
    assert test["history_items"].tolist() == [[2, 3]]  # width = the longest history
    assert train["history_items"].tolist() == [[0, 0], [2, 0]]  # 0 = padding
    assert test["history_labels"].tolist() == [[2, 1]]  # positive 2, negative 1
    assert encoded.vocab["genres"] == ["Comedy", "Drama"]  # Western is never trained on
    assert train["genres"].tolist() == [[0, 1], [1, 1]] and valid["genres"].tolist() == [[0, 0]]
    assert train["age"].tolist() == [3, 3] and valid["age"].tolist() == [0]  # 25-34; unknown
    assert valid["gender"].tolist() == [0]
    # pc = [is_new, one-hot activity bucket of 0..2].
    assert test["pc"].tolist() == [[0.0, 0.0, 0.0, 1.0]]
    assert train["pc"].tolist() == [[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]
    assert encoded.summary["valid"]["new"]["events"] == 1
    assert encoded.summary["test"]["regular"] == {"events": 1, "users": 1, "positive_rate": 0.0}


def test_users_known_only_from_new_user_events_stay_unknown(tmp_path):
    rows = [
        {"item_id": "a", "label": 1, "split": "train"},
        {"user_id": "u2", "item_id": "a", "label": 1, "split": "train", "is_new_user": False},
        {
            "item_id": "a",
            "label": 0,
            "split": "valid",
            "is_new_user": False,
            "history_items": ["a"],
            "history_labels": [1],
        },
        {"item_id": "a", "label": 0, "split": "test", "is_new_user": False},
        {"user_id": "u2", "item_id": "a", "label": 0, "split": "test", "is_new_user": False},
    ]
    encoded = data.encode(data.read_events(str(write_events(tmp_path / "ev", _table(rows)))))
    assert encoded.vocab["users"] == ["u2"]  # u1 trained only as a new user
    assert encoded.splits["test"]["user"].tolist() == [0, 1]


def test_user_key_identifies_users_the_model_does_not_know(tmp_path):
    table = synthetic_events(users=20, events=12)  # the first 5 events of a user are new
    encoded = data.encode(table)
    test = encoded.splits["test"]
    # Late users are unknown to the model (index 0) yet remain distinct users for GAUC.
    late = test["user"] == 0
    assert late.any() and len(torch.unique(test["user_key"][late])) == 2


def test_batches_cover_every_row_once_in_a_seeded_order():
    split = data.encode(synthetic_events(users=6, events=5)).splits["train"]
    n = len(split["label"])
    seen = [
        b["user_key"]
        for b in data.batches(split, 4, torch.device("cpu"), torch.Generator().manual_seed(3))
    ]
    again = [
        b["user_key"]
        for b in data.batches(split, 4, torch.device("cpu"), torch.Generator().manual_seed(3))
    ]
    assert sum(len(s) for s in seen) == n
    assert all(torch.equal(a, b) for a, b in zip(seen, again, strict=True))
    first = next(data.batches(split, 4, torch.device("cpu")))
    assert first["history_items"].dtype == torch.int64 and first["genres"].dtype == torch.float32


def test_bad_inputs_are_named(tmp_path):
    with pytest.raises(data.EventsError, match="does not exist"):
        data.read_events(str(tmp_path / "nowhere"))
    (tmp_path / "delta" / "_delta_log").mkdir(parents=True)
    with pytest.raises(data.EventsError, match="Delta table"):
        data.read_events(str(tmp_path / "delta"))
    partial = synthetic_events(users=3, events=4).drop_columns(["split", "history_items"])
    with pytest.raises(data.EventsError, match=r"lack columns \['split', 'history_items'\]"):
        data.read_events(str(write_events(tmp_path / "partial", partial)))
    empty = synthetic_events(users=3, events=4).slice(0, 0)
    with pytest.raises(data.EventsError, match="no rows"):
        data.read_events(str(write_events(tmp_path / "empty", empty, files=1)))
    train_only = synthetic_events(users=3, events=4)
    train_only = train_only.filter(pa.compute.equal(train_only["split"], "train"))
    with pytest.raises(data.EventsError, match="no 'valid' rows"):
        data.read_events(str(write_events(tmp_path / "train-only", train_only, files=1)))
