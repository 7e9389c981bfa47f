"""Streaming one input file into raw records, with bounded memory.

``file_records`` reads one ``InputFile`` and yields, in file order, a ``RawRecord`` per
document to extract (an HTML or Mallard page, a JSONL line, a Parquet row, a WARC HTML
response) or a ``Refused`` entry for what cannot be one, each with its own location
(``file#L3``, ``file#row2``, ``file#record5``), so every quarantine id is unique.

Memory is bounded whatever the input: a page or record over ``max_record_bytes`` is refused
by its size before it is read (its first bytes are kept as the excerpt); compressed input is
decompressed as a stream and stops at ``max_file_bytes`` of expanded bytes (a gzip bomb costs
that much reading, never that much memory); a JSONL line is never held beyond
``max_record_bytes``; Parquet is read a batch of rows at a time. A file that cannot be opened
is one ``unreadable_file`` entry; an archive cut short keeps the records before the cut and
adds one ``truncated_archive`` entry.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from thresher.text.extract import (
    EXCERPT_BYTES,
    MISSING_TEXT_FIELD,
    OVERSIZE,
    UNREADABLE_FILE,
    RawRecord,
)
from thresher.text.input_files import InputFile, open_input

TRUNCATED_ARCHIVE = "truncated_archive"
NOT_HTML_RESPONSE = "not_html_response"

CHUNK_BYTES = 1 << 20
PARQUET_BATCH_ROWS = 256


@dataclass(frozen=True)
class Limits:
    max_record_bytes: int
    max_file_bytes: int


@dataclass(frozen=True)
class Refused:
    """An input entry that is not a document: dropped or quarantined, with its reason."""

    location: str
    disposition: str  # "dropped" or "quarantined"
    reason: str
    detail: str
    n_bytes: int
    excerpt: bytes = b""


def file_records(source: str, file: InputFile, limits: Limits) -> Iterator[RawRecord | Refused]:
    """Every record of ``file``; never raises for a problem of the file's content."""
    if file.disposition:
        yield Refused(
            file.location, file.disposition, file.reason or "", file.detail or "", file.size
        )
        return
    readers = {"jsonl": _jsonl, "warc": _warc, "parquet": _parquet}
    reader = readers.get(file.source_format or "", _page)
    produced = 0
    try:
        for item in reader(source, file, limits):
            produced += 1
            yield item
    except Exception as exc:  # noqa: BLE001 - the file's problem, not the run's
        detail = f"{type(exc).__name__}: {exc}"[:500]
        if produced == 0:
            yield Refused(file.location, "quarantined", UNREADABLE_FILE, detail, file.size)
        else:
            where = f"{file.location}#truncated"
            detail = f"after {produced} entries: {detail}"
            yield Refused(where, "quarantined", TRUNCATED_ARCHIVE, detail, file.size)


def _oversize(location: str, size: int, limit: int, head: bytes, what: str) -> Refused:
    detail = f"{size} bytes > {what} {limit}"
    return Refused(location, "quarantined", OVERSIZE, detail, size, head[:EXCERPT_BYTES])


def _page(source: str, file: InputFile, limits: Limits) -> Iterator[RawRecord | Refused]:
    """An HTML or Mallard page: one record, refused by its size before it is read whole."""
    with open_input(file.path) as handle:
        if file.size > limits.max_record_bytes:
            head = handle.read(EXCERPT_BYTES)
            yield _oversize(
                file.location, file.size, limits.max_record_bytes, head, "max_record_bytes"
            )
            return
        payload = handle.read(limits.max_record_bytes + 1)
    if len(payload) > limits.max_record_bytes:  # grew since it was listed
        yield _oversize(
            file.location, len(payload), limits.max_record_bytes, payload, "max_record_bytes"
        )
        return
    yield RawRecord(source, file.source_format or "html", file.location, payload)


