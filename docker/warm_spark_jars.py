"""Resolve the jars Spark sessions ask for into this user's Ivy cache at image build time.

Every Spark session the project starts goes through ``spark_jobs.session.get_spark``, which asks
for Delta's jar by Maven coordinates (``spark.jars.packages``), plus any packages named in
``THRESHER_SPARK_CONF`` (e.g. hadoop-aws for ``s3a://``). Starting that same factory once while
the image is built fills ``~/.ivy2.5.2`` with exactly those jars, so a container on a cluster
without Maven access resolves them from the cache (checked: with the cache filled, a session
starts and writes Delta in a network namespace with no route out; with it empty, it fails).
A Delta round trip fails the build if the jars do not load.

    python docker/warm_spark_jars.py [--packages group:artifact:version,...]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from spark_jobs.session import get_spark
from thresher.config import Settings, SparkSettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--packages", default="", help="extra Maven coordinates, comma-separated (may be empty)"
    )
    args = parser.parse_args(argv)
    conf = {"spark.ui.enabled": "false"}
    if args.packages.strip():
        conf["spark.jars.packages"] = args.packages.strip()
    with tempfile.TemporaryDirectory(prefix="thresher-warm-") as tmp:
        settings = Settings(
            home=Path(tmp),
            spark=SparkSettings(master="local[1]", shuffle_partitions=1, conf=conf),
        )
        spark = get_spark(settings, "thresher-warm-spark-jars")
        try:
            table = f"{tmp}/delta-smoke"
            spark.range(3).write.format("delta").save(table)
            rows = spark.read.format("delta").load(table).count()
            if rows != 3:
                raise SystemExit(f"Delta round trip read {rows} rows, expected 3")
            print(f"resolved and loaded: {spark.conf.get('spark.jars.packages')}")
        finally:
            spark.stop()


if __name__ == "__main__":
    main()
