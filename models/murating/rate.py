"""Batch rating in a GPU pod: a partition's kept documents → a Parquet file of rater logits.

``python -m models.murating.rate --model <rater folder> --lake <storage root> --partition
<YYYY-MM-DD> --output <folder>`` reads ``bronze.documents`` and ``silver.dedup`` of the
partition with ``deltalake`` (no JVM in a GPU pod), scores the documents dedup kept with the
trained rater, and writes ``<output>/scores.parquet`` (doc_id, ingest_date, logit, tokens),
replaced whole. ``spark_jobs.murating.rate(..., scores_path=...)`` then writes those scores to
``silver.quality_scores``: the pod needs no write access to the lake, and the Delta write
stays the one idempotent ``replaceWhere`` of the Spark job. On one machine the Spark job
scores in ``mapInPandas`` instead, with the same ``load_rater`` / ``score_texts``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from thresher.config import Settings
from thresher.entrypoint import BadInput, run_entry_point, task_output
from thresher.tables import BRONZE_DOCUMENTS, SILVER_DEDUP

OUTPUT_FILE = "scores.parquet"


def kept_documents(settings: Settings, partition: dt.date) -> pd.DataFrame:
    from deltalake import DeltaTable

    on_date = [("ingest_date", "=", partition)]
    try:
        bronze = DeltaTable(BRONZE_DOCUMENTS.path(settings)).to_pandas(
            filters=on_date, columns=["doc_id", "ingest_date", "text", "language"]
        )
        dedup = DeltaTable(SILVER_DEDUP.path(settings)).to_pandas(
            filters=on_date, columns=["doc_id", "duplicate_of"]
        )
    except Exception as exc:  # deltalake raises its own TableNotFoundError
        raise BadInput(f"cannot read the lake at {settings.storage_root}: {exc}") from None
    kept = dedup[dedup["duplicate_of"].isna()][["doc_id"]]
    return bronze.merge(kept, on="doc_id")


def score_documents(docs: pd.DataFrame, model: str, cache_folder: str) -> pd.DataFrame:
    from models.murating.head import load_rater, score_texts
    from thresher.text.quality_rules import token_count

    rater = load_rater(model, cache_folder)
    if hasattr(rater, "to"):
        import torch

        rater.to("cuda" if torch.cuda.is_available() else "cpu")
    logits = score_texts(rater, docs["text"].tolist()) if len(docs) else []
    tokens = [token_count(t, lang) for t, lang in zip(docs.text, docs.language, strict=True)]
    return pd.DataFrame({"doc_id": docs["doc_id"], "ingest_date": docs["ingest_date"],
                         "logit": pd.Series(logits, dtype="float64"),
                         "tokens": pd.Series(tokens, dtype="int64")})  # fmt: skip


def main(argv: Sequence[str]) -> dict:
    parser = argparse.ArgumentParser(prog="python -m models.murating.rate")
    parser.add_argument("--model", required=True, help="a saved rater folder (train's model_path)")
    parser.add_argument("--partition", required=True, help="YYYY-MM-DD")
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if not (Path(args.model) / "rater.json").is_file():
        raise BadInput(f"no rater at {args.model} (expected rater.json)")
    try:
        partition = dt.date.fromisoformat(args.partition)
    except ValueError:
        raise BadInput(f"--partition must be YYYY-MM-DD, got {args.partition!r}") from None
    config = settings.murating
    cache = config.embedding_cache or f"{settings.checkpoint_root}/murating/embeddings"
    scores = score_documents(kept_documents(settings, partition), args.model, cache)
    output = task_output(args.output, settings)
    output.mkdir(parents=True, exist_ok=True)
    scores.to_parquet(output / OUTPUT_FILE, index=False)
    return {"scores_path": str(output / OUTPUT_FILE), "documents": len(scores),
            "partition": partition.isoformat()}  # fmt: skip


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    run_entry_point(main)
