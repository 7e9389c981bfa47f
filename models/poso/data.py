"""Events for training: the Parquet export of ``silver.poso_events`` → tensors per split.

The Spark job (``spark_jobs.movielens``) writes the events joined with user and item
features as plain Parquet, so this side needs only pyarrow (no JVM, no Delta reader) and
runs the same in a GPU pod as on a laptop. Vocabularies come from the training split only:
a user or item first seen later is "unknown" (index 0, or 1 for items, 0 being padding), as
it would be when serving — which is what makes new users cold. A new user's events carry
the unknown user in training too: a held-out user has no trained embedding at test time, so
the model learns what to do without one, instead of meeting index 0 as an untrained random
vector (ML-100K, baseline, seed 1: new-user test GAUC 0.632 this way, 0.610 with each
training user's own embedding on their first events).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import torch

from models.poso.networks import FeatureSizes
from thresher.entrypoint import BadInput

SPLITS = ("train", "valid", "test")
REQUIRED = (
    "event_id",
    "user_id",
    "item_id",
    "label",
    "split",
    "activity_count",
    "activity_bucket",
    "is_new_user",
    "history_items",
    "history_labels",
)
OPTIONAL = ("age", "gender", "occupation", "genres")
# MovieLens-1M's age groups (under 18, 18-24, 25-34, 35-44, 45-49, 50-55, 56+).
AGE_BOUNDS = np.array([18, 25, 35, 45, 50, 56])


class EventsError(BadInput):
    """The events input is missing, empty or lacks columns."""


@dataclass
class Encoded:
    splits: dict[str, dict[str, torch.Tensor]]
    sizes: FeatureSizes
    vocab: dict[str, list[str]]
    summary: dict


def read_events(path: str) -> pa.Table:
    """The export as one table, sorted by ``event_id`` (row order is the seed's alone)."""
    if path.startswith("s3a://"):  # Spark's name for S3; Arrow's is s3://
        path = "s3://" + path.removeprefix("s3a://")
    local = "://" not in path
    if local and not os.path.exists(path):
        raise EventsError(f"events path does not exist: {path}")
    if local and (Path(path) / "_delta_log").is_dir():
        raise EventsError(
            f"{path} is a Delta table; point --events at its Parquet export "
            "(thresher.config.poso_events_export), which spark_jobs.movielens writes"
        )
    try:
        dataset = pads.dataset(path, format="parquet")
    except (OSError, pa.ArrowInvalid) as exc:
        raise EventsError(f"cannot read Parquet events at {path}: {exc}") from None
    names = set(dataset.schema.names)
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise EventsError(f"events at {path} lack columns {missing} (found {sorted(names)})")
    table = dataset.to_table(columns=[c for c in REQUIRED + OPTIONAL if c in names])
    if table.num_rows == 0:
        raise EventsError(f"events at {path} hold no rows")
    for split in ("train", "valid"):
        if not pc.any(pc.equal(table["split"], split)).as_py():
            raise EventsError(f"events at {path} have no {split!r} rows")
    return table.sort_by("event_id")


def _string(table: pa.Table, name: str) -> pa.Array:
    """A column as one string array (all nulls when the export lacks it)."""
    if name not in table.column_names:
        return pa.nulls(table.num_rows, pa.string())
    return pc.cast(table[name].combine_chunks(), pa.string())


def _vocab(values: pa.Array, train: pa.Array) -> list[str]:
    """Sorted distinct non-null values seen in training rows."""
    return sorted(pc.unique(pc.drop_null(pc.filter(values, train))).to_pylist())


def _codes(values: pa.Array, vocab: list[str], offset: int) -> np.ndarray:
    """Index of each value in ``vocab`` plus ``offset``; unknown (or null) → offset - 1.
    Vectorised in Arrow: MovieLens-20M's 20M rows × 30 history items stay fast."""
    found = pc.index_in(values, value_set=pa.array(vocab, pa.string()))
    return pc.fill_null(pc.add(found, offset), offset - 1).to_numpy().astype(np.int64)


def _padded_lists(column: pa.ChunkedArray, codes, width: int) -> np.ndarray:
    """A list column as an (N, width) array of codes, left-aligned, 0-padded."""
    lists = column.combine_chunks()
    lengths = pc.list_value_length(lists).fill_null(0).to_numpy(zero_copy_only=False)
    flat = codes(pc.list_flatten(lists))
    out = np.zeros((len(lengths), max(width, 1)), np.int32)
    rows = np.repeat(np.arange(len(lengths)), lengths)
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    out[rows, np.arange(len(flat)) - starts] = flat
    return out


def _genres(table: pa.Table, train: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Genres seen in training rows, and each row's multi-hot over them."""
    n = table.num_rows
    if "genres" not in table.column_names:
        return [], np.zeros((n, 1), np.uint8)
    lists = table["genres"].combine_chunks()
    flat = pc.list_flatten(lists)
    rows = pc.list_parent_indices(lists).to_numpy()
    in_train = pa.array(train[rows]) if len(rows) else pa.array([], pa.bool_())
    genres = _vocab(flat, in_train)
    hot = np.zeros((n, max(len(genres), 1)), np.uint8)
    codes = _codes(flat, genres, 1)  # 0: a genre never trained on
    hot[rows[codes > 0], codes[codes > 0] - 1] = 1
    return genres, hot


def encode(table: pa.Table) -> Encoded:
    n = table.num_rows
    split = _string(table, "split").to_numpy(zero_copy_only=False)
    train = split == "train"
    in_train = pa.array(train)
    user_ids, item_ids = _string(table, "user_id"), _string(table, "item_id")
    gender, occupation = _string(table, "gender"), _string(table, "occupation")
    is_new = table["is_new_user"].to_numpy().astype(bool)
    # Users are known by their events as regular users (see the module's docstring).
    users = _vocab(user_ids, pa.array(train & ~is_new))
    items = _vocab(item_ids, in_train)
    genders, occupations = _vocab(gender, in_train), _vocab(occupation, in_train)
    genres, genre_hot = _genres(table, train)
    age_code = np.zeros(n, np.int64)  # 0: unknown
    if "age" in table.column_names:
        age = pc.cast(table["age"].combine_chunks(), pa.float64()).to_numpy(zero_copy_only=False)
        known = ~np.isnan(age)
        age_code[known] = np.searchsorted(AGE_BOUNDS, age[known], "right") + 1
    bucket = table["activity_bucket"].to_numpy().astype(np.int64)
    history_length = int(pc.max(pc.list_value_length(table["history_items"])).as_py() or 0)
    buckets = max(int(bucket.max()) + 1, 2)
    pc_code = np.zeros((n, 1 + buckets), np.float32)
    pc_code[:, 0] = is_new
    pc_code[np.arange(n), 1 + bucket] = 1.0
    arrays = {
        "user": np.where(is_new, 0, _codes(user_ids, users, 1)),
        "item": _codes(item_ids, items, 2),
        "gender": _codes(gender, genders, 1),
        "age": age_code,
        "occupation": _codes(occupation, occupations, 1),
        "genres": genre_hot,
        "history_items": _padded_lists(
            table["history_items"],
            lambda v: _codes(pc.cast(v, pa.string()), items, 2),
            history_length,
        ),
        # 1 a negative, 2 a positive earlier event; 0 padding.
        "history_labels": _padded_lists(
            table["history_labels"], lambda v: v.to_numpy().astype(np.int64) + 1, history_length
        ),
        "pc": pc_code,
        "label": table["label"].to_numpy().astype(np.float32),
        "is_new": is_new,
        # The user's identity for per-user metrics (GAUC), known or not to the model.
        "user_key": pc.dictionary_encode(user_ids).indices.to_numpy().astype(np.int64),
    }
    splits = {
        s: {k: torch.from_numpy(np.ascontiguousarray(v[split == s])) for k, v in arrays.items()}
        for s in SPLITS
    }
    sizes = FeatureSizes(
        users=len(users) + 1,
        items=len(items) + 2,
        genders=len(genders) + 1,
        ages=len(AGE_BOUNDS) + 2,
        occupations=len(occupations) + 1,
        genres=genre_hot.shape[1],
        pc=pc_code.shape[1],
    )
    vocab = {
        "users": users,
        "items": items,
        "genders": genders,
        "occupations": occupations,
        "genres": genres,
    }
    return Encoded(splits, sizes, vocab, group_summary(splits))


def group_summary(splits: dict[str, dict[str, torch.Tensor]]) -> dict:
    """Events, users and positive rate per split and user group: the sample imbalance."""
    out = {}
    for name, data in splits.items():
        new = data["is_new"].numpy()
        label = data["label"].numpy()
        users = data["user_key"].numpy()
        entry = {
            "events": int(len(new)),
            "new_share": round(float(new.mean()), 4) if len(new) else 0.0,
        }
        for group, mask in (("new", new), ("regular", ~new)):
            entry[group] = {
                "events": int(mask.sum()),
                "users": int(len(np.unique(users[mask]))),
                "positive_rate": round(float(label[mask].mean()), 4) if mask.any() else None,
            }
        out[name] = entry
    return out


def batches(
    data: dict[str, torch.Tensor],
    batch_size: int,
    device: torch.device,
    generator: torch.Generator | None = None,
) -> Iterator[dict[str, torch.Tensor]]:
    """Mini-batches on ``device`` (shuffled when a generator is given); ids as int64, genres
    as float."""
    n = len(data["label"])
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    for start in range(0, n, batch_size):
        index = order[start : start + batch_size]
        batch = {}
        for key, value in data.items():
            part = value[index]
            if key == "genres":
                part = part.float()
            elif part.dtype == torch.int32:
                part = part.long()
            batch[key] = part.to(device, non_blocking=True)
        yield batch
