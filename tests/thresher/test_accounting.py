import pytest

from thresher.accounting import ReconciliationError, StageCounts


def test_counts_reconcile_and_round_trip_through_rows():
    counts = StageCounts("ingest", 10, 6, {"too_short": 2}, {"invalid_utf8": 1, "oversize": 1})
    assert counts.check() is counts
    again = StageCounts.from_rows("ingest", counts.rows())
    assert again == counts
    metrics = counts.metrics()
    assert metrics["ingest.in"] == 10
    assert metrics["ingest.dropped"] == 2
    assert metrics["ingest.quarantined"] == 2
    assert metrics["ingest.quarantined.oversize"] == 1


def test_lost_records_are_an_error():
    with pytest.raises(ReconciliationError, match="10 records in"):
        StageCounts("ingest", 10, 6, {"too_short": 2}, {}).check()


def test_unknown_category_is_refused():
    with pytest.raises(ValueError, match="unknown category"):
        StageCounts.from_rows("ingest", [("lost", "", 1)])
