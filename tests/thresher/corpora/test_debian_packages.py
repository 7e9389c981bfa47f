"""Reading Debian packages by kind: roff, catalogues, fortunes, parts under a size."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

from thresher.corpora import debian_packages as dp

MAN = r""".\" Copyright notice, dropped
.de URL
\\$2 <\\$1>\\$3
..
.TH LS 1 "2022" "GNU coreutils 9.1"
.SH BEZEICHNUNG
ls \- Verzeichnisinhalte auflisten
.SH BESCHREIBUNG
.PP
Auflistung von \fBInformationen\fP über die \fI\,DATEIen\/\fP.
.TP
\fB\-a\fR, \fB\-\-all\fR
Einträge nicht ignorieren
"""


def write_mo(path: Path, pairs: dict[str, str]) -> None:
    """A GNU .mo catalogue (format revision 0) holding ``pairs``."""
    keys = sorted(pairs)
    ids, strs = (
        b"\0".join(s.encode() for s in col) + b"\0" for col in (keys, [pairs[k] for k in keys])
    )
    n = len(keys)
    start = 28 + 16 * n
    offsets, position = [], start
    for key in keys:
        offsets.append((len(key.encode()), position))
        position += len(key.encode()) + 1
    value_offsets = []
    for key in keys:
        value_offsets.append((len(pairs[key].encode()), position))
        position += len(pairs[key].encode()) + 1
    header = struct.pack("Iiiiiii", 0x950412DE, 0, n, 28, 28 + 8 * n, 0, 0)
    table = b"".join(struct.pack("ii", *o) for o in offsets + value_offsets)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + table + ids + strs)


def test_a_manual_page_becomes_plain_text():
    text = dp.roff_text(MAN)
    assert text.splitlines() == [
        "BEZEICHNUNG",
        "ls - Verzeichnisinhalte auflisten",
        "BESCHREIBUNG",
        "Auflistung von Informationen über die DATEIen.",
        "-a, --all",
        "Einträge nicht ignorieren",
    ]


def test_parts_are_cut_at_line_breaks_under_the_size():
    text = "\n".join(f"line {i} " + "x" * 90 for i in range(100))
    parts = dp.split_parts(text, max_bytes=1000)
    assert all(len(p.encode()) <= 1000 for p in parts)
    assert "\n".join(parts) == text and len(parts) == 10
    assert dp.split_parts(text, max_bytes=1000, max_parts=2) == parts[:2]
    assert dp.split_parts("ü" * 600, max_bytes=1000) == ["ü" * 500]  # a long line, cut


def test_fortunes_are_grouped_whole():
    cookies = "\n%\n".join(f"Cookie {i}: " + "a" * 400 for i in range(10))
    groups = dp.fortune_groups(cookies, max_bytes=1000)
    assert len(groups) == 4 and groups[0].count("Cookie") == 3
    assert sum(g.count("Cookie") for g in groups) == 10


def test_a_package_gives_records_by_kind_and_locale(tmp_path):
    root = tmp_path / "pkg"
    write_mo(
        root / "usr/share/locale/de/LC_MESSAGES/x.mo",
        {
            "": "Content-Type: text/plain; charset=UTF-8\n",
            "Open file": "Datei öffnen",
            "Save %s": "%s speichern",
        },
    )
    write_mo(root / "usr/share/locale/pt_BR/LC_MESSAGES/x.mo", {"Open file": "Abrir arquivo"})
    man = root / "usr/share/man/de/man1/ls.1.gz"
    man.parent.mkdir(parents=True)
    man.write_bytes(gzip.compress(MAN.encode()))
    doc = root / "usr/share/doc/pkg"
    doc.mkdir(parents=True)
    (doc / "copyright").write_text("Files: *\nLicense: GPL-3+\n")
    (doc / "changelog.Debian.gz").write_bytes(gzip.compress(b"pkg (1.0) unstable\n  * First\n"))

    catalogue = list(dp.package_records("pkg", "catalogue", root, ["de", "en"]))
    by = {(r["kind"], r["locale"]): r for r in catalogue}
    assert set(by) == {
        ("catalogue", "de"),
        ("catalogue", "en"),
        ("changelog", "en"),
        ("copyright", "en"),
    }  # pt (not asked for) left out
    assert by[("catalogue", "de")]["text"] == "Datei öffnen\n%s speichern"
    assert by[("catalogue", "en")]["text"] == "Open file\nSave %s"  # the source strings
    assert by[("catalogue", "de")]["url"].startswith("deb://pkg/usr/share/locale/de/")
    (page,) = [r for r in dp.package_records("pkg", "man", root) if r["kind"] == "man"]
    assert page["locale"] == "de" and page["text"].startswith("BEZEICHNUNG")
    assert dp.locale_language("zh_CN") == "zh" and dp.locale_language("C") == "en"
    assert dp.locale_language("man1") is None
