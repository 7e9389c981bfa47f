"""Main text of an HTML page, by one of two extractors; ``IngestSettings.html_extractor`` picks.

- ``resiliparse`` (DCLM's choice): ``extract_plain_text(main_content=True)`` over
  resiliparse's lexbor DOM, in C++. Measured on the demo's 6,456 Debian HTML pages
  (``bench/extraction.py``): about 40 times trafilatura's pages per CPU-second, word-level
  F1 0.91 (mean) against trafilatura's text.
- ``trafilatura``: ``bare_extraction(favor_recall=True)`` over an lxml tree, in Python.

Both return ``(title, text)``; a page neither can parse raises ``UnparsableHTML``.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import version

RESILIPARSE, TRAFILATURA = "resiliparse", "trafilatura"
HTML_EXTRACTORS = (RESILIPARSE, TRAFILATURA)
DEFAULT_HTML_EXTRACTOR = RESILIPARSE


class UnparsableHTML(ValueError):
    """The markup is not an HTML page an extractor can read."""


def _refuse_unreadable(markup: str) -> None:
    """The same refusals for both extractors (lexbor would read anything as a page)."""
    if "\x00" in markup:
        raise UnparsableHTML("binary content (NUL bytes) in an HTML page")
    if not markup.strip():
        raise UnparsableHTML("Document is empty")


def trafilatura_text(markup: str) -> tuple[str | None, str]:
    import lxml.html
    import trafilatura

    _refuse_unreadable(markup)
    # Parse bytes with an explicit encoding: lxml refuses a str that carries an XML
    # encoding declaration, which every XHTML page does.
    parser = lxml.html.HTMLParser(encoding="utf-8")
    try:
        tree = lxml.html.document_fromstring(markup.encode("utf-8"), parser=parser)
    except Exception as exc:  # lxml raises ParserError, XMLSyntaxError or ValueError
        raise UnparsableHTML(str(exc)[:200] or type(exc).__name__) from None
    doc = trafilatura.bare_extraction(
        tree,
        favor_recall=True,
        include_tables=True,
        include_comments=False,
        deduplicate=False,
        with_metadata=True,
    )
    if doc is None or not doc.text:
        return None, ""
    return doc.title, doc.text


def resiliparse_text(markup: str) -> tuple[str | None, str]:
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    _refuse_unreadable(markup)
    try:
        tree = HTMLTree.parse(markup)
    except Exception as exc:  # lexbor parses any text; this guards the binding itself
        raise UnparsableHTML(str(exc)[:200] or type(exc).__name__) from None
    if tree.body is None:
        return None, ""
    # alt_texts off: image captions ("[logo]") are not running text.
    text = extract_plain_text(tree, main_content=True, alt_texts=False)
    return (tree.title or None), text


_EXTRACTORS = {RESILIPARSE: resiliparse_text, TRAFILATURA: trafilatura_text}


def html_text(markup: str, extractor: str) -> tuple[str | None, str]:
    """``(title, main text)`` of ``markup`` by the named extractor."""
    try:
        extract = _EXTRACTORS[extractor]
    except KeyError:
        raise ValueError(
            f"unknown HTML extractor {extractor!r}; expected one of {HTML_EXTRACTORS}"
        ) from None
    return extract(markup)


@lru_cache(maxsize=4)
def extractor_version(extractor: str) -> str:
    """What ``bronze.documents.extractor`` records: the package and its version."""
    if extractor not in _EXTRACTORS:
        raise ValueError(f"unknown HTML extractor {extractor!r}; expected one of {HTML_EXTRACTORS}")
    return f"{extractor} {version(extractor)}"
