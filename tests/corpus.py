"""Real multilingual documents from ../shared/data, shaped as the inputs ingest reads."""

from __future__ import annotations

import html
import json
from collections import OrderedDict
from pathlib import Path

from thresher.languages import NTREX_TO_ISO

NTREX_LANGUAGES = NTREX_TO_ISO  # NTREX-128 file codes → the ISO 639-1 codes fastText emits


# Hand-written parallel sentences, for tests that need text but not ../shared.
SENTENCES = [
    "The river rose overnight and the old bridge was closed to traffic.",
    "Der Fluss stieg über Nacht, und die alte Brücke wurde gesperrt.",
    "La rivière a monté pendant la nuit et le vieux pont a été fermé.",
    "Farmers in the valley waited for the rain to stop before the harvest.",
    "Die Bauern im Tal warteten, bis der Regen vor der Ernte aufhörte.",
    "Les agriculteurs de la vallée attendaient la fin de la pluie avant la récolte.",
    "The council voted to repair the bridge before the winter.",
    "Der Rat stimmte dafür, die Brücke vor dem Winter zu reparieren.",
]


def ntrex_documents(shared: Path, code: str, limit: int) -> list[str]:
    """The first ``limit`` NTREX news documents in one language, lines joined by newlines."""
    ids = (shared / "ntrex" / "DOCUMENT_IDS.tsv").read_text(encoding="utf-8").splitlines()
    lines = (shared / "ntrex" / f"newstest2019-ref.{code}.txt").read_text(encoding="utf-8")
    docs: OrderedDict[str, list[str]] = OrderedDict()
    for doc_id, line in zip(ids, lines.splitlines(), strict=True):
        docs.setdefault(doc_id, []).append(line)
    return ["\n".join(body) for body in list(docs.values())[:limit]]


def xquad_paragraphs(shared: Path, lang: str, limit: int, min_chars: int = 250) -> list[str]:
    """The first ``limit`` XQuAD paragraphs of at least ``min_chars`` characters."""
    data = json.loads((shared / "xquad" / f"xquad.{lang}.json").read_text(encoding="utf-8"))
    paragraphs = [p["context"] for article in data["data"] for p in article["paragraphs"]]
    return [p for p in paragraphs if len(p) >= min_chars][:limit]


def html_page(title: str, body: str) -> str:
    """A page with navigation and footer boilerplate around the article, as sites serve it."""
    paragraphs = "\n".join(f"<p>{html.escape(line)}</p>" for line in body.split("\n"))
    nav = " | ".join(f'<a href="/{x}">{x}</a>' for x in ("Home", "World", "Sport", "Contact"))
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body>"
        f"<nav>{nav}</nav><article><h1>{html.escape(title)}</h1>{paragraphs}</article>"
        "<footer>© Example News. All rights reserved. Privacy policy. Cookie settings.</footer>"
        "</body></html>"
    )


def write_curated_mixture(spark, settings, name: str = "default", documents: int = 40) -> list[str]:
    """bronze.documents and gold.mixture_<name> rows for ``documents`` short texts.

    Stands in for a curation run where a test only needs its outputs. Document ``i`` gets
    ``1 + i % 3`` copies; returns the doc ids.
    """
    import datetime as dt

    from pyspark.sql import Row

    from thresher.tables import BRONZE_DOCUMENTS, mixture_table

    day = dt.date(2026, 11, 1)
    bronze, mixture = [], []
    for i in range(documents):
        text = " ".join(SENTENCES[(i + k) % len(SENTENCES)] for k in range(5))
        doc_id = f"doc-{i:04d}"
        url = f"https://example.org/{i}"
        bronze.append(bronze_row(day, url, text, ("en", "de", "fr")[i % 3], doc_id=doc_id))
        mixture.append(
            Row(
                doc_id=doc_id,
                ingest_date=day,
                domain=("news", "science")[i % 2],
                tokens=len(text.split()),
                quality=0.5,
                rank=i / documents,
                expected_copies=1.0 + i % 3,
                copies=1 + i % 3,
                params_version="tests",
                seed=1,
                source_versions={"bronze.documents": 0},
            )
        )
    write_tables(spark, settings, (BRONZE_DOCUMENTS, bronze), (mixture_table(name), mixture))
    return [row.doc_id for row in bronze]


