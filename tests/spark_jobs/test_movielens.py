"""The POSO events job on hand-made MovieLens-format folders: labels, split, groups, accounting."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import importlib.util
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F

from spark_jobs import movielens
from spark_jobs.delta_io import read_table
from tests.conftest import make_settings
from thresher.config import PosoSettings, poso_events_export
from thresher.tables import (
    QUARANTINE,
    SILVER_POSO_EVENTS,
    SILVER_POSO_ITEMS,
    SILVER_POSO_USERS,
    STAGE_COUNTS,
)

DAY = dt.date(2026, 11, 20)
POSO = PosoSettings(
    new_user_threshold=2, history_length=2, valid_fraction=0.2, test_fraction=0.2, split="time"
)

# Ten valid events at t = 100 … 600; then a repeat of line 3 and three malformed lines.
INTER = """user_id:token\titem_id:token\trating:float\ttimestamp:float
u1\ti1\t5\t100
u1\ti2\t2\t200
u1\ti3\t4\t300
u1\ti4\t3\t400
u2\ti1\t4\t150
u2\ti2\t5\t250
u2\ti5\t1\t350
u2\ti3\t4\t450
u3\ti4\t5\t500
u3\ti5\t4\t600
u1\ti2\t2\t200
u3\ti6\t4\t700\textra
u3\t\t4\t800
u3\ti7\tgood\t900

