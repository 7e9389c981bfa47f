"""POSO events: a MovieLens-format folder → ``silver.poso_events``, ``poso_users``, ``poso_items``.

Input: a folder holding one of two layouts (headers name the columns; order is free).

* **RecBole atomic files** (MovieLens-100K as shipped in the ``recbole`` package, the default;
  also the shape to give a production event log): tab-separated, unquoted, a header of
  ``name:type`` fields.

  - ``<name>.inter`` (required): ``user_id``, ``item_id``, ``timestamp`` (seconds since the
    epoch, integer or float) and ``rating`` (number) and/or ``label`` (watch = 1 / 0).
  - ``<name>.user`` (optional): ``user_id``, ``age``, ``gender``, ``occupation``, ``zip_code``.
  - ``<name>.item`` (optional): ``item_id``, ``movie_title``, ``release_year``, ``class``
    (genres separated by spaces).

* **MovieLens CSVs** (MovieLens-20M / 25M as distributed): comma-separated, quoted titles.

  - ``ratings.csv``: ``userId,movieId,rating,timestamp``.
  - ``movies.csv`` (optional): ``movieId,title,genres`` (genres separated by ``|``; the
    year is read from the title's trailing ``(1995)``). No users file.

Every non-blank line after the header is accounted for per stage (``poso_events``,
``poso_users``, ``poso_items``): ``in = kept + dropped + quarantined``. Quarantined
(``quarantine`` table, the run's partition): ``extra_fields``, ``missing_field`` (a required
value empty), ``invalid_number``.
Dropped by policy: ``duplicate_event`` (the same user, item and timestamp again) and
``duplicate_record`` (a user or item listed twice); the first line is kept.

Kept events get a label (``label > 0`` where the log has one, else
``rating >= poso.positive_rating``), a split (``poso.split``: by default a hashed draw of
held-out users whose first events are the validation / test new users, the other users'
events cut by time; or the time cut alone), and the personalisation code: the user's earlier
interactions (ties in time ordered by item), their log2 bucket, and the group (``new`` below
``poso.new_user_threshold``).
Each table's dataset partition is replaced whole, so a re-run leaves the same tables. The
events joined with user and item features are also written as Parquet
(``thresher.config.poso_events_export``): what the trainers read, with no JVM in a GPU pod.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from spark_jobs.delta_io import replace_rows, rows_where
from spark_jobs.movielens_files import (
    DUPLICATE_EVENT,
    DUPLICATE_RECORD,
    EVENTS,
    ITEMS,
    STAGES,
    USERS,
    MovieLensError,
    build_items,
    build_users,
    default_input_path,
    find_layout,
    read_records,
    with_dispositions,
)
from thresher.accounting import StageCounts
from thresher.config import PosoSettings, Settings, poso_events_export
from thresher.tables import (
    QUARANTINE,
    SILVER_POSO_EVENTS,
    SILVER_POSO_ITEMS,
    SILVER_POSO_USERS,
    STAGE_COUNTS,
)

log = logging.getLogger(__name__)

__all__ = ["MovieLensError", "default_input_path", "label_split_and_code", "run"]


def tally(stage: str, records: DataFrame) -> StageCounts:
    """The stage's counts by disposition and reason; raises unless they reconcile."""
    rows = records.groupBy("disposition", "reason").count().collect()
    return StageCounts.from_rows(
        stage,
        [("in", "", r["count"]) for r in rows]
        + [(r["disposition"], r["reason"] or "", r["count"]) for r in rows],
    ).check()


def refused_rows(records: DataFrame, partition: dt.date, dataset: str, stage: str) -> DataFrame:
    """Quarantined lines as ``quarantine`` rows (id: stage, dataset, location, reason)."""
    key = F.concat_ws("\x00", F.lit(stage), F.lit(dataset), "location", "reason")
    return records.where(F.col("disposition") == "quarantined").select(
        F.sha2(key, 256).alias("quarantine_id"),
        F.lit(partition).cast("date").alias("ingest_date"),
        F.lit(stage).alias("stage"),
        F.lit(dataset).alias("source"),
        "location",
        "reason",
        "detail",
        F.substring("line", 1, 2048).alias("raw_excerpt"),
        F.length("line").cast("long").alias("n_bytes"),
    )


