"""The per-record decisions of ingest, without Spark."""

import pytest

from tests.corpus import NTREX_LANGUAGES, html_page, ntrex_documents
from thresher.text import extract
from thresher.text.html_extractors import HTML_EXTRACTORS

POLICY = extract.Policy(
    languages=frozenset(NTREX_LANGUAGES.values()),
    max_record_bytes=100_000,
    min_text_chars=200,
    max_text_chars=50_000,
    min_language_score=0.5,
)

ENGLISH = (
    "The committee met on Tuesday to review the budget for the coming year. "
    "Members agreed that spending on schools and roads should rise, while the cost of "
    "administration must fall. A final vote is expected before the end of the month, "
    "after the public has had a chance to comment on the proposal."
)


def record(payload: bytes | str, fmt: str = "html", **kw) -> extract.RawRecord:
    data = payload.encode("utf-8") if isinstance(payload, str) else payload
    return extract.RawRecord("test", fmt, kw.pop("location", "page.html"), data, **kw)


def test_normalise_text_composes_strips_controls_and_collapses_space():
    raw = "Cafe\u0301\x00 \t au  lait\r\n\r\n\r\n\n  second\u00a0line \ufeff"
    assert extract.normalise_text(raw) == "Café au lait\n\nsecond line"


def test_invalid_utf8_is_rejected_with_the_offset():
    with pytest.raises(extract.Rejected) as err:
        extract.decode_utf8(b"ok \xff\xfe")
    assert err.value.reason == extract.INVALID_UTF8
    assert "byte 3" in err.value.detail
    assert extract.decode_utf8("\ufeffhello".encode()) == "hello"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"text": "unterminated', extract.UNPARSABLE_JSON),
        ("[1, 2, 3]", extract.UNPARSABLE_JSON),
        ('{"url": "https://x", "body": "no text field"}', extract.MISSING_TEXT_FIELD),
        ('{"text": 42}', extract.MISSING_TEXT_FIELD),
    ],
)
def test_malformed_json_records_are_rejected(line, reason):
    with pytest.raises(extract.Rejected) as err:
        extract.parse_json_record(line)
    assert err.value.reason == reason


def test_json_record_may_carry_html():
    url, title, body, kind = extract.parse_json_record('{"id": 7, "html": "<p>x</p>"}')
    assert (url, title, body, kind) == ("7", None, "<p>x</p>", "html")


@pytest.mark.parametrize("extractor", HTML_EXTRACTORS)
def test_html_extraction_keeps_the_article_and_drops_boilerplate(extractor):
    title, text = extract.extract_html(html_page("Budget review", ENGLISH), extractor)
    assert "The committee met on Tuesday" in text
    assert "All rights reserved" not in text
    assert "Sport" not in text
    assert title == "Budget review"


def test_mallard_page_text_without_its_info_block():
    page = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<page xmlns="http://projectmallard.org/1.0/" id="x"><info><credit><name>Ann Author'
        "</name></credit><desc>summary</desc></info><title>Change the <em>wallpaper</em></title>"
        "<p>Open the <gui>Settings</gui> panel.</p><steps><item><p>Click Background.</p>"
        "</item></steps></page>"
    )
    title, text = extract.extract_mallard(page)
    assert title == "Change the wallpaper"
    assert text.split("\n") == [
        "Change the wallpaper",
        "Open the Settings panel.",
        "Click Background.",
    ]
    assert "Ann Author" not in text


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"<html><body>caf\xe9</body></html>", extract.INVALID_UTF8),
        ("<html><body><script>var a = 1;</script></body></html>", extract.EMPTY_TEXT),
        ("", extract.UNPARSABLE_HTML),
        ("<html>\x00\x01\x02binary</html>", extract.UNPARSABLE_HTML),
        ("x" * 100_001, extract.OVERSIZE),
    ],
)
def test_malformed_pages_are_quarantined_with_a_reason(payload, reason):
    outcome = extract.process(record(payload), POLICY)
    assert (outcome.disposition, outcome.reason) == ("quarantined", reason)
    assert outcome.doc_id is None


def test_json_nested_beyond_the_parser_is_quarantined_not_raised():
    line = "[" * 40_000 + "]" * 40_000  # within max_record_bytes, beyond the recursion limit
    outcome = extract.process(record(line, "jsonl"), POLICY)
    assert (outcome.disposition, outcome.reason) == ("quarantined", extract.UNPARSABLE_JSON)
    assert "RecursionError" in outcome.detail


def test_a_lone_surrogate_in_a_json_string_is_quarantined():
    line = '{"text": "' + ENGLISH + ' \\ud800 end"}'
    outcome = extract.process(record(line, "jsonl"), POLICY)
    assert (outcome.disposition, outcome.reason) == ("quarantined", extract.INVALID_UNICODE)
    assert "U+D800" in outcome.detail


def test_any_other_exception_quarantines_the_record_with_its_class(monkeypatch):
    def broken_identifier():
        def identify(text):
            raise TypeError("model exploded")

        return identify

    monkeypatch.setattr(extract, "language_identifier", broken_identifier)
    outcome = extract.process(record(html_page("t", ENGLISH)), POLICY)
    assert (outcome.disposition, outcome.reason) == ("quarantined", extract.PROCESSING_ERROR)
    assert outcome.detail == "TypeError: model exploded"


def test_policy_drops_short_and_unconfigured_documents():
    short = extract.process(record(html_page("t", "Too short.")), POLICY)
    assert (short.disposition, short.reason) == ("dropped", extract.TOO_SHORT)
    english_only = extract.Policy(**{**POLICY.__dict__, "languages": frozenset({"de"})})
    other = extract.process(record(html_page("t", ENGLISH)), english_only)
    assert (other.disposition, other.reason, other.detail) == (
        "dropped",
        extract.LANGUAGE_NOT_CONFIGURED,
        "en",
    )


def test_doc_id_is_stable_and_depends_on_source_address_and_text():
    page = html_page("Budget review", ENGLISH)
    first = extract.process(record(page), POLICY)
    again = extract.process(record(page), POLICY)
    moved = extract.process(record(page, location="elsewhere.html"), POLICY)
    assert first.disposition == "kept"
    assert first.doc_id == again.doc_id
    assert first.doc_id != moved.doc_id
    assert first.content_sha256 == moved.content_sha256
    assert len(first.doc_id) == 32
    assert first.extractor.startswith(f"{POLICY.html_extractor} ")
    chosen = extract.Policy(**{**POLICY.__dict__, "html_extractor": "trafilatura"})
    assert extract.process(record(page), chosen).extractor.startswith("trafilatura ")
    assert (first.language, first.url, first.n_chars) == ("en", "page.html", len(first.text))


def test_language_identification_on_real_news_in_18_languages(shared_data):
    wrong = []
    total = 0
    for code, iso in NTREX_LANGUAGES.items():
        for text in ntrex_documents(shared_data, code, 5):
            total += 1
            language, score = extract.language_identifier()(text)
            if language != iso:
                wrong.append((iso, language, round(score, 2)))
    assert total == 90
    assert len(wrong) <= 2, wrong
