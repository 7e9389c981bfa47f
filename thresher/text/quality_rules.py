"""Rule-based quality signals (Gopher, C4 and FineWeb heuristics). Pure Python/numpy, no Spark.

``rule_values`` measures a document; ``evaluate`` compares the measures with the thresholds of
``QualitySettings`` and gives the failing rules and one combined score. Languages written
without spaces (zh, ja, th) count characters where the others count words; a rule that does
not apply to a language (mean word length in Chinese, a stop-word ratio without a list) is left
out, not failed.

The combined score is the share of applicable rules a document passes, in [0, 1]. Each rule is
a threshold tuned on its own (Gopher's and FineWeb's published values), so their raw values
have no common scale to average; counting passes keeps every rule equally weighted, makes the
score explainable by the ``failed`` list, and still orders documents that fail (one broken rule
beats five) — which is what a ranking sampler like QuaDMix needs.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass

import numpy as np

from thresher.config import QualitySettings
from thresher.languages import CHARACTER_LANGUAGES
from thresher.text.size import byte_tokens
from thresher.text.stopwords import STOP_WORDS

# Bump when a rule's definition changes: the version of the stored scores changes with it.
RULES_REVISION = 1
TOP_NGRAMS = (2, 3, 4)
DUPLICATE_NGRAMS = (5, 6, 7, 8, 9, 10)
TERMINAL = frozenset(".!?\"'…。！？」』”’)؟।॥;:")
BULLETS = ("•", "-", "*", "‣", "◦", "·", "–", "—", "●", "▪", "►", "○")
_PARAGRAPHS = re.compile(r"\n\s*\n")
# A character n-gram spans fewer words than a word n-gram: the repetition rules look at
# n × this many characters, roughly the characters per word of the language.
CHARACTERS_PER_WORD = {"zh": 2, "ja": 2, "th": 4}
# Thai marks sentences with spaces, not punctuation: the punctuated-line rule does not apply.
UNPUNCTUATED_LANGUAGES = frozenset({"th"})
# Korean function words are particles attached to the word before them.
KOREAN_PARTICLES = ("은", "는", "이", "가", "을", "를", "에", "의", "로", "와", "과", "도", "에서")


@dataclass(frozen=True)
class Rule:
    name: str  # the measure in ``rule_values``
    setting: str  # the QualitySettings field holding its threshold
    minimum: bool  # True: the value must be ≥ the threshold; False: ≤

    def passes(self, value: float, config: QualitySettings) -> bool:
        bound = getattr(config, self.setting)
        return value >= bound if self.minimum else value <= bound


RULES = (
    Rule("words", "min_words", True),
    Rule("words", "max_words", False),
    Rule("mean_word_length", "min_mean_word_length", True),
    Rule("mean_word_length", "max_mean_word_length", False),
    Rule("symbol_word_ratio", "max_symbol_word_ratio", False),
    Rule("punctuated_line_fraction", "min_punctuated_line_fraction", True),
    Rule("bullet_line_fraction", "max_bullet_line_fraction", False),
    Rule("stop_word_ratio", "min_stop_word_ratio", True),
    Rule("duplicate_line_fraction", "max_duplicate_line_fraction", False),
    Rule("duplicate_paragraph_fraction", "max_duplicate_paragraph_fraction", False),
    *(Rule(f"top_{n}gram_fraction", f"max_top_{n}gram_fraction", False) for n in TOP_NGRAMS),
    *(
        Rule(f"duplicate_{n}gram_fraction", f"max_duplicate_{n}gram_fraction", False)
        for n in DUPLICATE_NGRAMS
    ),
    Rule("alphabetic_word_ratio", "min_alphabetic_word_ratio", True),
)


def rules_version(config: QualitySettings) -> str:
    """Version of the rule scores: the rules' revision and every threshold they use."""
    thresholds = {r.setting: asdict(config)[r.setting] for r in RULES}
    digest = hashlib.sha256(json.dumps(thresholds, sort_keys=True).encode()).hexdigest()
    return f"r{RULES_REVISION}-{digest[:10]}"


def tokens(text: str, language: str) -> list[str]:
    """Words (whitespace-separated), or letters, marks and digits for languages without spaces."""
    if language in CHARACTER_LANGUAGES:
        return [c for c in text if unicodedata.category(c)[0] in "LMN"]
    return text.split()


