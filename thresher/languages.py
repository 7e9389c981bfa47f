"""Language codes of the shared corpora, mapped to the ISO 639-1 codes the project uses.

``bronze.documents.language`` (fastText lid.176), ``THRESHER_LANGUAGES`` and the evaluation
items all speak ISO 639-1; the corpora in ``../shared/data`` name their files otherwise.
Standard library only, so every runtime can import it.
"""

from __future__ import annotations

# Languages written without spaces between words: they are shingled, counted and split by
# characters, not words (dedup shingles, quality rules, token counts, sentence splits).
CHARACTER_LANGUAGES = frozenset({"zh", "ja", "th", "lo", "km", "my", "bo"})

# SIB-200 folder names (FLORES-200 codes) → ISO 639-1.
FLORES_TO_ISO = {
    "arb_Arab": "ar",
    "deu_Latn": "de",
    "eng_Latn": "en",
    "fra_Latn": "fr",
    "hin_Deva": "hi",
    "ind_Latn": "id",
    "ita_Latn": "it",
    "jpn_Jpan": "ja",
    "kor_Hang": "ko",
    "nld_Latn": "nl",
    "pol_Latn": "pl",
    "por_Latn": "pt",
    "rus_Cyrl": "ru",
    "spa_Latn": "es",
    "tha_Thai": "th",
    "tur_Latn": "tr",
    "vie_Latn": "vi",
    "zho_Hans": "zh",
}

# NTREX-128 file codes (newstest2019-ref.<code>.txt) → ISO 639-1.
NTREX_TO_ISO = {
    "eng-US": "en",
    "zho-CN": "zh",
    "spa": "es",
    "fra": "fr",
    "deu": "de",
    "rus": "ru",
    "jpn": "ja",
    "por": "pt",
    "ita": "it",
    "arb": "ar",
    "kor": "ko",
    "nld": "nl",
    "pol": "pl",
    "vie": "vi",
    "tur": "tr",
    "ind": "id",
    "tha": "th",
    "hin": "hi",
}

# Tatoeba file codes (tatoeba.<code>-eng.<code>) → ISO 639-1: NTREX's ISO 639-3 codes, except
# that Arabic is "ara" and Chinese "cmn" there, and English is every pair's other side.
TATOEBA_TO_ISO = {
    **{code: iso for code, iso in NTREX_TO_ISO.items() if code not in ("eng-US", "zho-CN", "arb")},
    "ara": "ar",
    "cmn": "zh",
}
