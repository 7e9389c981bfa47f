"""One self-contained HTML page per result: what a reviewer opens first in MLflow.

MLflow previews an ``.html`` artifact in the run page, so a run's story (a partition's funnel,
a study's comparison against its baseline) fits in one file with no script, font or image to
fetch: inline CSS, tables, and bar charts drawn as plain HTML. Every text is escaped.

    page = ReportPage("Curation 2026-11-20", "partition of bronze.documents …")
    page.section("Gates").checks([("bronze_documents", True, "12 expectations")])
    page.section("Languages").bars({"en": {"before": 0.6, "after": 0.5}}, ("before", "after"))
    tracking.log_report(settings, run_id, page)           # → report.html in the run

The curation run (``spark_jobs.partition_report``), the mixture search
(``models.mixture_search.choose``) and MuRating (``models.murating.train``) build their pages
with it. A study logs its own the same way: ``tracking.log_report(settings, run_id, page)``
with a run id, or ``tracker.log_artifact(write_page(page, folder))`` from a model task.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence

ARTIFACT = "report.html"
# Colour per series in bar charts; a pass/fail pair for checks.
PALETTE = ("#4472c4", "#ed7d31", "#70ad47", "#7f6084", "#c0504d", "#2c9aa0")
STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1f2328;
max-width:1100px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:17px;margin:28px 0 6px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
p.sub,p.note{color:#57606a;margin:4px 0 10px}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}
th,td{border:1px solid #d0d7de;padding:3px 8px;text-align:right}
th{background:#f6f8fa}td:first-child,th:first-child{text-align:left}
.bars td{border:none;padding:1px 6px;vertical-align:middle;text-align:left}
.bar{height:12px;display:inline-block}
.legend span{display:inline-block;margin-right:14px;font-size:12px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
.ok{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 14px;font-size:13px}dt{color:#57606a}
"""


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return html.escape("" if value is None else str(value))


class ReportPage:
    """A page built section by section; ``render()`` returns the whole HTML document."""

    def __init__(self, title: str, subtitle: str = "") -> None:
        self.title = title
        self._parts = [f"<h1>{html.escape(title)}</h1>"]
        if subtitle:
            self._parts.append(f'<p class="sub">{html.escape(subtitle)}</p>')

    def section(self, title: str, note: str = "") -> ReportPage:
        self._parts.append(f"<h2>{html.escape(title)}</h2>")
        if note:
            self._parts.append(f'<p class="note">{html.escape(note)}</p>')
        return self

    def text(self, paragraph: str) -> ReportPage:
        self._parts.append(f"<p>{html.escape(paragraph)}</p>")
        return self

    def facts(self, items: Mapping[str, object]) -> ReportPage:
        """A short list of labelled values (settings, versions, totals)."""
        rows = "".join(
            f"<dt>{html.escape(str(k))}</dt><dd>{_cell(v)}</dd>" for k, v in items.items()
        )
        self._parts.append(f"<dl>{rows}</dl>")
        return self

    def table(self, header: Sequence[str], rows: Iterable[Sequence[object]]) -> ReportPage:
        head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
        body = "".join(
            "<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in rows
        )
        self._parts.append(f"<table><tr>{head}</tr>{body}</table>")
        return self

    def checks(self, items: Iterable[tuple[str, bool, str]]) -> ReportPage:
        """Pass/fail lines: (name, passed, detail)."""
        rows = [
            (
                name,
                f'<span class="{"ok" if ok else "fail"}">{"passed" if ok else "FAILED"}</span>',
                html.escape(detail),
            )
            for name, ok, detail in items
        ]
        body = "".join(
            f"<tr><td>{html.escape(n)}</td><td>{verdict}</td><td>{d}</td></tr>"
            for n, verdict, d in rows
        )
        self._parts.append(
            f"<table><tr><th>check</th><th>result</th><th>detail</th></tr>{body}</table>"
        )
        return self

    def bars(
        self,
        rows: Mapping[str, Mapping[str, float]],
        series: Sequence[str],
        percent: bool = True,
    ) -> ReportPage:
        """Grouped horizontal bars: one group per row label, one bar per series."""
        if not rows:
            self._parts.append('<p class="note">nothing to show</p>')
            return self
        top = max((abs(v) for r in rows.values() for v in r.values()), default=0) or 1
        legend = "".join(
            f'<span><i style="background:{PALETTE[i % len(PALETTE)]}"></i>{html.escape(s)}</span>'
            for i, s in enumerate(series)
        )
        lines = []
        for label, values in rows.items():
            for i, name in enumerate(series):
                value = float(values.get(name, 0.0))
                width = max(0.0, value / top * 420)
                shown = f"{value:.1%}" if percent else _cell(value)
                first = f"<td rowspan={len(series)}>{html.escape(label)}</td>" if i == 0 else ""
                lines.append(
                    f'<tr>{first}<td><span class=bar style="width:{width:.1f}px;'
                    f'background:{PALETTE[i % len(PALETTE)]}"></span> {shown}</td></tr>'
                )
        self._parts.append(
            f'<div class="legend">{legend}</div><table class="bars">{"".join(lines)}</table>'
        )
        return self

    def render(self) -> str:
        body = "\n".join(self._parts)
        return (
            f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(self.title)}</title><style>{STYLE}</style></head>"
            f"<body>{body}</body></html>"
        )


def write_page(page: ReportPage, folder, name: str = ARTIFACT):
    """Write the page into ``folder`` (for a tracker's ``log_artifact``) and return its path."""
    from pathlib import Path

    path = Path(folder) / name
    path.write_text(page.render(), encoding="utf-8")
    return path


def shares(counts: Mapping[str, float]) -> dict[str, float]:
    """Each value's share of the total (all zeros when the total is zero)."""
    total = sum(counts.values())
    return {k: (v / total if total else 0.0) for k, v in counts.items()}
