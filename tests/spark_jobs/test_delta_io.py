"""Declared tables created as declared; partition-scoped writes: idempotent, and safe when
runs for other dates or sources race."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from spark_jobs import delta_io
from spark_jobs.delta_io import read_table, replace_rows, rows_where
from thresher.tables import STAGE_COUNTS, TableSpec

DAY = dt.date(2026, 11, 20)


def write_counts(spark, settings, day: dt.date, source: str, kept: int) -> None:
    rows = [
        (day, "ingest", source, "in", "", kept, None),
        (day, "ingest", source, "kept", "", kept, None),
    ]
    frame = spark.createDataFrame(rows, STAGE_COUNTS.schema)
    predicate = rows_where(day, stage="ingest", source=source)
    replace_rows(spark, STAGE_COUNTS, settings, frame, predicate)


def kept_by(spark, settings) -> dict:
    rows = read_table(spark, STAGE_COUNTS, settings).where("category = 'kept'").collect()
    return {(r["ingest_date"], r["source"]): r["records"] for r in rows}


def test_rewriting_a_partition_replaces_only_its_rows(spark, settings):
    write_counts(spark, settings, DAY, "a", 1)
    write_counts(spark, settings, DAY, "b", 2)
    write_counts(spark, settings, DAY, "a", 5)
    assert kept_by(spark, settings) == {(DAY, "a"): 5, (DAY, "b"): 2}


def test_concurrent_runs_for_other_dates_and_sources_all_land(spark, settings):
    write_counts(spark, settings, DAY, "seed", 0)  # create the table before the race
    jobs = [(DAY + dt.timedelta(days=i), "web", i) for i in range(1, 4)]
    jobs += [(DAY, f"source-{i}", 10 + i) for i in range(2)]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [pool.submit(write_counts, spark, settings, d, s, n) for d, s, n in jobs]
        for future in futures:
            future.result()
    assert kept_by(spark, settings) == {(DAY, "seed"): 0} | {(d, s): n for d, s, n in jobs}


def test_a_declared_table_is_created_with_its_columns_partitions_comment_and_properties(
    spark, settings
):
    """``ensure_table`` is SQL (``CREATE TABLE IF NOT EXISTS``), which a Spark Connect client
    sends as well as a driver: names, comment and properties are quoted, not interpolated."""
    spec = TableSpec(
        "silver",
        "odd `name`",
        (
            ("ingest_date", "date", False),
            ("doc`id", "string", False),
            ("tags", "array<string>", True),
        ),
        keys=("doc`id",),
        partition_by=("ingest_date",),
        comment="it's a \\ test; DROP TABLE x --",
        properties={"thresher.note": "o'clock"},
    )
    path = delta_io.ensure_table(spark, spec, settings)
    detail = spark.sql(f"DESCRIBE DETAIL {delta_io.table_identifier(path)}").first()
    assert detail["description"] == spec.comment
    assert detail["partitionColumns"] == ["ingest_date"]
    assert {k: detail["properties"][k] for k in spec.all_properties} == spec.all_properties
    schema = spark.read.format("delta").load(path).schema
    assert [(f.name, f.dataType.simpleString(), f.nullable) for f in schema] == list(spec.columns)
    delta_io._ENSURED.clear()  # a second creation finds the table and leaves it
    assert delta_io.ensure_table(spark, spec, settings) == path
    assert delta_io.last_version(spark, path) == 0 and delta_io.is_delta_table(spark, path)
    assert not delta_io.is_delta_table(spark, f"{path}-missing")
