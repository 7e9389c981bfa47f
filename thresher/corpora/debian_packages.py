"""Text of unpacked Debian packages, by kind: a pool where quality varies for real.

The demo's documentation pages are uniformly clean prose, so no selection can matter on them.
Debian's binary packages also carry text of every other quality, in many languages:

- ``docs``: documentation pages (HTML, GNOME's Mallard ``.page``): edited prose;
- ``man``: manual pages (roff, rendered to plain text here): terse reference text;
- ``catalogue``: translated message catalogues (``.mo``): UI strings and format fragments;
  English is the catalogue's source strings;
- ``changelog``, ``copyright``: packaging changelogs and licence files: lists and boilerplate;
- ``api``: generated API reference pages (gtk-doc): signatures and cross-references;
- ``fortune``: fortune cookies: jokes and quotations, grouped a few to a document.

``package_records`` reads one unpacked package (``dpkg -x``) into records the ingest job
reads as JSONL (``text``, ``url``, ``title``), with the kind and the locale the package files
them under; the language a document gets is the ingest job's (fastText), not this one. Every
text is cut at line breaks into parts of at most ``MAX_PART_BYTES``, so no document dominates
a quota, and the files read per package and locale are capped (a seeded, stable choice).
"""

from __future__ import annotations

import gettext
import gzip
import hashlib
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from thresher.text.extract import extract_html, extract_mallard, normalise_text

MAX_PART_BYTES = 8192
KINDS = ("docs", "man", "catalogue", "changelog", "copyright", "api", "fortune")
# Files per (package, locale) and parts per file, by kind.
FILES = {"docs": 40, "man": 60, "api": 60, "fortune": 12, "catalogue": 1}
PARTS = {
    "docs": 3,
    "man": 2,
    "api": 1,
    "fortune": 4,
    "catalogue": 3,
    "changelog": 2,
    "copyright": 1,
}
FORTUNE_GROUP_BYTES = 1500
# Locale folder or suffix → ISO 639-1 (the demo's locales: de-DE, zh_CN, pt_BR, C, …).
_LOCALE = re.compile(r"^([a-z]{2})(?:[-_][A-Za-z]{2,4})?$")


def locale_language(name: str) -> str | None:
    """``de``, ``de-DE``, ``zh_CN``, ``C`` → ISO 639-1 (``C`` is English); else None."""
    if name == "C":
        return "en"
    match = _LOCALE.match(name)
    return match.group(1).lower() if match else None


def split_parts(text: str, max_bytes: int = MAX_PART_BYTES, max_parts: int = 0) -> list[str]:
    """``text`` cut at line breaks into parts of at most ``max_bytes`` UTF-8 bytes (a line
    longer than that is a part of its own, cut at ``max_bytes``); ``max_parts`` > 0 keeps the
    first that many."""
    parts, current, size = [], [], 0
    for line in text.splitlines():
        encoded = len(line.encode("utf-8")) + 1
        if current and size + encoded > max_bytes:
            parts.append("\n".join(current))
            current, size = [], 0
        if encoded > max_bytes:
            line = line.encode("utf-8")[:max_bytes].decode("utf-8", "ignore")
            encoded = max_bytes
        current.append(line)
        size += encoded
    if current:
        parts.append("\n".join(current))
    parts = [p for p in (p.strip() for p in parts) if p]
    return parts[:max_parts] if max_parts else parts


_ROFF_ESCAPE = re.compile(r"\\(?:f(?:\[[^\]]*\]|\(..|.)|s[-+]?\d|\(..|\[[^\]]*\]|[&|^,/%:]|e|-)")
_ROFF_KEEP = {
    ".SH",
    ".SS",
    ".TP",
    ".IP",
    ".B",
    ".I",
    ".BR",
    ".IR",
    ".RB",
    ".RI",
    ".BI",
    ".IB",
    ".SM",
    ".SB",
    ".Nm",
    ".Nd",
    ".Sh",
    ".Ss",
    ".It",
    ".Fl",
    ".Ar",
    ".Pa",
    ".Xr",
}