def write_scored_documents(spark, settings, documents: int = 200, seed: int = 3) -> list[str]:
    """bronze.documents, silver.quality_scores and silver.domains for ``documents`` texts.

    What a curation run leaves for a mixture or a mixture search: two criteria (a rule pass
    share with many ties, a classifier probability), three domains of unequal size, texts of
    2-8 sentences (tokens = UTF-8 bytes). Returns the doc ids.
    """
    import datetime as dt

    import numpy as np
    from pyspark.sql import Row

    from thresher.tables import BRONZE_DOCUMENTS, SILVER_DOMAINS, SILVER_QUALITY_SCORES
    from thresher.text.size import byte_tokens

    rng = np.random.default_rng(seed)
    day = dt.date(2026, 11, 1)
    bronze, scores, domains = [], [], []
    for i in range(documents):
        doc_id = f"doc-{i:04d}"
        text = " ".join(SENTENCES[(i * 3 + k) % len(SENTENCES)] for k in range(2 + i % 7))
        tokens = byte_tokens(text)
        url = f"https://example.org/{i}"
        bronze.append(bronze_row(day, url, text, ("en", "de", "fr")[i % 3], doc_id=doc_id))
        rule = float(rng.integers(0, 9)) / 8
        reference = float(rng.uniform())
        scores += [
            score_row(doc_id, day, "rules", "r1", rule, tokens, passed=rule == 1.0, failed=[]),
            score_row(
                doc_id, day, "reference_classifier", "v1", reference, tokens, reference >= 0.5
            ),
        ]
        domain = "science" if i % 5 < 3 else ("news" if i % 5 == 3 else "travel")
        domains.append(
            Row(
                doc_id=doc_id,
                ingest_date=day,
                domain=domain,
                confidence=0.9,
                model_version="tests",
                method="supervised",
            )
        )
    write_tables(
        spark,
        settings,
        (BRONZE_DOCUMENTS, bronze),
        (SILVER_QUALITY_SCORES, scores),
        (SILVER_DOMAINS, domains),
    )
    return [row.doc_id for row in bronze]


# (English, German) pairs of SENTENCES: the same sentence in both languages.
SENTENCE_PAIRS = [
    (SENTENCES[0], SENTENCES[1]),
    (SENTENCES[3], SENTENCES[4]),
    (SENTENCES[6], SENTENCES[7]),
]


def write_parallel_units(spark, settings, pair_set: str = "default") -> int:
    """silver.murating_documents rows for the English–German SENTENCE_PAIRS (plus one
    English-only unit), as a murating judgments run leaves them; returns the units written."""
    from pyspark.sql import Row

    from thresher.tables import SILVER_MURATING_DOCUMENTS

    rows = []
    units = [*SENTENCE_PAIRS, (SENTENCES[2], None)]
    for i, (english, german) in enumerate(units):
        for language, text in (("en", english), ("de", german)):
            if text is None:
                continue
            rows.append(
                Row(
                    pair_set=pair_set,
                    doc_key=f"tests:{i}/{language}",
                    unit_id=f"tests:{i}",
                    language=language,
                    source="tests",
                    text=text,
                    score=float(i),
                    english_scores={"rules": float(i)},
                    split="train",
                    judgment_version="tests",
                )
            )
    write_tables(spark, settings, (SILVER_MURATING_DOCUMENTS, rows))
    return len(units)


