"""Aligned item sets built from the corpora in ``../shared/data`` (layout: its README.md).

- ``xcopa``: XCOPA validation, 100 causal-reasoning items in 11 languages, aligned by ``idx``;
  cloze with lm-eval-harness's per-language connectors.
- ``sib200``: SIB-200 topic classification (``dev`` split, 99 items, 18 languages), aligned by
  ``index_id``; a choice among the 7 label words.
- ``xquad``: the 240 XQuAD paragraphs in 12 languages, perplexity items.
- ``ntrex``: the 123 NTREX-128 news documents in 18 languages, perplexity items.
- ``flores``: the 99 sentences of SIB-200's ``dev`` split (FLORES-200 dev) in 18 languages,
  perplexity items.
- ``flores_cloze``: the same sentences as sentence completion: the first half of a sentence,
  then its own second half among the second halves of the next three sentences (Thresher's
  set, for models too small to classify topics; see :func:`load_flores_cloze`).
"""

from __future__ import annotations

import csv
import json
import os
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from thresher.corpora.items import Item, ItemsError
from thresher.languages import CHARACTER_LANGUAGES, FLORES_TO_ISO, NTREX_TO_ISO, TATOEBA_TO_ISO

# "cause" / "effect" connectors per language, as lm-eval-harness's xcopa task writes them
# (lm_eval/tasks/xcopa/utils.py); the option follows the connector after a space.
XCOPA_CONNECTORS = {
    "et": ("sest", "seetõttu"),
    "ht": ("poukisa", "donk sa"),
    "it": ("perché", "quindi"),
    "id": ("karena", "maka"),
    "qu": ("imataq", "chaymi"),
    "sw": ("kwa sababu", "kwa hiyo"),
    "zh": ("因为", "所以"),
    "ta": ("காரணமாக", "எனவே"),
    "th": ("เพราะ", "ดังนั้น"),
    "tr": ("çünkü", "bu yüzden"),
    "vi": ("bởi vì", "vì vậy"),
    "en": ("because", "therefore"),
}

# SIB-200's labels, verbatim, in a fixed option order.
SIB200_LABELS = (
    "science/technology",
    "travel",
    "politics",
    "sports",
    "health",
    "entertainment",
    "geography",
)
SIB200_TEMPLATE = "Text: {text}\nTopic:"


def default_data_root() -> Path:
    """``THRESHER_SHARED_DATA``, else ``shared/data`` beside the checkout."""
    shared = os.environ.get("THRESHER_SHARED_DATA")
    return Path(shared) if shared else Path(__file__).resolve().parents[3] / "shared" / "data"


def _require_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise ItemsError(f"{what} folder not found: {path}")
    return path


def load_xcopa(folder: Path) -> list[Item]:
    """XCOPA ``val.<lang>.jsonl`` → cloze items: premise + connector, then each choice.

    As lm-eval-harness does: the premise loses its final punctuation (only if it is one:
    Thai and Tamil premises have none), the connector follows a space, and each choice is an
    option with a leading space and a lower-cased first letter.

    Thresher: the question type is the majority over all files of the folder for each
    ``idx``, not each file's own. The Thai and Turkish files mark 52 "cause" items as
    "effect", the Swahili, Indonesian and Italian ones 5 or 6; with the wrong
    connector the cloze asks the opposite question and the item no longer matches its
    translations. Every ``idx`` has a clear majority (at least 7 of 11).
    """
    files = sorted(_require_dir(folder, "XCOPA").glob("val.*.jsonl"))
    if not files:
        raise ItemsError(f"no val.<lang>.jsonl files in {folder}")
    rows = {}
    for file in files:
        language = file.name.split(".")[1]
        if language not in XCOPA_CONNECTORS:
            raise ItemsError(f"no XCOPA connectors for language {language!r} ({file})")
        with file.open(encoding="utf-8") as handle:
            rows[language] = [json.loads(line) for line in handle if line.strip()]
    votes: dict[int, Counter] = {}
    for records in rows.values():
        for record in records:
            votes.setdefault(record["idx"], Counter())[record["question"]] += 1
    items = []
    for language, records in rows.items():
        cause, effect = XCOPA_CONNECTORS[language]
        for record in records:
            (top, n_top), *rest = votes[record["idx"]].most_common()
            question = top if not rest or rest[0][1] < n_top else record["question"]
            premise = record["premise"].strip()
            if premise and unicodedata.category(premise[-1]).startswith("P"):
                premise = premise[:-1]
            connector = cause if question == "cause" else effect
            options = tuple(
                " " + c[0].lower() + c[1:] for c in (record["choice1"], record["choice2"])
            )
            context = f"{premise} {connector}"
            items.append(
                Item("xcopa", str(record["idx"]), language, context, options, int(record["label"]))
            )
    return items


