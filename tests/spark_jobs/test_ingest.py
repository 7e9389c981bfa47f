"""The ingest job on a small real corpus: every format, every way a record can go wrong."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spark_jobs import ingest
from spark_jobs.delta_io import read_table
from tests.corpus import html_page, ntrex_documents, xquad_paragraphs
from thresher.tables import BRONZE_DOCUMENTS, QUARANTINE, STAGE_COUNTS
from thresher.text import extract, input_files, input_records

DAY = dt.date(2026, 11, 20)
PAGES = {"deu": "de", "fra": "fr", "jpn": "ja", "arb": "ar", "hin": "hi"}


def warc_archive(pages: list[tuple[str, str]]) -> bytes:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    for url, body in pages:
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        writer.write_record(
            writer.create_warc_record(
                url, "response", payload=io.BytesIO(body.encode()), http_headers=headers
            )
        )
    image = StatusAndHeaders("200 OK", [("Content-Type", "image/png")])
    writer.write_record(
        writer.create_warc_record(
            "https://x/logo.png", "response", payload=io.BytesIO(b"\x89PNG"), http_headers=image
        )
    )
    return out.getvalue()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, shared_data):
    """Input folder: 5 HTML news pages, JSONL + gzipped JSONL, Parquet, WARC, and bad files.

    Returns the folder and what each good document's language must be.
    """
    root = tmp_path_factory.mktemp("corpus")
    expected: dict[str, str] = {}
    (root / "news").mkdir()
    for code, iso in PAGES.items():
        text = ntrex_documents(shared_data, code, 1)[0]
        (root / "news" / f"{code}.html").write_text(html_page(f"news {code}", text), "utf-8")
        expected[f"news/{code}.html"] = iso

    paragraphs = {lang: xquad_paragraphs(shared_data, lang, 2) for lang in ("es", "zh", "ru")}
    lines = [
        json.dumps({"url": f"https://wiki/{lang}/{i}", "text": p}, ensure_ascii=False)
        for lang, ps in paragraphs.items()
        for i, p in enumerate(ps)
    ]
    lines.insert(2, lines[0])  # the same record twice: one is a duplicate
    lines += ['{"url": "https://wiki/broken", "text": "no end', '{"url": "https://wiki/none"}', ""]
    (root / "wiki.jsonl").write_text("\n".join(lines), "utf-8")
    for lang, ps in paragraphs.items():
        for i in range(len(ps)):
            expected[f"https://wiki/{lang}/{i}"] = lang

    vi = xquad_paragraphs(shared_data, "vi", 2)
    gz = "\n".join(
        json.dumps({"id": f"vi-{i}", "text": p}, ensure_ascii=False) for i, p in enumerate(vi)
    )
    (root / "vi.jsonl.gz").write_bytes(gzip.compress(gz.encode()))
    expected |= {f"vi-{i}": "vi" for i in range(2)}
    (root / "corrupt.jsonl.gz").write_bytes(b"\x1f\x8b\x08\x00 definitely not gzip")

    tr = ntrex_documents(shared_data, "tur", 3)
    table = pa.table({"url": ["tr-0", "tr-1", "tr-2", "tr-3"], "text": [*tr, None]})
    pq.write_table(table, root / "turkish.parquet")
    expected |= {f"tr-{i}": "tr" for i in range(3)}

    pt = ntrex_documents(shared_data, "por", 2)
    pages = [(f"https://pt/{i}", html_page(f"pt {i}", t)) for i, t in enumerate(pt)]
    (root / "crawl.warc.gz").write_bytes(warc_archive(pages))
    expected |= {f"https://pt/{i}": "pt" for i in range(2)}

    (root / "bad").mkdir()
    (root / "bad" / "latin1.html").write_bytes(html_page("x", "Caf\xe9 " * 80).encode("latin-1"))
    (root / "bad" / "empty.html").write_text("<html><body><script>x()</script></body></html>")
    (root / "bad" / "binary.html").write_bytes(b"<html>\x00\x00\x00</html>")
    (root / "bad" / "huge.html").write_text(html_page("huge", "word " * 30_000))
    (root / "bad" / "nav.html").write_text(html_page("nav", "Menu"))
    (root / "notes.txt").write_text("not an input format; ignored")
    return root, expected


EXPECTED_QUARANTINE = {
    ("bad/latin1.html", extract.INVALID_UTF8),
    ("bad/empty.html", extract.EMPTY_TEXT),
    ("bad/binary.html", extract.UNPARSABLE_HTML),
    ("bad/huge.html", extract.OVERSIZE),
    ("corrupt.jsonl.gz", extract.UNREADABLE_FILE),
    ("wiki.jsonl#L8", extract.UNPARSABLE_JSON),
    ("wiki.jsonl#L9", extract.MISSING_TEXT_FIELD),
    ("turkish.parquet#row4", extract.MISSING_TEXT_FIELD),
}


@pytest.fixture(scope="module")
def ingested(spark, corpus, tmp_path_factory):
    from tests.conftest import make_settings
    from thresher.config import IngestSettings

    settings = make_settings(
        tmp_path_factory.mktemp("lake"), ingest=IngestSettings(max_record_bytes=100_000)
    )
    counts = ingest.run(spark, settings, DAY, str(corpus[0]), "web")
    return settings, counts


def bronze_rows(spark, settings):
    frame = read_table(spark, BRONZE_DOCUMENTS, settings)
    return sorted(tuple(r) for r in frame.orderBy("doc_id").collect())


def test_every_good_document_lands_in_bronze_with_its_language(spark, corpus, ingested):
    settings, counts = ingested
    rows = read_table(spark, BRONZE_DOCUMENTS, settings).collect()
    found = {r["url"]: r["language"] for r in rows}
    assert found == corpus[1]
    assert {r["ingest_date"] for r in rows} == {DAY}
    assert {r["source"] for r in rows} == {"web"}
    assert len({r["doc_id"] for r in rows}) == len(rows)
    formats = {r["source_format"] for r in rows}
    assert formats == {"html", "jsonl", "parquet", "warc"}
    for r in rows:
        assert r["n_chars"] == len(r["text"]) >= 200
        assert "All rights reserved" not in r["text"]


def test_malformed_records_are_quarantined_with_reasons(spark, ingested):
    settings, counts = ingested
    rows = read_table(spark, QUARANTINE, settings).collect()
    assert {(r["location"], r["reason"]) for r in rows} == EXPECTED_QUARANTINE
    latin1 = next(r for r in rows if r["reason"] == extract.INVALID_UTF8)
    assert "Caf" in latin1["raw_excerpt"] and latin1["detail"]
    assert all(r["stage"] == "ingest" and r["source"] == "web" for r in rows)


def test_counts_reconcile_and_are_stored(spark, ingested):
    settings, counts = ingested
    assert counts.records_in == counts.kept + sum(counts.dropped.values()) + sum(
        counts.quarantined.values()
    )
    assert counts.kept == len(bronze_rows(spark, settings))
    assert counts.dropped == {
        extract.DUPLICATE_RECORD: 1,
        extract.TOO_SHORT: 1,
        input_files.UNSUPPORTED_EXTENSION: 1,  # notes.txt
        input_records.NOT_HTML_RESPONSE: 1,  # the WARC's image
    }
    assert sum(counts.quarantined.values()) == len(EXPECTED_QUARANTINE)
    stored = read_table(spark, STAGE_COUNTS, settings).collect()
    assert sorted((r["category"], r["reason"], r["records"]) for r in stored) == sorted(
        counts.rows()
    )
    assert len({r["batch_id"] for r in stored}) == 1  # the id every table of the run carries


def test_running_the_partition_again_leaves_identical_tables(spark, corpus, ingested):
    settings, _ = ingested
    bronze_before = bronze_rows(spark, settings)
    quarantine_before = sorted(tuple(r) for r in read_table(spark, QUARANTINE, settings).collect())
    ingest.run(spark, settings, DAY, str(corpus[0]), "web")
    assert bronze_rows(spark, settings) == bronze_before
    quarantine_after = sorted(tuple(r) for r in read_table(spark, QUARANTINE, settings).collect())
    assert quarantine_after == quarantine_before
    from delta.tables import DeltaTable

    history = DeltaTable.forPath(spark, BRONZE_DOCUMENTS.path(settings)).history().collect()
    writes = [h for h in history if h["operation"] == "WRITE"]
    assert len(writes) >= 2  # the second run rewrote its rows; it did not append


def test_a_run_owns_only_its_date_and_source(spark, shared_data, settings, tmp_path):
    folder = tmp_path / "it"
    folder.mkdir()
    (folder / "page.html").write_text(html_page("it", ntrex_documents(shared_data, "ita", 1)[0]))
    next_day = DAY + dt.timedelta(days=1)
    for day, source in ((DAY, "web"), (next_day, "web"), (DAY, "extra"), (DAY, "web")):
        ingest.run(spark, settings, day, str(folder), source)
    frame = read_table(spark, BRONZE_DOCUMENTS, settings)
    per = {(r[0], r[1]): r[2] for r in frame.groupBy("ingest_date", "source").count().collect()}
    assert per == {(DAY, "web"): 1, (next_day, "web"): 1, (DAY, "extra"): 1}


def test_missing_input_is_a_clear_error(spark, settings, tmp_path):
    with pytest.raises(ingest.IngestError, match="does not exist"):
        ingest.run(spark, settings, DAY, str(tmp_path / "nowhere"))
