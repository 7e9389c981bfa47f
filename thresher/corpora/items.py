"""Aligned evaluation items: the format, its JSONL files, and the sets built from shared data.

One item is one question in one language, one JSON object per line::

    {"task": "xcopa", "item_id": "17", "language": "tr", "context": "Kadın ... çünkü",
     "options": [" ona hakaret etti.", " ona teşekkür etti."], "answer": 0, "kind": "choice"}

- ``task``: the item set; every metric is reported per task.
- ``item_id``: the alignment key. The same question carries the same ``item_id`` in every
  language of its task; Multilingual Consistency compares a model's choices on equal keys.
- ``language``: ISO 639-1 where the language has one (the project's codes).
- ``context``: the text the options are conditioned on; may be empty.
- ``options``: the continuations scored after ``context``, cloze style (lm-eval-harness,
  lighteval): their separator, usually a leading space, belongs to the option.
- ``answer``: the index of the correct option.
- ``kind`` (optional, default ``"choice"``): ``"choice"`` picks the likeliest option;
  ``"perplexity"`` holds one text in ``options`` (``answer`` 0) whose likelihood is measured,
  so aligned texts give comparable bits per byte across languages.

A set is *aligned* when, per task, every language has the same ``item_id``\\ s and each
``item_id`` the same kind, number of options and answer (:func:`check_aligned`). Any set in
this format is read by path (:func:`read_items`, a file or a folder of ``*.jsonl``), so the full
MuBench can be converted once and pointed at; the built-in sets are made by the loaders in
:mod:`thresher.corpora.sources`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from thresher.entrypoint import BadInput

KINDS = ("choice", "perplexity")


class ItemsError(BadInput, ValueError):
    """An item set that cannot be evaluated: unreadable, malformed, empty or misaligned."""


@dataclass(frozen=True)
class Item:
    task: str
    item_id: str
    language: str
    context: str
    options: tuple[str, ...]
    answer: int
    kind: str = "choice"

    def __post_init__(self) -> None:
        for name in ("task", "item_id", "language"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ItemsError(f"{name} must be a non-empty string, got {value!r}")
        if not isinstance(self.context, str):
            raise ItemsError(f"context must be a string, got {type(self.context).__name__}")
        if not self.options or not all(isinstance(o, str) and o for o in self.options):
            raise ItemsError("options must be a non-empty list of non-empty strings")
        if self.kind not in KINDS:
            raise ItemsError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.kind == "perplexity" and len(self.options) != 1:
            raise ItemsError("a perplexity item holds exactly one text in options")
        if self.kind == "choice" and len(self.options) < 2:
            raise ItemsError("a choice item needs at least two options")
        answer_ok = isinstance(self.answer, int) and not isinstance(self.answer, bool)
        if not answer_ok or not 0 <= self.answer < len(self.options):
            raise ItemsError(f"answer must index options (0..{len(self.options) - 1})")

    @classmethod
    def from_json(cls, obj: Mapping) -> Item:
        if not isinstance(obj, Mapping):
            raise ItemsError("an item must be a JSON object")
        missing = [k for k in ("task", "item_id", "language", "context", "options", "answer")
                   if k not in obj]  # fmt: skip
        if missing:
            raise ItemsError(f"missing field(s): {', '.join(missing)}")
        options = obj["options"]
        if not isinstance(options, list):
            raise ItemsError("options must be a list")
        item_id = obj["item_id"]
        return cls(
            task=obj["task"],
            # Integer keys (XCOPA's idx) are common upstream; the format keys on strings.
            item_id=str(item_id) if isinstance(item_id, int) else item_id,
            language=obj["language"],
            context=obj["context"],
            options=tuple(options),
            answer=obj["answer"],
            kind=obj.get("kind", "choice"),
        )

    def to_json(self) -> dict:
        return {**asdict(self), "options": list(self.options)}


def read_items(path: Path | str) -> list[Item]:
    """Items of a JSONL file, or of every ``*.jsonl`` under a folder (sorted by path)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.rglob("*.jsonl"))
        if not files:
            raise ItemsError(f"no *.jsonl files under {path}")
    elif path.is_file():
        files = [path]
    else:
        raise ItemsError(f"items path does not exist: {path}")
    items: list[Item] = []
    for file in files:
        with file.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    items.append(Item.from_json(json.loads(line)))
                except (json.JSONDecodeError, ItemsError) as exc:
                    raise ItemsError(f"{file}:{number}: {exc}") from None
    return items


def write_items(items: Iterable[Item], path: Path | str) -> int:
    """Write items as JSONL (UTF-8, one object a line); return how many."""
    count = 0
    with Path(path).open("w", encoding="utf-8") as handle:
        for item in items:
            handle.write(json.dumps(item.to_json(), ensure_ascii=False) + "\n")
            count += 1
    return count


def check_aligned(items: Sequence[Item], max_problems: int = 5) -> None:
    """Raise :class:`ItemsError` naming the first problems unless ``items`` are aligned."""
    problems: list[str] = []
    by_task: dict[str, dict[str, dict[str, Item]]] = defaultdict(lambda: defaultdict(dict))
    for item in items:
        per_language = by_task[item.task][item.language]
        if item.item_id in per_language:
            problems.append(f"{item.task}/{item.language}: item_id {item.item_id!r} twice")
        per_language[item.item_id] = item
    for task, languages in sorted(by_task.items()):
        all_ids = set().union(*(set(ids) for ids in languages.values()))
        for language, ids in sorted(languages.items()):
            missing = sorted(all_ids - set(ids))
            if missing:
                shown = ", ".join(repr(m) for m in missing[:3])
                problems.append(
                    f"{task}/{language}: {len(missing)} item_id(s) that other languages have "
                    f"are missing ({shown}{', ...' if len(missing) > 3 else ''})"
                )
        for item_id in sorted(all_ids):
            shapes = {
                language: (ids[item_id].kind, len(ids[item_id].options), ids[item_id].answer)
                for language, ids in languages.items()
                if item_id in ids
            }
            if len(set(shapes.values())) > 1:
                detail = ", ".join(f"{lang}={s}" for lang, s in sorted(shapes.items()))
                problems.append(f"{task}/{item_id}: (kind, options, answer) differ: {detail}")
    if problems:
        more = f" (and {len(problems) - max_problems} more)" if len(problems) > max_problems else ""
        raise ItemsError("misaligned items: " + "; ".join(problems[:max_problems]) + more)


def select(
    items: Sequence[Item], languages: Sequence[str] | None = None, limit: int | None = None
) -> list[Item]:
    """Keep ``languages`` (all when None) and the first ``limit`` item_ids of each task.

    The first item_ids are taken in order of first appearance, the same keys in every
    language, so a limited set stays aligned.
    """
    if languages is not None:
        available = sorted({item.language for item in items})
        unknown = sorted(set(languages) - set(available))
        if unknown:
            raise ItemsError(
                f"unknown language(s) {', '.join(unknown)}; the items have {', '.join(available)}"
            )
        wanted = set(languages)
        items = [item for item in items if item.language in wanted]
    if limit is not None:
        if limit < 1:
            raise ItemsError(f"limit must be at least 1, got {limit}")
        kept: dict[str, dict[str, None]] = defaultdict(dict)
        for item in items:
            keys = kept[item.task]
            if len(keys) < limit:
                keys.setdefault(item.item_id)
        items = [item for item in items if item.item_id in kept[item.task]]
    return list(items)
