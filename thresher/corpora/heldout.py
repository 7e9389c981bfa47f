"""Evaluation text no scorer, classifier or selection step has seen: the experiments' target.

A mixture is judged by how well a model trained on it predicts text from outside the pool.
What already trains or tunes a step of the platform is not eligible:

- NTREX-128 and XQuAD: the reference classifier's positives (``spark_jobs.reference_classifier``);
- SIB-200's ``train`` split trains the domain classifier (``silver.domain_labels``);
- Tatoeba's first ``murating.tatoeba_lines`` lines per language are MuRating's parallel units.

Held out (``PERPLEXITY_SETS``), read from ``../shared/data`` (its README has the licences):

- ``flores``: SIB-200's ``dev`` sentences (FLORES-200 dev), aligned by ``index_id``;
- ``udhr``: the Universal Declaration of Human Rights, each language's paragraphs joined into
  passages of about ``UDHR_PASSAGE_BYTES``;
- ``xcopa_premises``: XCOPA's validation premises, aligned by ``idx`` (it, zh, tr, vi, id, th);
- ``tatoeba``: Tatoeba sentences from line ``tatoeba_start`` on, ``TATOEBA_BLOCK`` per item,
  the English ones from the English side of every pair.

The aligned choice tasks of ``models.mubench`` (``flores_cloze``, ``xcopa``) give accuracy and
MLC on the same held-out sentences.

Every item falls into one of two halves by a fixed hash of its task and id (``half``):
``search`` is what a mixture search's proxies are scored on, ``test`` what the selection study
reports. Aligned sets split the same ids in every language. Searching and reporting on the
same text would reward parameters for fitting the test.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from thresher.corpora.items import Item, ItemsError
from thresher.corpora.sources import load_builtin, load_flores, tatoeba_files
from thresher.languages import CHARACTER_LANGUAGES

PERPLEXITY_SETS = ("flores", "udhr", "xcopa_premises", "tatoeba")
CHOICE_SETS = ("flores_cloze", "xcopa")
HALVES = ("search", "test")
UDHR_PASSAGE_BYTES = 1500
TATOEBA_BLOCK = 8
# UDHR files (nltk's udhr2) → ISO 639-1.
UDHR_TO_ISO = {
    "arb": "ar",
    "cmn_hans": "zh",
    "deu": "de",
    "eng": "en",
    "fra": "fr",
    "hin": "hi",
    "ind": "id",
    "ita": "it",
    "jpn": "ja",
    "kor": "ko",
    "nld": "nl",
    "pol": "pl",
    "por_BR": "pt",
    "rus": "ru",
    "spa": "es",
    "tha": "th",
    "tur": "tr",
    "vie": "vi",
}


def half(item: Item) -> str:
    """``search`` or ``test``, from the item's task and id alone (the same in every language)."""
    digest = hashlib.blake2b(f"{item.task}\x1f{item.item_id}".encode(), digest_size=1).digest()
    return HALVES[digest[0] % 2]


def load_udhr(folder: Path) -> list[Item]:
    """Each language's UDHR paragraphs, joined into passages of about UDHR_PASSAGE_BYTES."""
    items = []
    for code, language in sorted(UDHR_TO_ISO.items()):
        path = folder / f"{code}.txt"
        if not path.is_file():
            continue
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        passages, passage = [], []
        for line in filter(None, lines):
            passage.append(line)
            if len("\n".join(passage).encode()) >= UDHR_PASSAGE_BYTES:
                passages.append("\n".join(passage))
                passage = []
        if passage:
            passages.append("\n".join(passage))
        items += [
            Item("udhr", str(k), language, "", (text,), 0, "perplexity")
            for k, text in enumerate(passages)
        ]
    if not items:
        raise ItemsError(f"no UDHR <code>.txt files in {folder}")
    return items


def load_xcopa_premises(folder: Path) -> list[Item]:
    """XCOPA validation premises as perplexity items, aligned by ``idx``."""
    items = []
    for file in sorted(folder.glob("val.*.jsonl")):
        language = file.name.split(".")[1]
        for line in file.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                text = (record["premise"].strip(),)
                items.append(
                    Item("xcopa_premises", str(record["idx"]), language, "", text, 0, "perplexity")
                )
    if not items:
        raise ItemsError(f"no XCOPA val.<lang>.jsonl files in {folder}")
    return items


def load_tatoeba_heldout(folder: Path, start: int, block: int = TATOEBA_BLOCK) -> list[Item]:
    """Tatoeba sentences from line ``start`` on (before it: MuRating's units), ``block`` a
    item; English from the English side of every pair (``tatoeba:<pair>:<block>`` ids)."""
    items = []
    for code, language, native, english in tatoeba_files(folder):
        sides = ((language, native), ("en", english))
        for side_language, path in sides:
            lines = path.read_text(encoding="utf-8").splitlines()[start:]
            joiner = "" if side_language in CHARACTER_LANGUAGES else " "
            for k in range(0, len(lines) - block + 1, block):
                text = joiner.join(line.strip() for line in lines[k : k + block])
                key = f"{code}:{(start + k) // block}"
                items.append(Item("tatoeba", key, side_language, "", (text,), 0, "perplexity"))
    if not items:
        raise ItemsError(f"no Tatoeba tatoeba.<code>-eng files in {folder}")
    return items


def load_set(name: str, data_root: Path, tatoeba_start: int) -> list[Item]:
    """One held-out set (``PERPLEXITY_SETS`` or ``CHOICE_SETS``) by name."""
    if name == "flores":
        return load_flores(data_root / "sib200")
    if name == "udhr":
        return load_udhr(data_root / "udhr")
    if name == "xcopa_premises":
        return load_xcopa_premises(data_root / "xcopa")
    if name == "tatoeba":
        return load_tatoeba_heldout(data_root / "tatoeba", tatoeba_start)
    if name in CHOICE_SETS:
        return load_builtin(name, data_root)
    raise ItemsError(f"unknown held-out set {name!r}; known: {PERPLEXITY_SETS + CHOICE_SETS}")


def heldout_items(
    sets: Sequence[str],
    languages: Iterable[str],
    which: str,
    data_root: Path,
    tatoeba_start: int,
    limit: int = 0,
) -> list[Item]:
    """The ``which`` half (``search``, ``test`` or ``all``) of ``sets`` in ``languages``;
    ``limit`` > 0 keeps that many items per set and language (the first in id order)."""
    if which not in (*HALVES, "all"):
        raise ItemsError(f"half must be one of {HALVES} or 'all', got {which!r}")
    wanted = set(languages)
    out = []
    for name in sets:
        chosen = [
            item
            for item in load_set(name, data_root, tatoeba_start)
            if item.language in wanted and (which == "all" or half(item) == which)
        ]
        if limit:
            kept: dict[str, int] = {}
            trimmed = []
            for item in chosen:
                if kept.get(item.language, 0) < limit:
                    kept[item.language] = kept.get(item.language, 0) + 1
                    trimmed.append(item)
            chosen = trimmed
        out += chosen
    return out
