"""Deduplication on real news text with known near-duplicates, across two partitions."""

from __future__ import annotations

import datetime as dt

import pytest

from spark_jobs import dedup
from tests.corpus import bronze_row, ntrex_documents, partition_rows, write_tables
from thresher.tables import BRONZE_DOCUMENTS, SILVER_DEDUP

DAY1, DAY2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)


def write_day(spark, settings, day: dt.date, rows: list) -> dict[str, str]:
    write_tables(spark, settings, (BRONZE_DOCUMENTS, rows), partition=day)
    return {r.url: r.doc_id for r in rows}


def decisions(spark, settings, day: dt.date) -> dict[str, tuple]:
    columns = ("cluster_id", "duplicate_of", "method", "duplicate_of_date")
    return partition_rows(spark, settings, SILVER_DEDUP, day, columns)


@pytest.fixture(scope="module")
def texts(shared_data):
    german = ntrex_documents(shared_data, "deu", 3)
    chinese = ntrex_documents(shared_data, "zho-CN", 1)[0]
    return german, chinese


def drop_last_line(text: str) -> str:
    return "\n".join(text.split("\n")[:-1])


def test_exact_and_near_duplicates_within_and_across_partitions(spark, settings, texts):
    german, chinese = texts
    base = german[0]
    assert len(base.split("\n")) >= 12  # one dropped line keeps Jaccard well above 0.8
    ids = write_day(
        spark,
        settings,
        DAY1,
        [
            bronze_row(DAY1, "a", base, "de"),
            bronze_row(DAY1, "a-copy", base, "de"),
            bronze_row(DAY1, "a-trimmed", drop_last_line(base), "de"),
            bronze_row(DAY1, "b", german[1], "de"),
            bronze_row(DAY1, "z", chinese, "zh"),
            bronze_row(DAY1, "z-trimmed", drop_last_line(chinese), "zh"),
        ],
    )

    counts, sizes = dedup.run(spark, settings, DAY1)

    day1 = decisions(spark, settings, DAY1)
    assert set(day1) == set(ids.values())
    cluster_a = sorted(ids[u] for u in ("a", "a-copy", "a-trimmed"))
    rep_a = cluster_a[0]  # same date: the smallest doc_id represents the cluster
    for doc in cluster_a:
        cluster_id, duplicate_of, method, date = day1[doc]
        assert cluster_id == rep_a
        if doc == rep_a:
            assert (duplicate_of, method, date) == (None, None, None)
        else:
            same_text = {ids["a"], ids["a-copy"]} >= {doc, rep_a}
            assert (duplicate_of, method, date) == (rep_a, "exact" if same_text else "near", DAY1)
    rep_z = min(ids["z"], ids["z-trimmed"])
    assert {day1[ids[u]][0] for u in ("z", "z-trimmed")} == {rep_z}
    assert day1[ids["b"]] == (ids["b"], None, None, None)
    assert (counts.records_in, counts.kept) == (6, 3)
    assert sum(counts.dropped.values()) == 3
    assert sizes == {3: 1, 2: 1, 1: 1}

    # A later partition is checked against what the earlier one kept.
    ids2 = write_day(
        spark,
        settings,
        DAY2,
        [
            bronze_row(DAY2, "a-again", drop_last_line(drop_last_line(base)), "de"),
            bronze_row(DAY2, "c", german[2], "de"),
            bronze_row(DAY2, "b", german[1], "de"),  # the same page crawled again
        ],
    )
    dedup.run(spark, settings, DAY2)
    day2 = decisions(spark, settings, DAY2)
    assert day2[ids2["a-again"]] == (rep_a, rep_a, "near", DAY1)
    assert day2[ids2["c"]] == (ids2["c"], None, None, None)
    assert ids2["b"] == ids["b"]
    assert day2[ids["b"]] == (ids["b"], ids["b"], "exact", DAY1)

    # Re-running either date, in any order, gives the same decisions.
    dedup.run(spark, settings, DAY1)
    dedup.run(spark, settings, DAY2)
    assert decisions(spark, settings, DAY1) == day1
    assert decisions(spark, settings, DAY2) == day2