def store_accounting(
    spark: SparkSession,
    settings: Settings,
    partition: dt.date,
    dataset: str,
    counts: list[StageCounts],
    refused: list[DataFrame],
) -> None:
    """Replace the dataset's quarantine rows and stage counts of the partition, all stages at
    once (a stage without its file this time loses its old rows too)."""
    predicate = rows_where(partition, source=dataset) & F.col("stage").isin(*STAGES)
    quarantined = refused[0]
    for frame in refused[1:]:
        quarantined = quarantined.unionByName(frame)
    replace_rows(spark, QUARANTINE, settings, quarantined, predicate)
    rows = [
        (partition, c.stage, dataset, category, reason, n, None)
        for c in counts
        for category, reason, n in c.rows()
    ]
    replace_rows(
        spark, STAGE_COUNTS, settings, spark.createDataFrame(rows, STAGE_COUNTS.schema), predicate
    )


HELD_OUT = "held_out"  # a held-out user's events after their first window: used by nothing
# silver.poso_events' columns after ``dataset``, in order.
EVENT_COLUMNS = tuple(f.name for f in SILVER_POSO_EVENTS.schema.fields[1:])


def user_draw(salt: str) -> Column:
    """Each user's draw, uniform on [0, 1): the first 32 bits of sha256(salt NUL user_id).
    A hash, not a random generator, so a re-run (or another engine) draws the same users."""
    digest = F.sha2(F.concat_ws("\x00", F.lit(salt), F.col("user_id").cast("string")), 256)
    return F.conv(F.substring(digest, 1, 8), 16, 10).cast("double") / float(2**32)


def held_out_role(poso: PosoSettings) -> Column:
    """The role of a held-out user ("valid" or "test"); null for a user who trains."""
    if poso.split == "time":
        return F.lit(None).cast("string")
    draw = user_draw(poso.split_salt)
    test_below = poso.held_out_valid_users + poso.held_out_test_users
    return F.when(draw < poso.held_out_valid_users, "valid").when(draw < test_below, "test")


def label_split_and_code(events: DataFrame, settings: Settings) -> DataFrame:
    """Pure transform: kept events → label, split, activity, user group and history.

    Split (``poso.split``): users who train have their events cut by time at the quantiles
    of *their* events' time; a held-out user's first ``new_user_threshold`` events are
    validation or test new-user events, the rest ``held_out``.
    """
    poso = settings.poso
    label = F.when(F.col("label").isNotNull(), (F.col("label") > 0).cast("int")).otherwise(
        (F.col("rating") >= poso.positive_rating).cast("int")
    )
    events = events.withColumn("held_out_as", held_out_role(poso))
    test_from = 1.0 - poso.test_fraction
    valid_from = test_from - poso.valid_fraction
    trainers = events.where(F.col("held_out_as").isNull())
    cuts = trainers.select(F.percentile("timestamp", F.array(F.lit(valid_from), F.lit(test_from))))
    found = cuts.first()[0]
    if found is None:
        raise MovieLensError(
            "every user is held out: lower poso.held_out_valid_users / held_out_test_users"
        )
    valid_cut, test_cut = found
    time_split = (
        F.when(F.col("timestamp") >= F.lit(test_cut), "test")
        .when(F.col("timestamp") >= F.lit(valid_cut), "valid")
        .otherwise("train")
    )
    by_user = Window.partitionBy("user_id").orderBy("timestamp", "item_id")
    before = by_user.rowsBetween(-poso.history_length, -1)
    activity = F.row_number().over(by_user) - 1
    bucket = F.when(F.col("activity_count") == 0, 0).otherwise(
        F.least(F.floor(F.log2("activity_count")).cast("int") + 1, F.lit(poso.activity_buckets - 1))
    )
    is_new = F.col("activity_count") < poso.new_user_threshold
    split = (
        F.when(F.col("held_out_as").isNull(), time_split)
        .when(is_new, F.col("held_out_as"))
        .otherwise(F.lit(HELD_OUT))
    )
    return (
        events.select(
            "event_id",
            "user_id",
            "item_id",
            "timestamp",
            "rating",
            "held_out_as",
            label.alias("label"),
            activity.cast("long").alias("activity_count"),
            F.collect_list("item_id").over(before).alias("history_items"),
            F.collect_list(label).over(before).alias("history_labels"),
        )
        .withColumn("split", split)
        .withColumn("activity_bucket", bucket.cast("int"))
        .withColumn("is_new_user", is_new)
        .withColumn("user_group", F.when(is_new, "new").otherwise("regular"))
        .select(*EVENT_COLUMNS)
    )