def load_sib200(
    folder: Path,
    split: str = "dev",
    template: str = SIB200_TEMPLATE,
    label_words: Mapping[str, Sequence[str]] | None = None,
) -> list[Item]:
    """SIB-200 ``<flores>/<split>.tsv`` → a choice among the 7 topics, ``item_id`` = index_id.

    Thresher: the template and the label words are English for every language by default
    (``label_words`` maps a language to its 7 words, in :data:`SIB200_LABELS` order, to
    change that). So the options are the same strings in every language: the only thing that
    changes across an aligned item is the language of the text, MLC compares choices among
    identical answers, and per-character normalisation treats every language alike. SIB-200
    ships no translations of its label words, and MuBench's ``en_template`` variant makes the
    same choice (English instruction, localised content).
    """
    label_words = dict(label_words or {})
    items = []
    for flores, language in sorted(FLORES_TO_ISO.items()):
        path = _require_dir(folder, "SIB-200") / flores / f"{split}.tsv"
        if not path.is_file():
            continue
        words = tuple(label_words.get(language, SIB200_LABELS))
        if len(words) != len(SIB200_LABELS):
            raise ItemsError(f"label_words[{language!r}] needs {len(SIB200_LABELS)} words")
        with path.open(encoding="utf-8", newline="") as handle:
            # Sentences contain quotes; the files are plain tab-separated, unquoted.
            for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
                answer = SIB200_LABELS.index(row["category"])
                context = template.format(text=row["text"].strip())
                options = tuple(" " + word for word in words)
                items.append(Item("sib200", row["index_id"], language, context, options, answer))
    if not items:
        raise ItemsError(f"no SIB-200 {split}.tsv files under {folder}")
    return items


def load_xquad(folder: Path) -> list[Item]:
    """XQuAD paragraphs → perplexity items; ``item_id`` = the paragraph's first question id.

    Question ids are shared by all languages upstream, so a paragraph missing from one
    translation shows up as misalignment instead of shifting every later key.
    """
    files = sorted(_require_dir(folder, "XQuAD").glob("xquad.*.json"))
    if not files:
        raise ItemsError(f"no xquad.<lang>.json files in {folder}")
    items = []
    for file in files:
        language = file.name.split(".")[1]
        data = json.loads(file.read_text(encoding="utf-8"))["data"]
        for article in data:
            for paragraph in article["paragraphs"]:
                key = paragraph["qas"][0]["id"]
                text = paragraph["context"].strip()
                items.append(Item("xquad", key, language, "", (text,), 0, "perplexity"))
    return items


def load_ntrex(folder: Path) -> list[Item]:
    """NTREX-128 documents (``DOCUMENT_IDS.tsv`` groups lines) → perplexity items.

    A document's sentences are joined by newlines; ``item_id`` is its document id.
    """
    ids = (_require_dir(folder, "NTREX") / "DOCUMENT_IDS.tsv").read_text(encoding="utf-8")
    doc_ids = ids.splitlines()
    items = []
    for code, language in sorted(NTREX_TO_ISO.items()):
        path = folder / f"newstest2019-ref.{code}.txt"
        if not path.is_file():
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) != len(doc_ids):
            raise ItemsError(f"{path}: {len(lines)} lines, DOCUMENT_IDS.tsv has {len(doc_ids)}")
        documents: dict[str, list[str]] = {}
        for doc_id, line in zip(doc_ids, lines, strict=True):
            documents.setdefault(doc_id, []).append(line.strip())
        for doc_id, body in documents.items():
            items.append(Item("ntrex", doc_id, language, "", ("\n".join(body),), 0, "perplexity"))
    if not items:
        raise ItemsError(f"no newstest2019-ref.<code>.txt files in {folder}")
    return items


