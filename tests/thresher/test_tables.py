import sys

import pytest

from thresher import tables
from thresher.jobs import CURATION
from thresher.tables import (
    ALL_TABLES,
    BRONZE_DOCUMENTS,
    PARTITIONED_TABLES,
    QUARANTINE,
    TABLE_FAMILIES,
    TableSpec,
    table,
)


def test_layout_follows_the_medallion_layers(settings):
    root = settings.storage_root
    assert BRONZE_DOCUMENTS.path(settings) == f"{root}/bronze/documents"
    assert QUARANTINE.path(settings) == f"{root}/quarantine"
    assert table("ops.stage_counts").path(settings) == f"{root}/ops/stage_counts"
    assert len({spec.path(settings) for spec in ALL_TABLES}) == len(ALL_TABLES)


def test_every_declared_table_is_in_the_registry():
    """A spec declared in thresher.tables but left out of ALL_TABLES fails here."""
    declared = [v for v in vars(tables).values() if isinstance(v, TableSpec)]
    assert {s.qualified_name for s in declared} == {s.qualified_name for s in ALL_TABLES}
    for spec in ALL_TABLES:
        assert table(spec.qualified_name) is spec
    factories = {v for k, v in vars(tables).items() if k.endswith("_table") and callable(v)}
    assert factories - {tables.table} == set(TABLE_FAMILIES.values())
    for prefix, declare in TABLE_FAMILIES.items():
        assert table(f"gold.{prefix}demo") == declare("demo")


def test_the_jobs_read_and_write_declared_tables():
    for job in CURATION.jobs:
        for name in (*job.reads, *job.writes):
            table(name.replace("<name>", "default"))


def test_a_run_owns_one_partition_of_each_curation_table():
    # A DAG run owns one partition of each table it writes; concurrent runs never collide.
    assert {s.qualified_name for s in PARTITIONED_TABLES} >= {"bronze.documents", "silver.dedup"}
    for spec in PARTITIONED_TABLES:
        assert spec.partition_by == ("ingest_date",)
        assert "ingest_date" in spec.keys


def test_a_key_outside_the_schema_or_an_unknown_type_is_refused():
    with pytest.raises(ValueError, match="not in schema"):
        TableSpec("silver", "x", (("a", "string", True),), keys=("b",), partition_by=(), comment="")
    with pytest.raises(ValueError, match="unknown column type"):
        TableSpec("silver", "x", (("a", "varchar", True),), keys=(), partition_by=(), comment="")


def test_declarations_need_no_pyspark():
    """Model tasks (a GPU image without pyspark) read table paths from here."""
    import subprocess

    code = "import sys, thresher.tables, thresher.jobs; print('pyspark' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unknown_table_names_the_declared_ones():
    with pytest.raises(KeyError, match="bronze.documents"):
        table("bronze.nope")
