import pytest
from pyspark.sql.types import StringType, StructField, StructType

from thresher.tables import ALL_TABLES, BRONZE_DOCUMENTS, QUARANTINE, TableSpec, table


def test_layout_follows_the_medallion_layers(settings):
    root = settings.storage_root
    assert BRONZE_DOCUMENTS.path(settings) == f"{root}/bronze/documents"
    assert QUARANTINE.path(settings) == f"{root}/quarantine"
    assert table("ops.stage_counts").path(settings) == f"{root}/ops/stage_counts"
    assert len({spec.path(settings) for spec in ALL_TABLES}) == len(ALL_TABLES)


def test_every_table_is_partitioned_by_ingest_date():
    # A DAG run owns one partition of each table it writes; concurrent runs never collide.
    for spec in ALL_TABLES:
        assert spec.partition_by == ("ingest_date",)
        assert "ingest_date" in spec.keys


def test_a_key_outside_the_schema_is_refused():
    schema = StructType([StructField("a", StringType())])
    with pytest.raises(ValueError, match="not in schema"):
        TableSpec("silver", "x", schema, keys=("b",), partition_by=(), comment="")


def test_unknown_table_names_the_declared_ones():
    with pytest.raises(KeyError, match="bronze.documents"):
        table("bronze.nope")