def write_aligned_items(path: Path, languages=("en", "de")) -> Path:
    """An aligned item set (models.mubench format, task ``cloze``) in English and German."""
    from thresher.corpora.items import Item, write_items

    contexts = {
        "en": ["The bridge was closed because", "The farmers waited because"],
        "de": ["Die Brücke wurde gesperrt, weil", "Die Bauern warteten, weil"],
    }
    options = {
        "en": [(" the river rose.", " the sun shone."), (" of the rain.", " of the music.")],
        "de": [(" der Fluss stieg.", " die Sonne schien."), (" des Regens.", " der Musik.")],
    }
    items = [
        Item("cloze", str(i), language, contexts[language][i], options[language][i], 0)
        for language in languages
        for i in range(2)
    ]
    write_items(items, path)
    return path


def bronze_row(day, url: str, text: str, language: str, *, source="tests", doc_id=None):
    """A bronze.documents row for ``text`` as ingest writes one: the text's content hash and,
    unless ``doc_id`` is given, the doc id ingest derives from source, url and hash."""
    from pyspark.sql import Row

    from thresher.text.extract import document_id, sha256_hex

    content = sha256_hex(text)
    return Row(
        doc_id=doc_id or document_id(source, url, content),
        ingest_date=day,
        source=source,
        url=url,
        location=url,
        source_format="html",
        title=None,
        text=text,
        content_sha256=content,
        language=language,
        language_score=0.99,
        n_chars=len(text),
        n_bytes=len(text.encode()),
        extractor="tests",
    )


def dedup_row(doc_id: str, day, duplicate_of: str | None = None, method: str | None = None):
    """A silver.dedup decision: kept (a cluster of its own), or a copy of ``duplicate_of``
    (same date) in its original's cluster."""
    from pyspark.sql import Row

    return Row(
        doc_id=doc_id,
        ingest_date=day,
        cluster_id=duplicate_of or doc_id,
        duplicate_of=duplicate_of,
        duplicate_of_date=day if duplicate_of else None,
        method=method,
    )


def score_row(doc_id, day, criterion, version, score, tokens, passed=True, failed=None):
    """A silver.quality_scores row: one criterion's score of one document."""
    from pyspark.sql import Row

    return Row(
        doc_id=doc_id,
        ingest_date=day,
        criterion=criterion,
        version=version,
        score=score,
        passed=passed,
        failed=failed,
        details={},
        tokens=tokens,
    )


def write_tables(spark, settings, *tables, mode: str = "overwrite", partition=None) -> None:
    """Writes each ``(spec, rows)`` of ``tables`` to its Delta table (created if absent); with
    a ``partition`` (an ingest date), replaces that partition's rows as a stage's run does."""
    from spark_jobs.delta_io import ensure_table, replace_rows, rows_where

    for spec, rows in tables:
        frame = table_frame(spark, spec, rows)
        if partition is not None:
            replace_rows(spark, spec, settings, frame, rows_where(partition))
        else:
            frame.write.format("delta").mode(mode).save(ensure_table(spark, spec, settings))


def partition_rows(spark, settings, spec, day, columns: tuple[str, ...]) -> dict[str, tuple]:
    """doc_id → the ``columns`` of each row of ``spec``'s table on ``day``."""
    from spark_jobs.delta_io import read_table, rows_where

    frame = read_table(spark, spec, settings).where(rows_where(day))
    return {r["doc_id"]: tuple(r[c] for c in columns) for r in frame.collect()}


def table_frame(spark, spec, rows):
    """``rows`` (tuples in schema order, or dicts/Rows by name) as a frame of ``spec``'s
    schema; nullable columns a row leaves out (added to the table later) are null."""
    names = spec.schema.fieldNames()

    def full(row) -> tuple:
        if hasattr(row, "asDict"):
            row = row.asDict()
        if isinstance(row, dict):
            return tuple(row.get(name) for name in names)
        return tuple(row) + (None,) * (len(names) - len(row))

    return spark.createDataFrame([full(r) for r in rows], spec.schema)
