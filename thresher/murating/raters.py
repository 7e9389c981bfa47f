"""English raters: each a versioned scorer with one interface, ``score(texts) -> array``.

Larger is better for every rater. Their scales differ and do not matter: aggregation
(``bradley_terry``) only uses each rater's preference between two documents.

- ``rules``: the share of the Gopher / C4 / FineWeb rules a document passes
  (``thresher.text.quality_rules``, the curation DAG's ``rules`` criterion) — cleanliness;
- ``lexical``: lexical density, a readability-style proxy for educational value: vocabulary
  diversity, the share of long words and (saturating) length — informativeness;
- ``e5_prototype``: zero-shot with the frozen multilingual-e5-small encoder: mean cosine to
  descriptions of high-value text minus mean cosine to descriptions of low-value text —
  topic and register.

The three look at different things (form, vocabulary, meaning), which is what makes their
disagreements informative. The lake's ``reference_classifier`` criterion is not a rater here:
the parallel units are read from the shared corpora, not from the lake, so it has no score for
them. The model-based judgment is the pairwise judge's (``models.murating.judge``), which
``spark_jobs.murating.judgments`` fits beside these three.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

_WORDS = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", re.UNICODE)

HIGH_VALUE = (
    "An informative encyclopedia article that explains history, science or geography in "
    "clear, complete sentences.",
    "A news report describing events, people and their consequences in detail.",
    "An educational text that teaches a concept with facts, causes and examples.",
)
LOW_VALUE = (
    "Short casual chat about everyday things, what someone wants or did today.",
    "Advertising and spam: buy now, click here, best price, free shipping, subscribe.",
    "A fragment of a conversation between two people, simple questions and answers.",
)


class Rater(Protocol):
    name: str
    version: str

    def score(self, texts: Sequence[str]) -> np.ndarray: ...


def _version(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class RuleRater:
    """The ``rules`` criterion of the curation DAG, recomputed from text (English rules)."""

    name: str = "rules"

    @property
    def version(self) -> str:
        from thresher.config import QualitySettings
        from thresher.text.quality_rules import rules_version

        return rules_version(QualitySettings())

    def score(self, texts: Sequence[str]) -> np.ndarray:
        from thresher.config import QualitySettings
        from thresher.text.quality_rules import evaluate, rule_values

        config = QualitySettings()
        return np.array([evaluate(rule_values(t, "en"), config)[0] for t in texts], dtype=float)


def lexical_score(text: str, window: int = 100, long_word: int = 7, saturation: int = 300) -> float:
    """Mean of three [0, 1] measures: type/token ratio over the first ``window`` words,
    the share of words of ``long_word`` letters or more (× 3, capped), and
    log(1 + words) / log(1 + saturation) (capped)."""
    words = [w.lower() for w in _WORDS.findall(text)]
    if not words:
        return 0.0
    head = words[:window]
    diversity = len(set(head)) / len(head)
    long_share = min(1.0, 3 * sum(len(w) >= long_word for w in words) / len(words))
    length = min(1.0, math.log1p(len(words)) / math.log1p(saturation))
    return (diversity + long_share + length) / 3


@dataclass(frozen=True)
class LexicalRater:
    name: str = "lexical"
    window: int = 100
    long_word: int = 7
    saturation: int = 300

    @property
    def version(self) -> str:
        return _version(self.name, self.window, self.long_word, self.saturation, 1)

    def score(self, texts: Sequence[str]) -> np.ndarray:
        args = (self.window, self.long_word, self.saturation)
        return np.array([lexical_score(t, *args) for t in texts], dtype=float)


@dataclass(frozen=True)
class PrototypeRater:
    """Cosine to high-value descriptions minus cosine to low-value ones (E5 embeddings)."""

    embed: Callable[[Sequence[str]], np.ndarray]
    name: str = "e5_prototype"
    high: tuple[str, ...] = HIGH_VALUE
    low: tuple[str, ...] = LOW_VALUE

    @property
    def version(self) -> str:
        return _version(self.name, self.high, self.low, "multilingual-e5-small-q4")

    def score(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.embed(list(texts))
        high = self.embed(list(self.high)).mean(axis=0)
        low = self.embed(list(self.low)).mean(axis=0)
        return vectors @ high - vectors @ low


RATER_NAMES = ("rules", "lexical", "e5_prototype")


def build_raters(
    names: Sequence[str], embed: Callable[[Sequence[str]], np.ndarray] | None = None
) -> list[Rater]:
    """The raters named, in order; ``embed`` (texts → unit vectors) for embedding raters."""
    out: list[Rater] = []
    for name in names:
        if name == "rules":
            out.append(RuleRater())
        elif name == "lexical":
            out.append(LexicalRater())
        elif name == "e5_prototype":
            if embed is None:
                raise ValueError("the e5_prototype rater needs an embed function")
            out.append(PrototypeRater(embed))
        else:
            raise ValueError(f"unknown rater {name!r}; known: {RATER_NAMES}")
    return out


def rate(texts: Sequence[str], raters: Sequence[Rater]) -> dict[str, np.ndarray]:
    """``{rater name: scores}`` for English ``texts``."""
    return {r.name: np.asarray(r.score(texts), dtype=float) for r in raters}