def roff_text(source: str) -> str:
    """A manual page's roff as plain text: request lines dropped (their arguments kept for
    headings and fonts), escapes resolved to the characters they usually stand for."""
    out, in_macro = [], False
    for line in source.splitlines():
        if in_macro or line.startswith((".de ", ".de\t", ".ig")):
            in_macro = line.strip() != ".." if in_macro else True  # a macro body, until ".."
            continue
        if line.startswith(('.\\"', "'\\\"", '.\\\\"')) or line.strip() in (".", "'"):
            continue
        if line.startswith((".", "'")):
            request, _, rest = line.partition(" ")
            if request not in _ROFF_KEEP or not rest.strip():
                continue
            line = rest.replace('"', "")
        line = line.replace("\\-", "-").replace("\\(em", "—").replace("\\(en", "–")
        line = line.replace("\\(aq", "'").replace("\\(dq", '"').replace("\\e", "\\")
        out.append(_ROFF_ESCAPE.sub("", line))
    return normalise_lines("\n".join(out))


def normalise_lines(text: str) -> str:
    """Unicode-normalised text, one space inside lines, no empty runs of lines."""
    lines = [normalise_text(line) for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def catalogue_text(path: Path, source_strings: bool = False) -> str:
    """A ``.mo`` catalogue's translated strings (or its source strings), one per line."""
    with path.open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)._catalog  # noqa: SLF001 (the parsed pairs)
    pairs = [(k, v) for k, v in catalogue.items() if k and isinstance(k, str)]
    return normalise_lines("\n".join(k if source_strings else v for k, v in sorted(pairs)))


def fortune_groups(text: str, max_bytes: int = FORTUNE_GROUP_BYTES) -> list[str]:
    """A fortune file (cookies separated by ``%`` lines) as groups of whole cookies."""
    cookies = [c.strip() for c in re.split(r"^%\s*$", text, flags=re.MULTILINE) if c.strip()]
    groups, current = [], []
    for cookie in cookies:
        current.append(cookie)
        if len("\n\n".join(current).encode("utf-8")) >= max_bytes:
            groups.append("\n\n".join(current))
            current = []
    return groups + (["\n\n".join(current)] if current else [])


def _stable(paths, limit: int, salt: str) -> list[Path]:
    """``limit`` of ``paths``, chosen by a hash of their names (the same choice every run)."""
    ordered = sorted(paths, key=lambda p: hashlib.sha1(f"{salt}/{p}".encode()).hexdigest())
    return ordered[:limit] if limit else ordered


def _record(package: str, kind: str, locale: str, url: str, title: str, text: str, part: int):
    return {
        "text": text,
        "url": f"deb://{package}/{url}#{part}",
        "title": title,
        "kind": kind,
        "package": package,
        "locale": locale,
    }


def _page_locale(path: Path, root: Path) -> str:
    for name in [*path.relative_to(root).parts[:-1][::-1], path.name.split(".")[-2]]:
        language = locale_language(name)
        if language:
            return language
    return "en"  # the packages file their English originals without a locale


def _documents(package: str, kind: str, root: Path, wanted) -> Iterator[dict]:
    pages = [p for p in root.rglob("*") if p.suffix in (".html", ".page") and p.is_file()]
    by_locale: dict[str, list[Path]] = {}
    for page in pages:
        if wanted(_page_locale(page, root)):
            by_locale.setdefault(_page_locale(page, root), []).append(page)
    for locale, files in sorted(by_locale.items()):
        for page in _stable(files, FILES[kind], package):
            markup = page.read_text(encoding="utf-8", errors="replace")
            title, text = (extract_mallard if page.suffix == ".page" else extract_html)(markup)
            for i, part in enumerate(split_parts(text or "", max_parts=PARTS[kind])):
                yield _record(
                    package, kind, locale, str(page.relative_to(root)), title or "", part, i
                )


