"""A source name, a folder name or a DAG param must never change what a write replaces."""

from __future__ import annotations

import datetime as dt

import pytest

from spark_jobs import cli, ingest
from spark_jobs.delta_io import read_table, replace_rows, rows_where
from tests.conftest import make_settings
from tests.corpus import html_page
from tests.reliability.inputs import english
from thresher.tables import BRONZE_DOCUMENTS, QUARANTINE, STAGE_COUNTS

DAY = dt.date(2026, 11, 20)
HOSTILE = "x' OR '1'='1"


def table_sizes(spark, settings) -> dict[str, int]:
    specs = (BRONZE_DOCUMENTS, QUARANTINE, STAGE_COUNTS)
    return {spec.qualified_name: read_table(spark, spec, settings).count() for spec in specs}


@pytest.fixture(scope="module")
def lake(spark, tmp_path_factory):
    """A lake with legitimate ingests: two dates of source "news", each with a bad page."""
    tmp_path = tmp_path_factory.mktemp("hostile")
    settings = make_settings(tmp_path / "home")
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "a.html").write_text(html_page("a", english(1)))
    (pages / "broken.html").write_bytes(b"\xff\xfe not utf-8")
    for day in (DAY, DAY + dt.timedelta(days=1)):
        ingest.run(spark, settings, day, str(pages), "news")
    return settings, pages


def test_a_hostile_source_is_refused_before_anything_runs(spark, lake, monkeypatch, capsys):
    settings, pages = lake
    before = table_sizes(spark, settings)
    monkeypatch.setenv("THRESHER_HOME", str(settings.home))
    with pytest.raises(SystemExit) as exit_:
        cli.main(["ingest", "--date", str(DAY), "--input", str(pages), "--source", HOSTILE])
    assert exit_.value.code == 2
    assert "source \"x' OR '1'='1\" is not valid" in capsys.readouterr().err
    with pytest.raises(ingest.IngestError, match="is not valid"):
        ingest.run(spark, settings, DAY, str(pages), HOSTILE)
    assert table_sizes(spark, settings) == before


def test_a_folder_named_like_an_injection_becomes_a_plain_label(spark, lake, tmp_path):
    settings, _ = lake
    before = table_sizes(spark, settings)
    folder = tmp_path / HOSTILE
    folder.mkdir()
    (folder / "b.html").write_text(html_page("b", english(2)))
    ingest.run(spark, settings, DAY, str(folder))
    bronze = read_table(spark, BRONZE_DOCUMENTS, settings)
    counted = bronze.groupBy("ingest_date", "source").count().collect()
    per_source = {(r[0], r[1]): r[2] for r in counted}
    next_day = DAY + dt.timedelta(days=1)
    assert per_source == {(DAY, "news"): 1, (next_day, "news"): 1, (DAY, "x_OR_1_1"): 1}
    after = table_sizes(spark, settings)
    assert after[QUARANTINE.qualified_name] == before[QUARANTINE.qualified_name]


def test_a_quoted_value_in_a_condition_replaces_only_its_own_rows(spark, lake):
    """Below the validation: the write condition is a typed column, never SQL text."""
    settings, _ = lake
    before = read_table(spark, STAGE_COUNTS, settings).count()
    rows = spark.createDataFrame([(DAY, "ingest", HOSTILE, "in", "", 0, None)], STAGE_COUNTS.schema)
    replace_rows(
        spark, STAGE_COUNTS, settings, rows, rows_where(DAY, stage="ingest", source=HOSTILE)
    )
    stored = read_table(spark, STAGE_COUNTS, settings).collect()
    assert len(stored) == before + 1
    assert sum(r["source"] == HOSTILE for r in stored) == 1
    with pytest.raises(TypeError, match="not SQL text"):
        replace_rows(spark, STAGE_COUNTS, settings, rows, f"source = '{HOSTILE}'")
