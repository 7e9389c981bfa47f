import numpy as np
import pytest

from thresher.murating.raters import RATER_NAMES, build_raters, lexical_score, rate

RICH = (
    "The cathedral, completed in 1248 after decades of construction, combines Romanesque "
    "foundations with an ambitious Gothic choir. Historians attribute its unusual proportions "
    "to successive architects who reinterpreted the original plans. During the nineteenth "
    "century, restorers replaced weathered sculptures, documented every capital, and rebuilt "
    "the northern tower. Today the building hosts concerts, exhibitions and services, and its "
    "archive preserves medieval manuscripts describing the guilds that financed the work. "
    "Scholars continue to debate how the masons calculated the vaults without modern tools."
)
POOR = "ok ok ok. yes. ok yes ok."


def fake_embed(texts):
    """Unit vectors whose first axis is 'informative' for long, varied text."""
    out = np.zeros((len(texts), 4), dtype=np.float32)
    for i, t in enumerate(texts):
        out[i, 0] = len(set(t.split())) / 10
        out[i, 1] = 1.0
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_every_rater_scores_a_rich_paragraph_above_chatter():
    raters = build_raters(RATER_NAMES, fake_embed)
    scores = rate([RICH, POOR], raters)
    assert set(scores) == set(RATER_NAMES)
    for name, values in scores.items():
        assert values.shape == (2,) and values[0] > values[1], name
    assert scores["rules"].min() >= 0 and scores["rules"].max() <= 1


def test_rater_versions_are_stable_and_distinct():
    first = [r.version for r in build_raters(RATER_NAMES, fake_embed)]
    again = [r.version for r in build_raters(RATER_NAMES, fake_embed)]
    assert first == again and len(set(first)) == 3


def test_an_unknown_rater_or_a_missing_encoder_is_refused():
    with pytest.raises(ValueError, match="unknown rater"):
        build_raters(["stars"])
    with pytest.raises(ValueError, match="embed"):
        build_raters(["e5_prototype"])


def test_lexical_score_is_bounded_and_empty_text_scores_zero():
    assert lexical_score("") == 0.0
    assert 0 < lexical_score(RICH) <= 1
