"""Small synthetic event exports (the Parquet the Spark job writes), built without Spark."""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

GENRES = ("Action", "Comedy", "Drama")


def synthetic_events(
    users: int = 40,
    events: int = 24,
    items: int = 30,
    seed: int = 0,
    threshold: int = 5,
    history: int = 5,
) -> pa.Table:
    """Each user rates ``events`` random items; even items are liked (a learnable signal).

    The last fifth of the users arrive late and are seen only in valid or test, their first
    ``threshold`` events new-user events, as after a time-ordered split.
    """
    rng = random.Random(seed)
    rows = []
    for u in range(users):
        late = u >= users * 4 // 5
        seen: list[tuple[str, int]] = []
        for k in range(events):
            item = rng.randrange(items)
            label = int(item % 2 == 0) if rng.random() > 0.1 else int(item % 2)
            # Late users arrive in the validation (even) or test (odd) period.
            position = 0.6 + 0.2 * (u % 2) + 0.2 * k / events if late else k / events
            split = "train" if position < 0.6 else "valid" if position < 0.8 else "test"
            rows.append(
                {
                    "event_id": f"{u:04d}-{k:04d}",
                    "user_id": f"u{u}",
                    "item_id": f"i{item}",
                    "label": label,
                    "split": split,
                    "activity_count": k,
                    "activity_bucket": 0 if k == 0 else min(k.bit_length(), 7),
                    "is_new_user": k < threshold,
                    "history_items": [i for i, _ in seen[-history:]],
                    "history_labels": [y for _, y in seen[-history:]],
                    "age": 20 + u % 40,
                    "gender": "MF"[u % 2],
                    "occupation": f"job{u % 3}",
                    "genres": [GENRES[item % 3]],
                }
            )
            seen.append((f"i{item}", label))
    return pa.Table.from_pylist(rows)


def write_events(folder: Path, table: pa.Table | None = None, files: int = 2) -> Path:
    """Write ``table`` as a Spark-like Parquet folder (part files and a _SUCCESS marker)."""
    table = synthetic_events() if table is None else table
    folder.mkdir(parents=True, exist_ok=True)
    step = -(-table.num_rows // files)
    for i in range(files):
        pq.write_table(table.slice(i * step, step), folder / f"part-{i:05d}.parquet")
    (folder / "_SUCCESS").touch()
    return folder
