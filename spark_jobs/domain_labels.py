"""Labelled texts for the domain classifier: SIB-200 into ``silver.domain_labels``.

SIB-200 (Adelani et al., 2024) labels 1,004 FLORES-200 sentences with 7 topics (science/
technology, travel, politics, sports, health, entertainment, geography); the same sentence
carries the same ``index_id`` and label in every language, so the 18 languages' train
splits together are one parallel training set. Its FLORES codes are mapped to the ISO 639-1
codes of ``bronze.documents.language``.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from spark_jobs.delta_io import read_table, replace_rows, rows_where
from thresher.config import Settings
from thresher.languages import FLORES_TO_ISO
from thresher.tables import SILVER_DOMAIN_LABELS

SIB200 = "sib200"
SPLITS = ("train", "dev")
SIB200_LANGUAGES = FLORES_TO_ISO  # SIB-200 folder names are FLORES-200 codes


def sib200_root(settings: Settings) -> Path:
    """The configured SIB-200 folder, else ``sib200/`` of the shared data beside the checkout."""
    if settings.domain.labels_path:
        return Path(settings.domain.labels_path)
    shared = os.environ.get("THRESHER_SHARED_DATA")
    base = Path(shared) if shared else Path(__file__).resolve().parents[2] / "shared" / "data"
    return base / SIB200


def sib200_rows(
    root: Path, languages: tuple[str, ...] | None = None, per_split: int | None = None
) -> list[tuple[str, str, str, str, str, str]]:
    """``(dataset, split, language, item_id, label, text)`` rows of the SIB-200 TSV files.

    ``languages`` (ISO codes) and ``per_split`` (the first n items of each split) select a
    subset, for tests.
    """
    rows = []
    for folder, language in sorted(SIB200_LANGUAGES.items()):
        if languages is not None and language not in languages:
            continue
        for split in SPLITS:
            path = root / folder / f"{split}.tsv"
            if not path.is_file():
                raise FileNotFoundError(f"SIB-200 split missing: {path}")
            with path.open(encoding="utf-8", newline="") as handle:
                # Sentences contain quotes; the files are plain tab-separated, unquoted.
                reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
                items = [
                    (SIB200, split, language, r["index_id"], r["category"], r["text"])
                    for r in reader
                ]
            rows += items[:per_split] if per_split else items
    return rows


def load_labels(
    spark: SparkSession, settings: Settings, rows: list[tuple], dataset: str = SIB200
) -> dict[str, int]:
    """Replace ``dataset``'s rows of ``silver.domain_labels``; return row counts per split."""
    if any(row[0] != dataset for row in rows):
        raise ValueError(f"every row must belong to dataset {dataset!r}")
    frame = spark.createDataFrame(rows, SILVER_DOMAIN_LABELS.schema)
    replace_rows(spark, SILVER_DOMAIN_LABELS, settings, frame, rows_where(dataset=dataset))
    counts: dict[str, int] = {}
    for row in rows:
        counts[row[1]] = counts.get(row[1], 0) + 1
    return counts


def load_sib200(
    spark: SparkSession,
    settings: Settings,
    languages: tuple[str, ...] | None = None,
    per_split: int | None = None,
) -> dict[str, int]:
    """Load SIB-200 (by default every language the pipeline keeps) into the labels table."""
    wanted = languages if languages is not None else settings.languages
    rows = sib200_rows(sib200_root(settings), wanted, per_split)
    return load_labels(spark, settings, rows, SIB200)


def labelled_texts(
    spark: SparkSession, settings: Settings, dataset: str | None = None
) -> DataFrame:
    """``(text, language, label, split)`` of one dataset of ``silver.domain_labels``."""
    dataset = dataset or settings.domain.labels_dataset
    labels = read_table(spark, SILVER_DOMAIN_LABELS, settings)
    return labels.where(F.col("dataset") == dataset).select("text", "language", "label", "split")
