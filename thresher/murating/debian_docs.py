"""Debian documentation pages that exist in several languages, as parallel units.

The pages are the demo's input: ``make demo-data`` (``scripts/fetch_debian_docs.sh DIR``)
unpacks Debian's documentation packages into ``DIR/<package>/`` with ``apt-get download``
and ``dpkg -x``. Each package keeps its translations in locale folders beside the English
original (``html/en-US/``, ``de-DE/``, …; ``en/``, ``zh_CN/``, …; Mallard help in ``C/``,
``pt_BR/``, …). A unit is one page: the same relative path under the English folder and
under at least one other locale folder, read with the ingest job's own extractors
(``thresher.text.extract``: the default HTML extractor, the Mallard reader for ``.page``) so that
the rater learns on text extracted the way the documents it will rate are.

A locale's page is kept only if it really is a translation: not the English text itself
(packages ship untranslated pages as copies), its length within a factor of the English
page's, fastText's language of the whole page the folder's (partial translations, half
English, read as English), and at most a fifth of it English sentences copied from the
English page (translations that fastText still reads as their language).

Units are whole pages, not sections: the handbook's section ids do align across locales,
but the rater reads only a page's first ``murating.max_chars`` (256) characters anyway. A
page's text is capped at ``max_chars`` (at a line break, after the checks) so that every
language version covers about the same part of it.

    .venv/bin/python -m thresher.murating.debian_docs [--folder DIR] [--languages en,de]

prints units and pages per language and why pages were skipped.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from thresher.config import Settings
from thresher.entrypoint import BadInput, run_entry_point
from thresher.murating.units import ENGLISH, ParallelDoc

log = logging.getLogger(__name__)

SOURCE = "debian"
# installation-guide-arm64 is left out although the demo unpacks it: its pages differ from
# amd64's by a few architecture names, so its units would be near-copies of amd64's and
# leak across the held-out split.
PACKAGES = ("debian-handbook", "installation-guide-amd64", "gnome-user-docs")
# Name of the English original's locale folder (Mallard help keeps it in "C").
ENGLISH_FOLDERS = ("en-US", "en_US", "en", "C")
PAGE_SUFFIXES = (".html", ".page")
FETCH_HINT = "make demo-data, or scripts/fetch_debian_docs.sh"
# A translation's length over its English page's, outside which it is not the same text
# (an extraction failure, a stub); Chinese and Japanese run at about a third.
LENGTH_RATIO = (0.2, 3.0)
# Most share of a translation's characters in English sentences left untranslated: lines
# identical to a line of the English page, of UNTRANSLATED_WORDS words or more, that
# fastText reads as English (shorter identical lines are mostly commands and file names).
# Measured: 59 % of the handbook's locale pages that fastText reads as their locale's
# language still carry more than 20 % English prose, and some carry 80 %.
MAX_UNTRANSLATED = 0.2
UNTRANSLATED_WORDS = 8


def debian_docs_folder(settings: Settings) -> Path:
    """``THRESHER_MURATING_DEBIAN_DOCS``, else the demo's input ``<input_path>/debian-docs``."""
    return Path(settings.murating.debian_docs or f"{settings.input_path}/debian-docs")


def locale_language(folder_name: str) -> str:
    """A locale folder's ISO 639-1 code: ``zh-CN``, ``zh_CN`` → zh; ``sr@latin`` → sr."""
    if folder_name == "C":
        return ENGLISH
    return folder_name.replace("_", "-").split("@")[0].split("-")[0].lower()


def locale_root(package: Path) -> tuple[Path, str] | None:
    """The folder holding a package's locale folders, and its English folder's name."""
    queue = [package]
    while queue:  # breadth first: the shallowest folder with an English child
        folder = queue.pop(0)
        children = sorted(p for p in folder.iterdir() if p.is_dir())
        for name in ENGLISH_FOLDERS:
            if any(c.name == name for c in children):
                return folder, name
        queue += children
    return None


def page_text(path: Path) -> str:
    """Main text of one page, as the ingest job extracts and normalises it ('' if none)."""
    from thresher.text.extract import Rejected, extract_html, extract_mallard, normalise_text

    extract = extract_mallard if path.suffix == ".page" else extract_html
    try:
        return normalise_text(extract(path.read_text(encoding="utf-8"))[1])
    except (Rejected, UnicodeDecodeError):
        return ""