def token_count(text: str, language: str | None = None) -> int:
    """The document's size as the sampler weighs it: ``thresher.text.size.byte_tokens``
    (UTF-8 bytes, whatever the language; ``language`` is accepted for older callers)."""
    return byte_tokens(text)


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _repeated_fraction(items: list[str]) -> float:
    """Share of items equal to an earlier item."""
    return _share(len(items) - len(set(items)), len(items))


def top_ngram_fraction(toks: list[str], n: int, total_chars: int) -> float:
    """Characters in the most frequent repeated n-gram's occurrences over all characters."""
    if len(toks) < n or not total_chars:
        return 0.0
    gram, count = Counter(zip(*(toks[i:] for i in range(n)), strict=False)).most_common(1)[0]
    if count < 2:
        return 0.0
    return min(1.0, sum(map(len, gram)) * count / total_chars)


def duplicate_ngram_fraction(toks: list[str], n: int, lengths: np.ndarray) -> float:
    """Characters of tokens inside a repeat (not the first occurrence) of any n-gram."""
    if len(toks) < n or not lengths.sum():
        return 0.0
    covered = np.zeros(len(toks), dtype=bool)
    seen: set[tuple[str, ...]] = set()
    for i, gram in enumerate(zip(*(toks[k:] for k in range(n)), strict=False)):
        if gram in seen:
            covered[i : i + n] = True
        else:
            seen.add(gram)
    return float(lengths[covered].sum() / lengths.sum())


def stop_word_ratio(text: str, toks: list[str], language: str) -> float | None:
    stop = STOP_WORDS.get(language)
    if stop is None:
        return None
    if language in CHARACTER_LANGUAGES:
        hits = sum(text.count(word) * len(word) for word in stop)
        return min(1.0, _share(hits, len(toks)))
    words = [w.strip(".,;:!?\"'()[]«»“”„‘’—–-…").lower() for w in toks]
    if language == "ko":
        return _share(sum(w in stop or w.endswith(KOREAN_PARTICLES) for w in words), len(toks))
    return _share(sum(w in stop for w in words), len(toks))


def _has_letter(token: str) -> bool:
    # combining marks count: Thai and Devanagari vowel signs are letters' parts, not symbols
    return any(c.isalpha() or unicodedata.category(c)[0] == "M" for c in token)


def rule_values(text: str, language: str) -> dict[str, float]:
    """Every applicable measure of one document (see ``RULES``)."""
    toks = tokens(text, language)
    by_char = language in CHARACTER_LANGUAGES
    lengths = np.fromiter(map(len, toks), dtype=np.int64, count=len(toks))
    total_chars = int(lengths.sum())
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    paragraphs = [p.strip() for p in _PARAGRAPHS.split(text) if p.strip()]
    values = {
        "words": float(len(toks)),
        "symbol_word_ratio": _share(
            text.count("#") + text.count("...") + text.count("…"), len(toks)
        ),
        "bullet_line_fraction": _share(sum(ln.startswith(BULLETS) for ln in lines), len(lines)),
        "duplicate_line_fraction": _repeated_fraction(lines),
        "duplicate_paragraph_fraction": _repeated_fraction(paragraphs),
        "alphabetic_word_ratio": _share(sum(map(_has_letter, toks)), len(toks)),
    }
    if language not in UNPUNCTUATED_LANGUAGES:
        ended = sum(line[-1] in TERMINAL for line in lines)
        values["punctuated_line_fraction"] = _share(ended, len(lines))
    if not by_char:  # a "word" of a character language is one character
        values["mean_word_length"] = total_chars / len(toks) if toks else 0.0
    stop = stop_word_ratio(text, toks, language)
    if stop is not None:
        values["stop_word_ratio"] = stop
    scale = CHARACTERS_PER_WORD.get(language, 1) if by_char else 1
    for n in TOP_NGRAMS:
        values[f"top_{n}gram_fraction"] = top_ngram_fraction(toks, n * scale, total_chars)
    for n in DUPLICATE_NGRAMS:
        values[f"duplicate_{n}gram_fraction"] = duplicate_ngram_fraction(toks, n * scale, lengths)
    return values


def evaluate(values: dict[str, float], config: QualitySettings) -> tuple[float, list[str]]:
    """The combined score (share of applicable rules passed) and the failing rules' settings.

    A failing rule is named by its threshold setting (``min_words``, ``max_words``), which says
    both the measure and the direction it failed in.
    """
    applicable = [r for r in RULES if r.name in values]
    failed = [r.setting for r in applicable if not r.passes(values[r.name], config)]
    return 1.0 - _share(len(failed), len(applicable)), failed
