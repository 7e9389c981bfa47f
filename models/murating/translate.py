"""Translate English documents that have no counterpart, so their judgment reaches language L.

``python -m models.murating.translate --input <Parquet/JSONL: unit_id, text> --output <folder>
--model <lang>=<path> [--model <lang>=<path> ...]`` loads one sequence-to-sequence
transformers model per target language from a path (``AutoModelForSeq2SeqLM``: Marian
opus-mt-en-xx, or one multilingual model given for several languages with
``--forced-bos <lang>=<token>`` as NLLB / M2M-100 need), translates each document in chunks
of sentences (a model's context is shorter than a document), and writes
``<output>/translations.parquet`` (source, unit_id, language, text) — the English rows too, so
the file is a set of complete parallel units that ``spark_jobs.murating.judgments`` reads.
A GPU task at scale; output files are replaced whole, so a retry rewrites them.
"""

from __future__ import annotations

import argparse
import logging
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from thresher import entrypoint
from thresher.config import Settings
from thresher.entrypoint import BadInput
from thresher.murating.units import ENGLISH, TRANSLATIONS_FILE

log = logging.getLogger(__name__)
_SENTENCES = re.compile(r"(?<=[.!?])\s+")


def chunks(text: str, max_chars: int = 400) -> list[str]:
    """Sentence-aligned pieces of at most ~``max_chars`` characters (longer sentences whole)."""
    pieces, current = [], ""
    for sentence in _SENTENCES.split(text.strip()):
        if current and len(current) + len(sentence) + 1 > max_chars:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    return [*pieces, current] if current else pieces


def translate_texts(
    texts: Sequence[str],
    model_path: str,
    forced_bos: str = "",
    batch_size: int = 16,
    max_new_tokens: int = 256,
) -> list[str]:
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    device = "cuda" if torch.cuda.is_available() else "cpu"
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForSeq2SeqLM.from_pretrained(model_path).to(device).eval()
    options = {"max_new_tokens": max_new_tokens, "num_beams": 1}
    if forced_bos:
        options["forced_bos_token_id"] = tokenizer.convert_tokens_to_ids(forced_bos)
    pieces = [chunks(t) for t in texts]
    flat = [p for doc in pieces for p in doc]
    outputs: list[str] = []
    with torch.no_grad():
        for start in range(0, len(flat), batch_size):
            batch = tokenizer(
                flat[start : start + batch_size], return_tensors="pt", padding=True, truncation=True
            ).to(device)
            generated = model.generate(**batch, **options)
            outputs += tokenizer.batch_decode(generated, skip_special_tokens=True)
    out, position = [], 0
    for doc in pieces:
        out.append(" ".join(s.strip() for s in outputs[position : position + len(doc)]))
        position += len(doc)
    return out


def read_documents(path: str) -> pd.DataFrame:
    if not Path(path).exists():
        raise BadInput(f"input {path} does not exist")
    frame = pd.read_json(path, lines=True) if path.endswith(".jsonl") else pd.read_parquet(path)
    if not {"unit_id", "text"} <= set(frame.columns) or frame.empty:
        raise BadInput(f"input {path} needs rows with unit_id and text")
    return frame


def _pairs(values: Sequence[str], what: str) -> dict[str, str]:
    out = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key or not rest:
            raise BadInput(f"{what} must be <lang>=<value>, got {value!r}")
        out[key] = rest
    return out


def main(argv: Sequence[str]) -> dict:
    parser = argparse.ArgumentParser(prog="python -m models.murating.translate")
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--model", action="append", default=[], help="<lang>=<model path>")
    parser.add_argument("--forced-bos", action="append", default=[], help="<lang>=<token>")
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    models, forced = _pairs(args.model, "--model"), _pairs(args.forced_bos, "--forced-bos")
    if not models:
        raise BadInput("give at least one --model <lang>=<path>")
    for language, path in models.items():
        if not Path(path).is_dir():
            raise BadInput(f"translation model for {language} not found: {path}")
    docs = read_documents(str(entrypoint.task_path(args.input, settings)))
    rows = [
        {"source": "bronze", "unit_id": u, "language": ENGLISH, "text": t}
        for u, t in zip(docs.unit_id, docs.text, strict=True)
    ]
    for language, path in sorted(models.items()):
        texts = translate_texts(docs.text.tolist(), path, forced.get(language, ""), args.batch_size)
        source = f"translation:{Path(path).name}"
        rows += [
            {"source": source, "unit_id": u, "language": language, "text": t}
            for u, t in zip(docs.unit_id, texts, strict=True)
            if t.strip()
        ]
    path = entrypoint.write_table_output(
        pd.DataFrame(rows), args.output, settings, TRANSLATIONS_FILE
    )
    return {
        "output": str(path.parent),
        "documents": len(docs),
        "languages": sorted(models),
        "rows": len(rows),
    }


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    entrypoint.run_entry_point(main)