class _CappedStream:
    """A decompressed stream that stops at ``limit`` bytes (``exceeded`` then tells)."""

    def __init__(self, raw, limit: int) -> None:
        self.raw, self.limit, self.read_bytes, self.exceeded = raw, limit, 0, False

    def read(self, size: int = -1) -> bytes:
        room = self.limit - self.read_bytes
        if room <= 0:
            self.exceeded = self.exceeded or bool(self.raw.read(1))
            return b""
        want = room if size is None or size < 0 else min(size, room)
        data = self.raw.read(want)
        self.read_bytes += len(data)
        return data


class _Gunzip:
    """A gzip stream decompressed as it is read, one member after another. Unlike
    ``gzip.GzipFile`` it hands out every byte decoded before a cut-off end, then raises
    ``EOFError``, so an archive cut short keeps its head."""

    def __init__(self, raw) -> None:
        self.raw, self.inflate = raw, zlib.decompressobj(31)

    def read(self, size: int = CHUNK_BYTES) -> bytes:
        size = CHUNK_BYTES if size is None or size < 0 else size
        while True:
            if self.inflate.unconsumed_tail:
                data = self.inflate.decompress(self.inflate.unconsumed_tail, size)
            elif self.inflate.eof:
                rest = self.inflate.unused_data or self.raw.read(CHUNK_BYTES)
                if not rest:
                    return b""
                self.inflate = zlib.decompressobj(31)  # the next member
                data = self.inflate.decompress(rest, size)
            else:
                compressed = self.raw.read(CHUNK_BYTES)
                if not compressed:
                    raise EOFError("compressed input ends before the end of its stream")
                data = self.inflate.decompress(compressed, size)
            if data:
                return data


def _decompressed(file: InputFile, handle, limits: Limits) -> _CappedStream:
    """The file's expanded bytes (gunzipped for ``.gz``), capped at ``max_file_bytes``."""
    gzipped = file.location.lower().endswith(".gz")
    return _CappedStream(_Gunzip(handle) if gzipped else handle, limits.max_file_bytes)


def _jsonl(source: str, file: InputFile, limits: Limits) -> Iterator[RawRecord | Refused]:
    """One record per non-blank line; a line over max_record_bytes is refused unread."""
    with open_input(file.path) as handle:
        stream = _decompressed(file, handle, limits)
        for number, line, length in _lines(stream, limits.max_record_bytes):
            location = f"{file.location}#L{number}"
            if length > limits.max_record_bytes:
                yield _oversize(location, length, limits.max_record_bytes, line, "max_record_bytes")
            elif line.strip():
                yield RawRecord(source, "jsonl", location, line.rstrip(b"\r"))
        if stream.exceeded:
            detail = f"expanded beyond max_file_bytes {limits.max_file_bytes}; the rest is not read"
            yield Refused(
                f"{file.location}#rest", "quarantined", OVERSIZE, detail, stream.read_bytes
            )


def _lines(stream, max_line: int) -> Iterator[tuple[int, bytes, int]]:
    """``(line number, line or its head when too long, full length)``, holding at most
    ``max_line`` bytes of one line at a time."""
    number, held, length = 1, bytearray(), 0
    while True:
        try:
            chunk = stream.read(CHUNK_BYTES)
        except (EOFError, zlib.error) as exc:
            if number == 1 and not held:
                raise
            raise _Truncated(number, exc) from None
        if not chunk:
            break
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            piece = chunk[start:] if end < 0 else chunk[start:end]
            length += len(piece)
            if len(held) <= max_line:
                held += piece[: max_line + 1 - len(held)]
            if end < 0:
                break
            yield number, bytes(held), length
            number, held, length, start = number + 1, bytearray(), 0, end + 1
    if length or held:
        yield number, bytes(held), length


class _Truncated(Exception):
    def __init__(self, line: int, cause: Exception) -> None:
        super().__init__(f"input ends inside line {line}: {type(cause).__name__}: {cause}")


