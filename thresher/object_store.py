"""The lake on an S3-compatible object store: the wiring Spark's S3A connector and deltalake share.

Credentials never pass through this module or any setting: S3A's default provider chain and
deltalake both read ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` (and ``AWS_SESSION_TOKEN``)
from the process environment, which a Kubernetes Secret, an Airflow worker's environment or the
shell provides. What is derived here is the rest, from the AWS SDKs' standard variables:

- ``AWS_ENDPOINT_URL``: a non-AWS endpoint (an on-premises store, a loopback test server); it
  turns on path-style addressing, since virtual-host buckets need wildcard DNS;
- ``AWS_REGION`` (or ``AWS_DEFAULT_REGION``), ``us-east-1`` when neither is set.

``check_bucket`` asks the store once, before any Spark job starts, so that a wrong credential or
a missing bucket is one clear line rather than a JVM stack trace halfway through a stage.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlparse

# Spark's Hadoop connector names S3 "s3a"; Arrow, deltalake and the AWS tools say "s3".
S3_SCHEMES = ("s3a", "s3")
DEFAULT_REGION = "us-east-1"
CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


class ObjectStoreError(RuntimeError):
    """The lake's object store cannot be used as configured (credentials, bucket, endpoint)."""


def is_object_store(path: str) -> bool:
    return urlparse(path).scheme in S3_SCHEMES


def single_writer(settings) -> bool:
    """Whether the lake needs one Spark driver writing at a time (Delta's single-cluster S3 mode).

    True for an object-store lake unless ``THRESHER_SPARK_CONF`` names a multi-driver log store
    (``S3DynamoDBLogStore``): the DAGs then run one task of a run at a time, so two stages
    never commit to one table (``ops.gate_results``, say) from two drivers at once.
    """
    if not is_object_store(settings.storage_root):
        return False
    store = settings.spark.conf.get("spark.delta.logStore.s3a.impl", "")
    return "DynamoDB" not in store


def bucket_of(path: str) -> str:
    parsed = urlparse(path)
    if parsed.scheme not in S3_SCHEMES or not parsed.netloc:
        raise ObjectStoreError(f"{path!r} is not an s3a://bucket/... URI")
    return parsed.netloc


# Where the store is, not who may use it: a pod gets these as plain values (the credentials
# only by Secret reference), so a model task reaches the same endpoint as the Spark jobs.
LOCATION_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_REGION", "AWS_DEFAULT_REGION")


def location_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The endpoint and region variables that are set, by name."""
    env = os.environ if environ is None else environ
    return {name: env[name] for name in LOCATION_VARIABLES if env.get(name)}


def endpoint(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL", "")


def region(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def hadoop_properties(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``spark.hadoop.fs.s3a.*`` for the endpoint and region; never a credential."""
    props = {"spark.hadoop.fs.s3a.endpoint.region": region(environ)}
    url = endpoint(environ)
    if url:
        props["spark.hadoop.fs.s3a.endpoint"] = url
        props["spark.hadoop.fs.s3a.path.style.access"] = "true"
        props["spark.hadoop.fs.s3a.connection.ssl.enabled"] = str(url.startswith("https:")).lower()
    return props


def deltalake_options(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Options deltalake needs beyond what it reads from ``AWS_*`` itself: plain HTTP endpoints.

    Credentials stay in the environment, where deltalake's S3 client finds them.
    """
    url = endpoint(environ)
    options = {"AWS_REGION": region(environ)}
    if url:
        options["AWS_ENDPOINT_URL"] = url
        if url.startswith("http:"):
            options["AWS_ALLOW_HTTP"] = "true"
    return options


def _s3(path: str, env: Mapping[str, str]):
    """An Arrow S3 client for ``path``'s store, credentials from ``env``."""
    from pyarrow import fs

    missing = [v for v in CREDENTIAL_VARIABLES[:2] if not env.get(v)]
    if missing:
        raise ObjectStoreError(
            f"lake {path}: {' and '.join(missing)} not set (credentials come from the environment)"
        )
    url = urlparse(endpoint(env))
    return fs.S3FileSystem(
        access_key=env["AWS_ACCESS_KEY_ID"],
        secret_key=env["AWS_SECRET_ACCESS_KEY"],
        session_token=env.get("AWS_SESSION_TOKEN") or None,
        region=region(env),
        endpoint_override=url.netloc or None,
        scheme=url.scheme or "https",
        connect_timeout=5,
        request_timeout=10,
        retry_strategy=fs.AwsStandardS3RetryStrategy(max_attempts=2),
    )


def path_exists(path: str, environ: Mapping[str, str] | None = None) -> bool:
    """Whether a file or folder exists at ``path`` (a local path or an ``s3a://`` URI), asked
    without a JVM: a task that only needs to know whether a model is saved starts no driver."""
    from pyarrow import fs

    if not is_object_store(path):
        return os.path.exists(urlparse(path).path if path.startswith("file:") else path)
    env = os.environ if environ is None else environ
    parsed = urlparse(path)
    info = _s3(path, env).get_file_info(f"{parsed.netloc}{parsed.path}".rstrip("/"))
    return info.type != fs.FileType.NotFound


def check_bucket(path: str, environ: Mapping[str, str] | None = None) -> None:
    """Raise ``ObjectStoreError`` with one line unless ``path``'s bucket exists and answers."""
    from pyarrow import fs

    env = os.environ if environ is None else environ
    bucket = bucket_of(path)
    store = _s3(path, env)
    url = urlparse(endpoint(env))
    where = f"at {url.geturl()}" if url.netloc else f"in {region(env)}"
    try:
        info = store.get_file_info(bucket)
    except OSError as exc:
        reason = _reason(str(exc))
        raise ObjectStoreError(f"lake {path}: bucket {bucket!r} {where}: {reason}") from None
    if info.type == fs.FileType.NotFound:
        raise ObjectStoreError(f"lake {path}: bucket {bucket!r} does not exist {where}")


def _reason(message: str) -> str:
    """The store's own words, without Arrow's request details (never a credential)."""
    lowered = message.lower()
    if "access_denied" in lowered or "403" in lowered or "forbidden" in lowered:
        return "access denied: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    if "connect" in lowered or "network" in lowered or "timeout" in lowered:
        return "no answer from the endpoint (AWS_ENDPOINT_URL)"
    return message.splitlines()[0][:200]
