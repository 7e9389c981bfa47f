"""One ingest over a folder holding every class of bad input a user can produce: the good
documents are all kept, each bad one is dropped or quarantined with its reason, and the
counts reconcile with the tables."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from spark_jobs import ingest, stage_stats
from spark_jobs.delta_io import read_table
from tests.conftest import make_settings
from tests.reliability.inputs import build_mixed_folder
from thresher.config import IngestSettings
from thresher.tables import BRONZE_DOCUMENTS, QUARANTINE, STAGE_COUNTS

DAY = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def ingested(spark, tmp_path_factory):
    base = tmp_path_factory.mktemp("mixed")
    expected = build_mixed_folder(base / "input", base / "outside")
    # Small caps, so that generated inputs cross them: 100 kB a record, 16 MiB a file.
    limits = IngestSettings(max_record_bytes=100_000, max_file_bytes=16 << 20)
    settings = make_settings(base / "home", ingest=limits, languages=("en", "de"))
    counts = ingest.run(spark, settings, DAY, str(base / "input"))
    return settings, counts, expected


def of(expected: dict, disposition: str) -> dict:
    return {k: v[1] for k, v in expected.items() if v[0] == disposition}


def test_every_good_document_is_kept_and_nothing_else(spark, ingested):
    settings, _, expected = ingested
    rows = read_table(spark, BRONZE_DOCUMENTS, settings).collect()
    kept = {r["url"]: r["language"] for r in rows}
    cut = {url for url in kept if url.startswith("cut-")}  # lines before a cut-off gzip end
    assert 0 < len(cut) < 30
    assert {u: lang for u, lang in kept.items() if u not in cut} == of(expected, "kept")
    assert {r["source"] for r in rows} == {"input"}  # the folder's name
    assert not any("secret" in (r["location"] or "") for r in rows)  # the link led outside


def test_each_bad_record_is_quarantined_with_its_reason(spark, ingested):
    settings, _, expected = ingested
    rows = read_table(spark, QUARANTINE, settings).collect()
    assert {r["location"]: r["reason"] for r in rows} == of(expected, "quarantined")
    assert len({r["quarantine_id"] for r in rows}) == len(rows)  # two null rows, two ids
    details = {r["location"]: r["detail"] for r in rows}
    assert "RecursionError" in details["feed.jsonl#L5"]
    assert "U+D800" in details["feed.jsonl#L6"]
    assert "int64" in details["numbers.parquet"]
    assert "expanded beyond max_file_bytes" in details["bomb.jsonl.gz#rest"]


def test_dropped_inputs_are_counted_with_their_reasons(ingested):
    _, counts, expected = ingested
    dropped = Counter(of(expected, "dropped").values())  # feed.jsonl#L2 repeats #L1
    assert dict(counts.dropped) == dict(dropped)
    assert len(set(dropped) | set(counts.quarantined)) >= 15  # classes of bad input


def test_counts_reconcile_with_the_tables(spark, ingested):
    settings, counts, _ = ingested
    assert counts.records_in == counts.accounted
    stage_stats.check_ingest_tables(spark, settings, DAY)  # raises when they disagree
    stored = read_table(spark, STAGE_COUNTS, settings).collect()
    assert sum(r["records"] for r in stored if r["category"] == "in") == counts.records_in