def _warc(source: str, file: InputFile, limits: Limits) -> Iterator[RawRecord | Refused]:
    """One record per HTML response; every other WARC record is counted, not read."""
    from warcio.archiveiterator import ArchiveIterator

    with open_input(file.path) as handle:
        # Decompressed here rather than by warcio, which ends quietly at a cut-off member.
        stream = _decompressed(file, handle, limits)
        for number, record in enumerate(ArchiveIterator(stream), start=1):
            location = f"{file.location}#record{number}"
            content_type = ""
            if record.http_headers is not None:
                content_type = record.http_headers.get_header("Content-Type") or ""
            if record.rec_type != "response" or "html" not in content_type.lower():
                detail = f"{record.rec_type} record {content_type}".strip()
                yield Refused(location, "dropped", NOT_HTML_RESPONSE, detail, record.length or 0)
                continue
            body = record.content_stream()
            length = int(record.length or 0)
            if length > limits.max_record_bytes:
                head = body.read(EXCERPT_BYTES)
                yield _oversize(location, length, limits.max_record_bytes, head, "max_record_bytes")
                continue
            payload = body.read(limits.max_record_bytes + 1)
            if len(payload) > limits.max_record_bytes:
                yield _oversize(
                    location, len(payload), limits.max_record_bytes, payload, "max_record_bytes"
                )
                continue
            if getattr(record.raw_stream, "limit", 0) > 0:  # shorter than its Content-Length
                raise EOFError(f"record {number} ends {record.raw_stream.limit} bytes early")
            url = record.rec_headers.get_header("WARC-Target-URI")
            yield RawRecord(source, "warc", location, payload, url=url)
        if stream.exceeded:
            detail = f"larger than max_file_bytes {limits.max_file_bytes}; the rest is not read"
            yield Refused(
                f"{file.location}#rest", "quarantined", OVERSIZE, detail, stream.read_bytes
            )


def _parquet(source: str, file: InputFile, limits: Limits) -> Iterator[RawRecord | Refused]:
    """One record per row of a file with a string ``text`` column (optional url/id, title);
    a file without one is refused whole, whatever the other files hold."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with open_input(file.path, random_access=True) as handle:
        parquet = pq.ParquetFile(handle)
        schema = parquet.schema_arrow
        if "text" not in schema.names:
            detail = f"no 'text' column (columns: {schema.names[:20]})"
            yield Refused(file.location, "quarantined", MISSING_TEXT_FIELD, detail, file.size)
            return
        text_type = schema.field("text").type
        if not (pa.types.is_string(text_type) or pa.types.is_large_string(text_type)):
            detail = f"column 'text' is {text_type}, not a string"
            yield Refused(file.location, "quarantined", MISSING_TEXT_FIELD, detail, file.size)
            return
        optional = [c for c in ("url", "id", "title") if c in schema.names]
        row = 0
        for batch in parquet.iter_batches(PARQUET_BATCH_ROWS, columns=["text", *optional]):
            columns = {name: batch.column(name).to_pylist() for name in batch.schema.names}
            addresses = [columns[c] for c in ("url", "id") if c in columns]
            titles = columns.get("title")
            for i, text in enumerate(columns["text"]):
                row += 1
                location = f"{file.location}#row{row}"
                url = next((str(a[i]) for a in addresses if a[i] is not None), None)
                title = titles[i] if titles else None
                if text is None:
                    yield Refused(
                        location, "quarantined", MISSING_TEXT_FIELD, "null 'text' value", 0
                    )
                    continue
                payload = text.encode("utf-8", errors="surrogatepass")
                if len(payload) > limits.max_record_bytes:
                    yield _oversize(
                        location, len(payload), limits.max_record_bytes, payload, "max_record_bytes"
                    )
                    continue
                yield RawRecord(
                    source,
                    "parquet",
                    location,
                    payload,
                    url=url,
                    title=str(title) if title is not None else None,
                )
