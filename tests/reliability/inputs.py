"""Small generated inputs a clumsy or hostile user could hand the ingest job."""

from __future__ import annotations

import gzip
import io
import json
import os
import zlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tests.corpus import html_page

# Real-looking prose in a configured language, long enough to be kept.
ENGLISH = (
    "The committee met on Tuesday to review the budget for the coming year. Members agreed "
    "that spending on schools and roads should rise, while the cost of administration must "
    "fall. A final vote is expected before the end of the month, after the public has had a "
    "chance to comment on the proposal. "
)
GERMAN = (
    "Der Ausschuss trat am Dienstag zusammen, um den Haushalt für das kommende Jahr zu "
    "prüfen. Die Mitglieder waren sich einig, dass die Ausgaben für Schulen und Straßen "
    "steigen sollen, während die Verwaltungskosten sinken müssen. Eine Abstimmung wird vor "
    "dem Ende des Monats erwartet, nachdem die Öffentlichkeit Stellung nehmen konnte. "
)


def english(n: int) -> str:
    """A distinct English document (different ids, no near-duplicates by accident)."""
    return f"Report number {n}. " + ENGLISH * 2 + f" Filed under reference {n * 7919}."


def gzip_bomb(path: Path, expanded_bytes: int) -> None:
    """A gzip file of ``expanded_bytes`` zero bytes on one line, written as a stream (the
    file is a few KB per MB expanded)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip container
    block = b"\0" * (1 << 20)
    with open(path, "wb") as out:
        for _ in range(expanded_bytes // len(block)):
            out.write(compressor.compress(block))
        out.write(compressor.flush())


def warc(records: list[tuple[str, str, str]], truncate: int = 0) -> bytes:
    """A gzipped WARC: a warcinfo record, then (url, content type, body) responses; the last
    ``truncate`` bytes cut off."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    writer.write_record(writer.create_warcinfo_record("crawl.warc.gz", {"software": "test"}))
    for url, content_type, body in records:
        headers = StatusAndHeaders("200 OK", [("Content-Type", content_type)])
        payload = io.BytesIO(body.encode("utf-8"))
        writer.write_record(
            writer.create_warc_record(url, "response", payload=payload, http_headers=headers)
        )
    data = out.getvalue()
    return data[:-truncate] if truncate else data


