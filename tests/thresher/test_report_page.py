"""The one-page HTML report: self-contained, escaped, and saying what it was given."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from thresher.report_page import ReportPage, shares, write_page


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.sources: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.sources += [v for k, v in attrs if k in ("src", "href")]

    def handle_data(self, data):
        self.text.append(data)


def _parse(html: str) -> _Collect:
    parsed = _Collect()
    parsed.feed(html)
    return parsed


def test_a_page_is_one_document_that_fetches_nothing():
    page = ReportPage("Curation of 2026-11-01", "lake /tmp/lake")
    page.section("Gates", "2 of 2 passed").checks([("bronze", True, "20 expectations")])
    page.section("Funnel").table(("stage", "in", "kept"), [("ingest", 1200, 1150)])
    parsed = _parse(page.render())

    assert parsed.tags.count("html") == 1 and "style" in parsed.tags
    assert not parsed.sources and "script" not in parsed.tags and "img" not in parsed.tags
    text = " ".join(parsed.text)
    for expected in ("Curation of 2026-11-01", "Gates", "passed", "1,200", "1,150", "Funnel"):
        assert expected in text


def test_text_from_the_data_is_escaped():
    hostile = '<script>alert("x")</script>'
    page = ReportPage(hostile).section(hostile, hostile).table((hostile,), [(hostile,)])
    page.checks([(hostile, False, hostile)]).facts({hostile: hostile}).text(hostile)
    html = page.render()
    assert "<script>" not in html
    assert html.count("&lt;script&gt;") == 11  # title, heading, note, cells, check, facts, text


def test_checks_say_failed_and_bars_are_as_long_as_their_values():
    page = ReportPage("t").checks([("a", True, ""), ("b", False, "3 unexpected")])
    page.bars({"en": {"before": 0.5, "after": 0.25}, "de": {"before": 0.1}}, ("before", "after"))
    html = page.render()
    assert "FAILED" in html and html.count(">passed<") == 1
    widths = [float(w) for w in re.findall(r"class=bar style=\"width:([\d.]+)px", html)]
    assert widths == [420.0, 210.0, 84.0, 0.0]  # the longest bar is 420 px; a missing value 0
    assert "50.0%" in html and "25.0%" in html


def test_shares_and_an_empty_chart():
    assert shares({"en": 3, "de": 1}) == {"en": 0.75, "de": 0.25}
    assert shares({"en": 0}) == {"en": 0.0}
    assert "nothing to show" in ReportPage("t").bars({}, ("a",)).render()


def test_write_page_puts_report_html_in_the_folder(tmp_path):
    path = write_page(ReportPage("Mixture search"), tmp_path)
    assert path == tmp_path / "report.html"
    assert "<h1>Mixture search</h1>" in path.read_text()