def run(
    spark: SparkSession,
    settings: Settings,
    partition: dt.date,
    input_path: str | None = None,
    dataset: str | None = None,
) -> dict:
    """Build the dataset's three tables and its Parquet export; return counts and paths."""
    dataset = dataset or settings.poso.dataset
    input_path = input_path or settings.poso.input_path or default_input_path()
    layout = find_layout(spark, input_path)
    log.info("poso events %s: reading %s", dataset, layout)
    raw = read_records(spark, layout.events, layout, EVENTS)
    raw = raw.withColumn(
        "event_id", F.sha2(F.concat_ws("\x00", "user_id", "item_id", "timestamp"), 256)
    )
    sides = {EVENTS[0]: with_dispositions(raw, ["event_id"], DUPLICATE_EVENT).persist()}
    for stage, path in ((USERS, layout.users), (ITEMS, layout.items)):
        if path is not None:
            records = read_records(spark, path, layout, stage)
            sides[stage[0]] = with_dispositions(records, [stage[3]], DUPLICATE_RECORD).persist()
    counts = {stage: tally(stage, records) for stage, records in sides.items()}
    refused = [refused_rows(r, partition, dataset, stage) for stage, r in sides.items()]
    store_accounting(spark, settings, partition, dataset, list(counts.values()), refused)
    if counts[EVENTS[0]].kept == 0:
        raise MovieLensError(f"{layout.events}: no valid events (see the quarantine table)")

    tag = F.lit(dataset).alias("dataset")
    kept = sides[EVENTS[0]].where(F.col("disposition") == "kept")
    events = label_split_and_code(kept, settings).select(tag, "*").persist()
    users = build_users(sides.get(USERS[0]), events).select(tag, "*").persist()
    items = build_items(sides.get(ITEMS[0]), events).select(tag, "*").persist()
    in_dataset = rows_where(dataset=dataset)
    for spec, frame in (
        (SILVER_POSO_EVENTS, events),
        (SILVER_POSO_USERS, users),
        (SILVER_POSO_ITEMS, items),
    ):
        replace_rows(spark, spec, settings, frame, in_dataset)
    export = export_events(settings, dataset, events, users, items)
    groups = events.groupBy("split", "user_group").agg(
        F.count("*").alias("events"),
        F.countDistinct("user_id").alias("users"),
        F.avg("label").alias("positive_rate"),
    )
    splits: dict[str, dict] = {}
    for row in groups.collect():
        splits.setdefault(row["split"], {})[row["user_group"]] = {
            "events": row["events"],
            "users": row["users"],
            "positive_rate": round(row["positive_rate"], 4),
        }
    for frame in (*sides.values(), events, users, items):
        frame.unpersist()
    return {
        "dataset": dataset,
        "input_path": input_path,
        "partition": partition.isoformat(),
        "events_table": SILVER_POSO_EVENTS.path(settings),
        "export_path": export,
        "stages": {
            name: {
                "in": c.records_in,
                "kept": c.kept,
                "dropped": dict(c.dropped),
                "quarantined": dict(c.quarantined),
            }
            for name, c in counts.items()
        },
        "splits": splits,
    }


def export_events(
    settings: Settings, dataset: str, events: DataFrame, users: DataFrame, items: DataFrame
) -> str:
    """The events with user and item features, as Parquet for the trainers (no JVM there)."""
    joined = events.join(
        users.select("user_id", "age", "gender", "occupation"), "user_id", "left"
    ).join(items.select("item_id", "genres", "year"), "item_id", "left")
    path = poso_events_export(settings, dataset)
    joined.write.mode("overwrite").parquet(path)
    return path


def main(argv: list[str] | None = None) -> int:
    from spark_jobs.session import get_spark
    from thresher.partitions import parse_partition

    parser = argparse.ArgumentParser(
        prog="python -m spark_jobs.movielens",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--date",
        required=True,
        type=parse_partition,
        help="the run's partition (quarantine and stage counts)",
    )
    parser.add_argument("--input", default=None, help="MovieLens-format folder")
    parser.add_argument("--dataset", default=None, help="dataset name (default: poso.dataset)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    settings = Settings.from_env()
    spark = get_spark(settings, "thresher-poso-events", own_driver=True)  # RDDs, Hadoop files
    try:
        result = run(spark, settings, args.date, args.input, args.dataset)
    except MovieLensError as exc:
        print(f"error: {exc}")
        return 2
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
