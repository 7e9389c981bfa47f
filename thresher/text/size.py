"""The one size unit of the platform: a document's tokens are its UTF-8 bytes.

The sampler weighs documents by it (r̄ is a token-weighted rank), a mixture's quota is
counted in it, every composition report and benchmark adds it up, and models are evaluated
in bits per byte of the same bytes. Word counts (and character counts for languages written
without spaces) are no common unit: a Japanese page counted in characters weighed about
twice its English translation counted in words, so a language's share of a mixture depended
on how its script happened to be counted. A byte is the same unit in every language and for
every label: the count does not depend on which language a document was identified as.

It is not equal information in every script. On the aligned FLORES sentences (SIB-200 dev,
18 languages) a sentence has 0.92× its English bytes in Chinese, 1.18× in German, 1.28× in
Japanese, 1.98× in Russian and 2.6–2.7× in Hindi and Thai; the counts it replaces ranged
from 0.69× (Korean words) to 2.41× (Japanese characters) and 5.31× (Thai characters).
Language shares (``THRESHER_MIXTURE_LANGUAGE_POLICY``) are where a mixture decides how much
of each language it wants, deliberately, in this one unit.
"""

from __future__ import annotations


def byte_tokens(text: str) -> int:
    """The document's size in the sampler's unit: UTF-8 bytes."""
    return len(text.encode("utf-8"))
