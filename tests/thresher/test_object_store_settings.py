"""What an object-store lake derives from the environment: no server needed."""

from __future__ import annotations

import pytest

from thresher import object_store
from thresher.config import Settings, SparkSettings

ENV = {
    "AWS_ENDPOINT_URL": "https://s3.internal:9000",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "AKIA-not-used",
    "AWS_SECRET_ACCESS_KEY": "never-derived",
}


def test_hadoop_and_deltalake_get_the_endpoint_and_region_but_no_credential():
    hadoop = object_store.hadoop_properties(ENV)
    assert hadoop == {
        "spark.hadoop.fs.s3a.endpoint.region": "eu-west-1",
        "spark.hadoop.fs.s3a.endpoint": "https://s3.internal:9000",
        "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.connection.ssl.enabled": "true",
    }
    assert object_store.deltalake_options(ENV) == {
        "AWS_REGION": "eu-west-1",
        "AWS_ENDPOINT_URL": "https://s3.internal:9000",
    }
    plain = object_store.deltalake_options({"AWS_ENDPOINT_URL": "http://127.0.0.1:9000"})
    assert plain["AWS_ALLOW_HTTP"] == "true" and plain["AWS_REGION"] == "us-east-1"
    # AWS itself: no endpoint, virtual-host addressing, the region only.
    assert object_store.hadoop_properties({}) == {
        "spark.hadoop.fs.s3a.endpoint.region": "us-east-1"
    }


def test_only_s3_uris_are_object_stores_and_a_bucket_is_required():
    assert object_store.is_object_store("s3a://lake/thresher")
    assert object_store.is_object_store("s3://lake")
    assert not object_store.is_object_store("/data/lake")
    assert not object_store.is_object_store("abfss://c@a.dfs.core.windows.net/lake")
    assert object_store.bucket_of("s3a://lake/thresher") == "lake"
    with pytest.raises(object_store.ObjectStoreError, match="not an s3a://bucket"):
        object_store.bucket_of("s3a:///no-bucket")


def test_missing_credentials_fail_before_the_store_is_asked():
    with pytest.raises(object_store.ObjectStoreError, match="AWS_SECRET_ACCESS_KEY not set"):
        object_store.check_bucket("s3a://lake/x", {"AWS_ACCESS_KEY_ID": "id"})


def test_one_writer_at_a_time_unless_a_multi_driver_log_store_is_configured(tmp_path):
    local = Settings(home=tmp_path)
    s3 = Settings(home=tmp_path, storage_root="s3a://lake/thresher")
    dynamo = Settings(
        home=tmp_path,
        storage_root="s3a://lake/thresher",
        spark=SparkSettings(
            conf={"spark.delta.logStore.s3a.impl": "io.delta.storage.S3DynamoDBLogStore"}
        ),
    )
    assert [object_store.single_writer(s) for s in (local, s3, dynamo)] == [False, True, False]


def test_a_saved_file_is_found_without_a_jvm(tmp_path):
    """What a task that only needs to know whether a model is saved asks (no Spark driver)."""
    saved = tmp_path / "models" / "v1" / "thresher_metadata"
    assert not object_store.path_exists(str(saved))
    saved.mkdir(parents=True)
    assert object_store.path_exists(str(saved))
    assert object_store.path_exists(f"file://{saved}")
    with pytest.raises(object_store.ObjectStoreError, match="AWS_ACCESS_KEY_ID"):
        object_store.path_exists("s3a://bucket/lake/models/v1", environ={})