def _manual_pages(package: str, root: Path, wanted) -> Iterator[dict]:
    pages = [p for p in (root / "usr/share/man").rglob("*") if p.is_file()]
    by_locale: dict[str, list[Path]] = {}
    for page in pages:
        parts = page.relative_to(root / "usr/share/man").parts
        language = "en" if parts[0].startswith("man") else locale_language(parts[0])
        if language and wanted(language):
            by_locale.setdefault(language, []).append(page)
    for locale, files in sorted(by_locale.items()):
        for page in _stable(files, FILES["man"], package):
            raw = gzip.decompress(page.read_bytes()) if page.suffix == ".gz" else page.read_bytes()
            text = roff_text(raw.decode("utf-8", errors="replace"))
            for i, part in enumerate(split_parts(text, max_parts=PARTS["man"])):
                yield _record(
                    package, "man", locale, str(page.relative_to(root)), page.stem, part, i
                )


def _catalogues(package: str, root: Path, wanted) -> Iterator[dict]:
    files = sorted((root / "usr/share/locale").glob("*/LC_MESSAGES/*.mo"))
    english = None
    for file in files:
        locale = locale_language(file.parts[-3])
        if not locale:
            continue
        english = english or file  # the source strings once, as the English catalogue
        if not wanted(locale):
            continue
        for i, part in enumerate(split_parts(catalogue_text(file), max_parts=PARTS["catalogue"])):
            yield _record(
                package, "catalogue", locale, str(file.relative_to(root)), file.stem, part, i
            )
    if english is not None and wanted("en"):
        text = catalogue_text(english, source_strings=True)
        for i, part in enumerate(split_parts(text, max_parts=PARTS["catalogue"])):
            yield _record(package, "catalogue", "en", f"{english.stem}.pot", english.stem, part, i)


def _fortunes(package: str, root: Path, wanted) -> Iterator[dict]:
    folder = root / "usr/share/games/fortunes"
    files = [p for p in folder.rglob("*") if p.is_file() and p.suffix not in (".dat",)]
    files = [p for p in files if not (p.suffix != ".u8" and p.with_name(p.name + ".u8").exists())]
    files = [p for p in files if wanted(locale_language(p.parent.name) or "en")]
    for file in _stable(files, FILES["fortune"], package):
        try:
            text = file.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue  # a Latin-1 file with no UTF-8 twin: not text we can read reliably
        locale = locale_language(file.parent.name) or "en"
        for i, group in enumerate(fortune_groups(text)[: PARTS["fortune"]]):
            yield _record(
                package, "fortune", locale, str(file.relative_to(root)), file.name, group, i
            )


def _packaging(package: str, root: Path, wanted) -> Iterator[dict]:
    if not wanted("en"):
        return
    folder = root / "usr/share/doc" / package
    for name, kind in (
        ("changelog.Debian.gz", "changelog"),
        ("changelog.gz", "changelog"),
        ("copyright", "copyright"),
    ):
        path = folder / name
        if not path.is_file() or path.is_symlink():
            continue
        raw = gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes()
        text = normalise_lines(raw.decode("utf-8", errors="replace"))
        for i, part in enumerate(split_parts(text, max_parts=PARTS[kind])):
            yield _record(package, kind, "en", str(path.relative_to(root)), name, part, i)


def package_records(
    package: str, kind: str, root: Path, languages: Iterable[str] | None = None
) -> Iterator[dict]:
    """The records of one unpacked package whose main text is of ``kind``, and its changelog
    and copyright file (English); only locales of ``languages`` when given."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    allowed = set(languages) if languages is not None else None

    def wanted(locale: str) -> bool:
        return allowed is None or locale in allowed

    readers = {
        "docs": lambda: _documents(package, "docs", root, wanted),
        "api": lambda: _documents(package, "api", root, wanted),
        "man": lambda: _manual_pages(package, root, wanted),
        "catalogue": lambda: _catalogues(package, root, wanted),
        "fortune": lambda: _fortunes(package, root, wanted),
    }
    if kind in readers:
        yield from readers[kind]()
    yield from _packaging(package, root, wanted)