def tatoeba_files(folder: Path) -> Iterator[tuple[str, str, Path, Path]]:
    """``(code, language, native file, English file)`` of every Tatoeba pair
    ``tatoeba.<code>-eng.{<code>,eng}`` in ``folder`` that has both sides, by code."""
    for code, language in sorted(TATOEBA_TO_ISO.items()):
        base = folder / f"tatoeba.{code}-eng"
        native, english = Path(f"{base}.{code}"), Path(f"{base}.eng")
        if native.is_file() and english.is_file():
            yield code, language, native, english


def _sib200_sentences(folder: Path, split: str = "dev") -> dict[str, list[tuple[str, str]]]:
    """(index_id, text) per language of SIB-200's ``split``, sorted by index_id."""
    sentences: dict[str, list[tuple[str, str]]] = {}
    for flores, language in sorted(FLORES_TO_ISO.items()):
        path = _require_dir(folder, "SIB-200") / flores / f"{split}.tsv"
        if not path.is_file():
            continue
        with path.open(encoding="utf-8", newline="") as handle:
            rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            pairs = [(row["index_id"], row["text"].strip()) for row in rows]
        sentences[language] = sorted(pairs, key=lambda pair: int(pair[0]))
    if not sentences:
        raise ItemsError(f"no SIB-200 {split}.tsv files under {folder}")
    return sentences


def load_flores(folder: Path) -> list[Item]:
    """SIB-200 ``dev`` sentences → perplexity items, ``item_id`` = index_id."""
    return [
        Item("flores", key, language, "", (text,), 0, "perplexity")
        for language, pairs in _sib200_sentences(folder).items()
        for key, text in pairs
    ]


def split_sentence(text: str, language: str) -> tuple[str, str]:
    """A sentence's first half and the rest: at the middle word where words are separated
    by spaces, at the middle character in languages written without spaces (or very short text)."""
    words = text.split(" ")
    if language not in CHARACTER_LANGUAGES and len(words) >= 4:
        middle = len(words) // 2
        return " ".join(words[:middle]), " " + " ".join(words[middle:])
    middle = len(text) // 2
    return text[:middle], text[middle:]


def load_flores_cloze(folder: Path, distractors: int = 3) -> list[Item]:
    """SIB-200 ``dev`` sentences → sentence completion, aligned by index_id.

    Thresher: for the sentence at position ``i`` (index_id order, the same in every
    language) the context is its first half and the options are its second half and the
    second halves of sentences ``i+1 … i+distractors`` (cyclically), the true one placed at
    option ``i mod (distractors + 1)``. Every language thus asks the same question with the
    same answer, built from translations; small models that cannot classify topics can still
    tell a sentence's own ending from another's.
    """
    items = []
    for language, pairs in _sib200_sentences(folder).items():
        halves = [split_sentence(text, language) for _, text in pairs]
        n = len(halves)
        for i, (key, _) in enumerate(pairs):
            answer = i % (distractors + 1)
            others = [halves[(i + k) % n][1] for k in range(1, distractors + 1)]
            options = [*others[:answer], halves[i][1], *others[answer:]]
            items.append(Item("flores_cloze", key, language, halves[i][0], tuple(options), answer))
    return items


BUILTIN: dict[str, tuple[str, Callable[[Path], list[Item]]]] = {
    "xcopa": ("xcopa", load_xcopa),
    "sib200": ("sib200", load_sib200),
    "xquad": ("xquad", load_xquad),
    "ntrex": ("ntrex", load_ntrex),
    "flores": ("sib200", load_flores),
    "flores_cloze": ("sib200", load_flores_cloze),
}


def load_builtin(name: str, data_root: Path | None = None) -> list[Item]:
    """One built-in set by name, read from ``data_root`` (default: :func:`default_data_root`)."""
    if name not in BUILTIN:
        raise ItemsError(f"unknown built-in item set {name!r}; known: {', '.join(BUILTIN)}")
    folder, loader = BUILTIN[name]
    return loader((data_root or default_data_root()) / folder)
