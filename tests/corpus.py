"""Real multilingual documents from ../shared/data, shaped as the inputs ingest reads."""

from __future__ import annotations

import html
import json
from collections import OrderedDict
from pathlib import Path

# NTREX-128 file codes → the ISO 639-1 codes fastText emits.
NTREX_LANGUAGES = {
    "eng-US": "en", "zho-CN": "zh", "spa": "es", "fra": "fr", "deu": "de", "rus": "ru",
    "jpn": "ja", "por": "pt", "ita": "it", "arb": "ar", "kor": "ko", "nld": "nl",
    "pol": "pl", "vie": "vi", "tur": "tr", "ind": "id", "tha": "th", "hin": "hi",
}  # fmt: skip


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