def _cap(text: str, max_chars: int) -> str:
    if max_chars <= 0 or len(text) <= max_chars:
        return text
    cut = text.rfind("\n", 0, max_chars)
    return text[: cut if cut > max_chars // 2 else max_chars].rstrip()


def _stable_order(unit_id: str) -> bytes:
    return hashlib.sha256(unit_id.encode()).digest()


def _units(folder: Path, packages: Iterable[str]) -> Iterator[tuple[str, Path, str, Path]]:
    """``(package, locale root, English folder name, page path relative to it)``."""
    for package in packages:
        if not (folder / package).is_dir():
            continue
        found = locale_root(folder / package)
        if found is None:
            log.warning("%s: no English locale folder (%s)", folder / package, ENGLISH_FOLDERS)
            continue
        root, english = found
        for page in sorted((root / english).rglob("*")):
            if page.suffix in PAGE_SUFFIXES and page.is_file():
                yield package, root, english, page.relative_to(root / english)


def read_debian(
    folder: Path,
    languages: Iterable[str] | None = None,
    min_chars: int = 400,
    max_chars: int = 4000,
    max_units: int = 0,
    packages: Iterable[str] = PACKAGES,
) -> tuple[list[ParallelDoc], Counter]:
    """Parallel units of the Debian pages under ``folder`` and the count of skipped pages.

    ``languages`` (English always included) limits the locale folders read; ``min_chars``
    applies to the English page; ``max_units`` > 0 keeps that many units, taken in a fixed
    hashed order of their ids so that every package is represented.
    """
    from thresher.text.extract import language_identifier

    if not folder.is_dir() or not any((folder / p).is_dir() for p in packages):
        raise BadInput(
            f"no Debian documentation packages ({', '.join(packages)}) under {folder}: "
            f"fetch them with `{FETCH_HINT} {folder}`, or set THRESHER_MURATING_DEBIAN_DOCS"
        )
    wanted = set(languages) | {ENGLISH} if languages is not None else None
    identify = language_identifier()
    units = list(_units(folder, packages))
    if max_units > 0:
        units.sort(key=lambda u: _stable_order(f"{SOURCE}:{u[0]}:{u[3].as_posix()}"))
    docs: list[ParallelDoc] = []
    skipped: Counter = Counter()
    seen_english: set[str] = set()
    kept_units = 0
    for package, root, english_folder, relative in units:
        if 0 < max_units <= kept_units:
            break
        unit_id = f"{SOURCE}:{package}:{relative.as_posix()}"
        english = page_text(root / english_folder / relative)
        if len(english) < min_chars:
            skipped["too_short"] += 1
            continue
        if english in seen_english:  # the same page under two paths or packages
            skipped["duplicate"] += 1
            continue
        seen_english.add(english)
        versions: dict[str, str] = {}
        # Sorted folder names decide between two locales of one language (pt before pt_BR,
        # zh-CN before zh-TW): the first that passes the checks.
        for locale in sorted(p.name for p in root.iterdir() if p.is_dir()):
            language = locale_language(locale)
            if locale == english_folder or language == ENGLISH or language in versions:
                continue
            if wanted is not None and language not in wanted:
                continue
            path = root / locale / relative
            if not path.is_file():
                continue
            text = page_text(path)
            reason = _not_a_translation(text, english, language, identify)
            if reason:
                skipped[reason] += 1
                continue
            versions[language] = text
        if not versions:
            skipped["no_translation"] += 1
            continue
        kept_units += 1
        docs.append(ParallelDoc(SOURCE, unit_id, ENGLISH, _cap(english, max_chars)))
        docs += [
            ParallelDoc(SOURCE, unit_id, lang, _cap(text, max_chars))
            for lang, text in sorted(versions.items())
        ]
    return docs, skipped


def _not_a_translation(text: str, english: str, language: str, identify) -> str:
    """Why a locale's page is not a translation of the English page ('' if it is one)."""
    if not text:
        return "empty"
    if text == english:
        return "untranslated"
    if not LENGTH_RATIO[0] <= len(text) / len(english) <= LENGTH_RATIO[1]:
        return "length_mismatch"
    if identify(text)[0] != language:
        return "language_mismatch"
    english_lines = set(english.split("\n"))
    left = sum(
        len(line)
        for line in text.split("\n")
        if line in english_lines
        and len(line.split()) >= UNTRANSLATED_WORDS
        and identify(line)[0] == ENGLISH
    )
    if left > MAX_UNTRANSLATED * len(text):
        return "partly_untranslated"
    return ""


def summary(docs: list[ParallelDoc], skipped: Counter) -> dict:
    pages = Counter(d.language for d in docs)
    by_package = Counter(d.unit_id.split(":")[1] for d in docs if d.language == ENGLISH)
    return {
        "units": len({d.unit_id for d in docs}),
        "units_by_package": dict(sorted(by_package.items())),
        "pages_by_language": dict(sorted(pages.items())),
        "skipped": dict(sorted(skipped.items())),
    }


def main(argv: Sequence[str]) -> dict:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(description="Debian documentation units per language")
    parser.add_argument("--folder", default=str(debian_docs_folder(settings)))
    parser.add_argument("--languages", default=",".join(settings.languages))
    parser.add_argument("--max-units", type=int, default=0)
    args = parser.parse_args(argv)
    config = settings.murating
    docs, skipped = read_debian(
        Path(args.folder),
        args.languages.split(","),
        config.debian_min_chars,
        config.debian_max_chars,
        args.max_units,
    )
    return summary(docs, skipped)


if __name__ == "__main__":
    run_entry_point(main)
