"""Parallel documents: the same text in several languages, grouped by a ``unit_id``.

A unit is what one English judgment is carried across: every language version of a unit
inherits the unified score of its English side. Sources (the first three read from
``../shared/data``):

- ``ntrex``: the 123 NTREX-128 news documents in 18 languages (loader from ``mubench``);
- ``xquad``: the 240 XQuAD Wikipedia paragraphs in 12 languages (loader from ``mubench``);
- ``tatoeba``: Tatoeba test pairs with English, ``block`` consecutive sentence pairs joined
  into one short document per unit (the English sides differ per language, so each unit has
  exactly two languages). Short, conversational text: the low end of the quality range that
  news and encyclopaedia text leave empty;
- ``debian``: Debian documentation pages (handbook, installation guide, GNOME help) that
  exist in English and at least one other language, one page per unit
  (``thresher.murating.debian_docs``; read from ``murating.debian_docs``, fetched by
  ``make demo-data``). Technical prose with commands, a genre the others lack.

Translated documents (``models.murating.translate``) join as units of their own source.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from thresher.config import Settings
from thresher.corpora.sources import default_data_root, load_ntrex, load_xquad, tatoeba_files
from thresher.entrypoint import BadInput
from thresher.murating.debian_docs import debian_docs_folder, read_debian
from thresher.murating.debian_docs import summary as debian_summary
from thresher.murating.units import ENGLISH, ParallelDoc

log = logging.getLogger(__name__)

SOURCES = ("ntrex", "xquad", "tatoeba", "debian")
# Sources whose size is not set by max_units afterwards (they apply their own limits).
_SELF_LIMITED = ("tatoeba", "debian")


def load_tatoeba(folder: Path, block: int = 8, max_lines: int = 400) -> list[ParallelDoc]:
    """Tatoeba ``tatoeba.<xxx>-eng.{xxx,eng}`` → units of ``block`` consecutive pairs."""
    docs = []
    for code, language, native, english in tatoeba_files(folder):
        lines = native.read_text(encoding="utf-8").splitlines()[:max_lines]
        eng = english.read_text(encoding="utf-8").splitlines()[:max_lines]
        if len(lines) != len(eng):
            raise BadInput(f"{native}: {len(lines)} lines but {english} has {len(eng)}")
        joiner = "" if language in ("zh", "ja") else " "
        for start in range(0, len(lines) - block + 1, block):
            unit = f"tatoeba:{code}:{start // block}"
            docs.append(
                ParallelDoc("tatoeba", unit, language, joiner.join(lines[start : start + block]))
            )
            docs.append(ParallelDoc("tatoeba", unit, ENGLISH, " ".join(eng[start : start + block])))
    return docs


def load_parallel(
    sources: Sequence[str] = SOURCES,
    languages: Iterable[str] | None = None,
    data_root: Path | None = None,
    tatoeba_block: int = 8,
    tatoeba_lines: int = 400,
    max_units: int = 0,
    debian_folder: Path | None = None,
    debian_min_chars: int = 400,
    debian_max_chars: int = 4000,
) -> list[ParallelDoc]:
    """Every language version of every unit of ``sources``, English included.

    ``max_units`` > 0 keeps the first that many units of NTREX and of XQuAD (in file order)
    and that many Debian units (in a fixed hashed order); Tatoeba's size is set per language
    by ``tatoeba_lines``. ``debian_folder`` is required when ``sources`` has "debian".
    """
    root = data_root or default_data_root()
    languages = tuple(languages) if languages is not None else None
    unknown = set(sources) - set(SOURCES)
    if unknown:
        raise BadInput(f"unknown parallel sources {sorted(unknown)}; known: {SOURCES}")
    docs: list[ParallelDoc] = []
    if "ntrex" in sources:
        docs += [
            ParallelDoc("ntrex", f"ntrex:{i.item_id}", i.language, i.options[0])
            for i in load_ntrex(root / "ntrex")
        ]
    if "xquad" in sources:
        docs += [
            ParallelDoc("xquad", f"xquad:{i.item_id}", i.language, i.options[0])
            for i in load_xquad(root / "xquad")
        ]
    if "tatoeba" in sources:
        docs += load_tatoeba(root / "tatoeba", tatoeba_block, tatoeba_lines)
    if "debian" in sources:
        if debian_folder is None:
            raise BadInput("parallel source 'debian' needs the folder of the Debian pages")
        debian, skipped = read_debian(
            debian_folder, languages, debian_min_chars, debian_max_chars, max_units
        )
        log.info("debian docs under %s: %s", debian_folder, debian_summary(debian, skipped))
        docs += debian
    if max_units > 0:
        first: dict[str, list[str]] = {}
        for d in docs:
            if d.source in _SELF_LIMITED:
                continue
            units = first.setdefault(d.source, [])
            if len(units) < max_units and d.unit_id not in units:
                units.append(d.unit_id)
        keep = {u for units in first.values() for u in units}
        docs = [d for d in docs if d.source in _SELF_LIMITED or d.unit_id in keep]
    wanted = set(languages) | {ENGLISH} if languages is not None else None
    docs = [d for d in docs if d.text.strip() and (wanted is None or d.language in wanted)]
    if not docs:
        raise BadInput(f"no parallel documents for {list(sources)} under {root}")
    return docs


def parallel_documents(
    settings: Settings, languages: Iterable[str] | None = None
) -> list[ParallelDoc]:
    """``load_parallel`` as ``settings.murating`` configures it (languages: the settings')."""
    config = settings.murating
    return load_parallel(
        config.sources,
        settings.languages if languages is None else languages,
        Path(config.data_path) if config.data_path else None,
        config.tatoeba_block,
        config.tatoeba_lines,
        config.max_units,
        debian_docs_folder(settings),
        config.debian_min_chars,
        config.debian_max_chars,
    )