# Every class of bad input, with what must become of it: location → (disposition, reason).
# Good documents (kept) are listed with disposition "kept" and their language.
def build_mixed_folder(root: Path, outside: Path) -> dict[str, tuple[str, str]]:
    expected: dict[str, tuple[str, str]] = {}
    root.mkdir(parents=True)

    def page(rel: str, body: str, outcome: tuple[str, str], title: str = "t") -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html_page(title, body), "utf-8")
        expected[rel] = outcome

    # Good pages, two of them under names that broke the old reader.
    page("good/one.html", english(1), ("kept", "en"))
    page("good/crawl 12:30.html", english(2), ("kept", "en"))  # ':' in a name
    page("crawl [v2]/page.HTML", GERMAN * 2, ("kept", "de"))  # glob characters, upper-case
    page("good/short.html", "Menu. Home.", ("dropped", "too_short"))
    page(
        "good/french.htm",
        "Le comité s'est réuni mardi pour examiner le budget. " * 8,
        ("dropped", "language_not_configured"),
    )
    bad_name = os.fsdecode(b"good/caf\xe9.html")  # a Latin-1 file name, not UTF-8
    (root / bad_name).write_text(html_page("t", english(3)), "utf-8")
    expected["good/caf\\xe9.html"] = ("kept", "en")

    # Files that are not documents: counted, never silently skipped.
    (root / "empty.html").write_bytes(b"")
    expected["empty.html"] = ("dropped", "empty_file")
    (root / ".hidden.html").write_text(html_page("t", english(4)))
    expected[".hidden.html"] = ("dropped", "hidden_file")
    (root / "_SUCCESS").write_bytes(b"")
    expected["_SUCCESS"] = ("dropped", "hidden_file")
    (root / "notes.txt").write_text("not an input format")
    expected["notes.txt"] = ("dropped", "unsupported_extension")
    os.mkfifo(root / "pipe.html")  # reading it would block forever
    expected["pipe.html"] = ("dropped", "not_a_regular_file")

    # Links: a loop, an escape, a dangling one.
    (root / "good" / "again").symlink_to(".")
    expected["good/again"] = ("dropped", "symlink_duplicate")
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "secret.html").write_text(html_page("t", english(5)))
    (root / "elsewhere").symlink_to(outside)
    expected["elsewhere"] = ("dropped", "symlink_outside_input")
    (root / "dangling.html").symlink_to(root / "gone.html")
    expected["dangling.html"] = ("dropped", "broken_symlink")

    # Malformed pages.
    (root / "bad").mkdir()
    (root / "bad" / "latin1.html").write_bytes(html_page("x", "Caf\xe9 " * 80).encode("latin-1"))
    expected["bad/latin1.html"] = ("quarantined", "invalid_utf8")
    (root / "bad" / "binary.html").write_bytes(b"<html>\x00\x00\x00</html>")
    expected["bad/binary.html"] = ("quarantined", "unparsable_html")
    (root / "bad" / "script.html").write_text("<html><body><script>x()</script></body></html>")
    expected["bad/script.html"] = ("quarantined", "empty_text")
    (root / "bad" / "huge.html").write_text(html_page("huge", "word " * 30_000))
    expected["bad/huge.html"] = ("quarantined", "oversize")

    # JSONL: good lines beside broken ones, a duplicate, a gzip bomb, a cut-off gzip.
    lines = [
        json.dumps({"url": "https://x/1", "text": english(10)}),
        json.dumps({"url": "https://x/1", "text": english(10)}),  # the same record twice
        '{"url": "https://x/broken", "text": "no end',
        '{"url": "https://x/none"}',
        "[" * 40_000 + "]" * 40_000,  # nested beyond Python's recursion limit
        '{"url": "https://x/surrogate", "text": "' + ENGLISH + '\\ud800"}',
        json.dumps({"url": "https://x/2", "text": english(11)}),
    ]
    (root / "feed.jsonl").write_text("\n".join(lines), "utf-8")
    expected |= {
        "https://x/1": ("kept", "en"),
        "feed.jsonl#L2": ("dropped", "duplicate_record"),
        "feed.jsonl#L3": ("quarantined", "unparsable_json"),
        "feed.jsonl#L4": ("quarantined", "missing_text_field"),
        "feed.jsonl#L5": ("quarantined", "unparsable_json"),
        "feed.jsonl#L6": ("quarantined", "invalid_unicode"),
        "https://x/2": ("kept", "en"),
    }
    gzip_bomb(root / "bomb.jsonl.gz", 24 << 20)  # 24 MiB of zeros: over the test's file cap
    expected["bomb.jsonl.gz#L1"] = ("quarantined", "oversize")
    expected["bomb.jsonl.gz#rest"] = ("quarantined", "oversize")
    (root / "corrupt.jsonl.gz").write_bytes(b"\x1f\x8b\x08\x00 definitely not gzip")
    expected["corrupt.jsonl.gz"] = ("quarantined", "unreadable_file")
    body = "\n".join(json.dumps({"id": f"cut-{i}", "text": english(20 + i)}) for i in range(30))
    packed = gzip.compress(body.encode())
    (root / "cut.jsonl.gz").write_bytes(packed[: len(packed) * 2 // 3])
    expected["cut.jsonl.gz#truncated"] = ("quarantined", "truncated_archive")
    # (the lines before the cut, "cut-<i>", are kept: how many depends on zlib)

    # WARC: a warcinfo record and an image are counted; a truncated archive keeps its head.
    def responses(site: str, first: int) -> list[tuple[str, str, str]]:
        return [
            (f"https://{site}/1", "text/html; charset=utf-8", html_page("w", english(first))),
            (f"https://{site}/logo.png", "image/png", "PNG"),
            (f"https://{site}/2", "text/html", html_page("w", english(first + 1))),
        ]

    (root / "crawl.warc.gz").write_bytes(warc(responses("w", 40)))
    expected |= {
        "crawl.warc.gz#record1": ("dropped", "not_html_response"),  # warcinfo
        "https://w/1": ("kept", "en"),
        "crawl.warc.gz#record3": ("dropped", "not_html_response"),  # the image
        "https://w/2": ("kept", "en"),
    }
    (root / "cut.warc.gz").write_bytes(warc(responses("v", 60), truncate=40))
    expected |= {
        "cut.warc.gz#record1": ("dropped", "not_html_response"),
        "https://v/1": ("kept", "en"),  # read before the cut
        "cut.warc.gz#record3": ("dropped", "not_html_response"),
    }
    expected["cut.warc.gz#truncated"] = ("quarantined", "truncated_archive")

    # Parquet: files that refuse themselves whatever order they are read in.
    pq.write_table(
        pa.table(
            {"url": ["p-1", "p-2", None, None], "text": [english(50), english(51), None, None]}
        ),
        root / "rows.parquet",
    )
    expected |= {
        "p-1": ("kept", "en"),
        "p-2": ("kept", "en"),
        "rows.parquet#row3": ("quarantined", "missing_text_field"),
        "rows.parquet#row4": ("quarantined", "missing_text_field"),
    }
    pq.write_table(pa.table({"text": [1, 2]}), root / "numbers.parquet")
    expected["numbers.parquet"] = ("quarantined", "missing_text_field")
    pq.write_table(pa.table({"body": ["x"]}), root / "a_no_text.parquet")
    expected["a_no_text.parquet"] = ("quarantined", "missing_text_field")
    (root / "corrupt.parquet").write_bytes(b"PAR1 this is not parquet PAR1")
    expected["corrupt.parquet"] = ("quarantined", "unreadable_file")
    return expected