"""
USERS = """user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token
u1\t24\tM\ttechnician\t85711
u2\t53\tF\tother\t94043
u2\t53\tF\tother\t94043
u9\tabc\tF\tx\t1
"""
ITEMS = """item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq
i1\tToy Story\t1995\tAnimation Children's Comedy
i2\tGoldenEye\t1995\tAction Adventure Thriller
i3\tunknown\tunknown\tunknown
"""


def folder(root: Path, files: dict[str, str]) -> str:
    root.mkdir(parents=True)
    for name, text in files.items():
        (root / name).write_text(text)
    return str(root)


@pytest.fixture
def poso_settings(tmp_path):
    return make_settings(tmp_path / "home", poso=POSO)


def test_events_are_labelled_split_grouped_and_accounted(spark, poso_settings, tmp_path):
    path = folder(tmp_path / "ml", {"ml.inter": INTER, "ml.user": USERS, "ml.item": ITEMS})

    summary = movielens.run(spark, poso_settings, DAY, path, "tiny")
    summary_again = movielens.run(spark, poso_settings, DAY, path, "tiny")  # a retry

    assert summary == summary_again
    assert summary["stages"] == {
        "poso_events": {
            "in": 14,
            "kept": 10,
            "dropped": {"duplicate_event": 1},
            "quarantined": {"extra_fields": 1, "missing_field": 1, "invalid_number": 1},
        },
        "poso_users": {
            "in": 4,
            "kept": 2,
            "dropped": {"duplicate_record": 1},
            "quarantined": {"invalid_number": 1},
        },
        "poso_items": {"in": 3, "kept": 2, "dropped": {}, "quarantined": {"invalid_number": 1}},
    }
    events = {
        (r["user_id"], r["item_id"]): r
        for r in read_table(spark, SILVER_POSO_EVENTS, poso_settings).collect()
    }
    assert len(events) == 10
    # Cut at the 60th / 80th percentiles of time: 370 and 460.
    splits = {k: r["split"] for k, r in events.items()}
    assert sorted(k for k, s in splits.items() if s == "test") == [("u3", "i4"), ("u3", "i5")]
    assert sorted(k for k, s in splits.items() if s == "valid") == [("u1", "i4"), ("u2", "i3")]
    labels = {k: r["label"] for k, r in events.items()}
    assert labels[("u1", "i1")] == 1 and labels[("u1", "i2")] == 0 and labels[("u1", "i3")] == 1
    assert labels[("u1", "i4")] == 0 and labels[("u2", "i5")] == 0
    # Threshold 2: a user's first two events are a new user's.
    u1 = sorted((r for k, r in events.items() if k[0] == "u1"), key=lambda r: r["timestamp"])
    assert [r["activity_count"] for r in u1] == [0, 1, 2, 3]
    assert [r["user_group"] for r in u1] == ["new", "new", "regular", "regular"]
    assert [r["is_new_user"] for r in u1] == [True, True, False, False]
    assert [r["activity_bucket"] for r in u1] == [0, 1, 2, 2]
    assert [r["history_items"] for r in u1] == [[], ["i1"], ["i1", "i2"], ["i2", "i3"]]
    assert [r["history_labels"] for r in u1] == [[], [1], [1, 0], [0, 1]]
    assert events[("u3", "i5")]["user_group"] == "new"
    assert summary["splits"]["train"] == {
        "new": {"events": 4, "users": 2, "positive_rate": 0.75},
        "regular": {"events": 2, "users": 2, "positive_rate": 0.5},
    }

    quarantined = read_table(spark, QUARANTINE, poso_settings).collect()
    where = {(r["stage"], r["location"]): r["reason"] for r in quarantined}
    assert where == {
        ("poso_events", "ml.inter#L13"): "extra_fields",
        ("poso_events", "ml.inter#L14"): "missing_field",
        ("poso_events", "ml.inter#L15"): "invalid_number",
        ("poso_users", "ml.user#L5"): "invalid_number",
        ("poso_items", "ml.item#L4"): "invalid_number",
    }
    assert {r["source"] for r in quarantined} == {"tiny"}
    counts = read_table(spark, STAGE_COUNTS, poso_settings).where(F.col("stage") == "poso_events")
    assert {(r["category"], r["reason"]): r["records"] for r in counts.collect()} == {
        ("in", ""): 14,
        ("kept", ""): 10,
        ("dropped", "duplicate_event"): 1,
        ("quarantined", "extra_fields"): 1,
        ("quarantined", "missing_field"): 1,
        ("quarantined", "invalid_number"): 1,
    }

    users = {r["user_id"]: r for r in read_table(spark, SILVER_POSO_USERS, poso_settings).collect()}
    assert (users["u1"]["age"], users["u1"]["events"], users["u1"]["first_timestamp"]) == (
        24,
        4,
        100,
    )
    assert users["u3"]["age"] is None and users["u3"]["events"] == 2  # known from events only
    items = {r["item_id"]: r for r in read_table(spark, SILVER_POSO_ITEMS, poso_settings).collect()}
    assert items["i1"]["genres"] == ["Animation", "Children's", "Comedy"]
    assert items["i1"]["year"] == 1995 and items["i1"]["events"] == 2
    assert items["i3"]["title"] is None and items["i3"]["events"] == 2

    export = pq.read_table(poso_events_export(poso_settings, "tiny")).to_pylist()
    assert len(export) == 10
    row = next(r for r in export if (r["user_id"], r["item_id"]) == ("u2", "i2"))
    assert (row["age"], row["gender"], row["genres"]) == (
        53,
        "F",
        ["Action", "Adventure", "Thriller"],
    )


def draw(salt: str, user: str) -> float:
    """The documented draw: the first 32 bits of sha256(salt NUL user_id), on [0, 1)."""
    return int(hashlib.sha256(f"{salt}\x00{user}".encode()).hexdigest()[:8], 16) / 2**32


def test_held_out_users_are_new_user_validation_and_test(spark, tmp_path):
    # 40 users × 5 events. Held-out users' events all come after the others': were they part
    # of the time cuts, the training users would have no test events at all.
    held = {f"u{u}" for u in range(40) if draw("s1", f"u{u}") < 0.5}
    start = {u: 10_000 if f"u{u}" in held else 0 for u in range(40)}
    rows = [
        (
            f"e{u}-{k}",
            f"u{u}",
            f"i{(u + k) % 7}",
            start[u] + 100 * k + u,
            float(1 + (u * k) % 5),
            None,
        )
        for u in range(40)
        for k in range(5)
    ]
    events = spark.createDataFrame(
        rows,
        "event_id string, user_id string, item_id string, timestamp long, rating double, "
        "label double",
    )
    poso = PosoSettings(
        new_user_threshold=2,
        held_out_valid_users=0.25,
        held_out_test_users=0.25,
        valid_fraction=0.2,
        test_fraction=0.2,
        split_salt="s1",
    )
    settings = make_settings(tmp_path / "home", poso=poso)

    coded = movielens.label_split_and_code(events, settings).collect()
    again = movielens.label_split_and_code(events, settings).collect()

    assert sorted(map(tuple, coded)) == sorted(map(tuple, again))  # a hash, not a generator
    splits: dict[str, list] = {}
    for row in sorted(coded, key=lambda r: r["timestamp"]):
        splits.setdefault(row["user_id"], []).append((row["split"], row["timestamp"]))
    roles = {u: draw("s1", u) for u in splits}
    valid = {u for u, d in roles.items() if d < 0.25}
    test = {u for u, d in roles.items() if 0.25 <= d < 0.5}
    assert valid and test and valid | test == held and len(held) < 40
    for user in valid | test:  # first two events scored as a new user's, the rest unused
        role = "valid" if user in valid else "test"
        assert [s for s, _ in splits[user]] == [role, role] + ["held_out"] * 3
    trainers = [(s, t) for u, rows in splits.items() if u not in valid | test for s, t in rows]
    assert {s for s, _ in trainers} == {"train", "valid", "test"}
    # Cut by time over the training users' events alone: 60 / 20 / 20 %, in time order.
    order = [s for s, _ in sorted(trainers, key=lambda r: r[1])]
    n = len(order)
    assert order == ["train"] * order.count("train") + ["valid"] * order.count("valid") + [
        "test"
    ] * order.count("test")
    assert abs(order.count("test") - 0.2 * n) <= 1 and abs(order.count("valid") - 0.2 * n) <= 1
    new = [r for r in coded if r["user_id"] in test and r["split"] == "test"]
    assert all(r["is_new_user"] and r["activity_count"] < 2 for r in new)
    # Another salt draws other users.
    other = make_settings(tmp_path / "other", poso=dataclasses.replace(poso, split_salt="s2"))
    held_out = {
        r["user_id"]
        for r in movielens.label_split_and_code(events, other).collect()
        if r["split"] == "held_out"
    }
    assert held_out != valid | test


def test_movielens_csvs_and_a_labelled_log(spark, poso_settings, tmp_path):
    csv = folder(
        tmp_path / "ml-20m",
        {
            "ratings.csv": "userId,movieId,rating,timestamp\n1,10,4.5,1000\n1,20,3.0,2000\n"
            "2,10,5.0,1500\n2,20,1.0,2500\n2,30,4.0,3000\n",
            "movies.csv": 'movieId,title,genres\n10,"American President, The (1995)",'
            "Comedy|Drama|Romance\n20,Heat (1995),Action|Crime\n"
            "30,Some Film (2001),(no genres listed)\n",
        },
    )
    summary = movielens.run(spark, poso_settings, DAY, csv, "csv")
    assert summary["stages"]["poso_events"]["kept"] == 5 and "poso_users" not in summary["stages"]
    mine = F.col("dataset") == "csv"
    items = {
        r["item_id"]: r
        for r in read_table(spark, SILVER_POSO_ITEMS, poso_settings).where(mine).collect()
    }
    assert (items["10"]["title"], items["10"]["year"]) == ("American President, The", 1995)
    assert items["10"]["genres"] == ["Comedy", "Drama", "Romance"] and items["30"]["genres"] == []
    labels = {
        r["item_id"]: r["label"]
        for r in read_table(spark, SILVER_POSO_EVENTS, poso_settings)
        .where(mine & (F.col("user_id") == "1"))
        .collect()
    }
    assert labels == {"10": 1, "20": 0}

    log = folder(
        tmp_path / "watch-log",
        {
            "watch.inter": (
                "user_id:token\titem_id:token\ttimestamp:float\tlabel:float\n"
                "a\tx\t1\t1\na\ty\t2\t0\nb\tx\t3\t1\nb\tz\t4\t0\na\tz\t5\t1\n"
            )
        },
    )
    movielens.run(spark, poso_settings, DAY, log, "watch")
    watch = read_table(spark, SILVER_POSO_EVENTS, poso_settings).where(F.col("dataset") == "watch")
    assert sorted((r["item_id"], r["label"], r["rating"]) for r in watch.collect()) == [
        ("x", 1, None),
        ("x", 1, None),
        ("y", 0, None),
        ("z", 0, None),
        ("z", 1, None),
    ]
    # The other datasets' partitions are untouched.
    assert read_table(spark, SILVER_POSO_EVENTS, poso_settings).where(mine).count() == 5


def test_unusable_inputs_are_refused_whole(spark, poso_settings, tmp_path):
    with pytest.raises(movielens.MovieLensError, match="does not exist"):
        movielens.run(spark, poso_settings, DAY, str(tmp_path / "nowhere"))
    empty = folder(tmp_path / "empty", {"notes.txt": "x"})
    with pytest.raises(movielens.MovieLensError, match=r"no \*.inter or ratings.csv"):
        movielens.run(spark, poso_settings, DAY, empty)
    headless = folder(tmp_path / "headless", {"a.inter": "user_id:token\titem_id:token\n1\t2\n"})
    with pytest.raises(movielens.MovieLensError, match="lacks.*timestamp.*rating or label"):
        movielens.run(spark, poso_settings, DAY, headless)


def test_the_default_input_is_movielens_100k_inside_recbole():
    if importlib.util.find_spec("recbole") is None:  # importing it would need its own deps
        pytest.skip("recbole not installed (pip install recbole --no-deps)")
    root = Path(movielens.default_input_path())
    assert {"ml-100k.inter", "ml-100k.user", "ml-100k.item"} <= {p.name for p in root.iterdir()}
    header = (root / "ml-100k.inter").open().readline().split()
    assert header == ["user_id:token", "item_id:token", "rating:float", "timestamp:float"]
