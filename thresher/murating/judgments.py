"""English judgments → unified scores → every language version of a unit, as one frame.

What the bench and the Spark job share: rate each unit's English side with every rater,
aggregate by Bradley–Terry over stratified English pairs, give each language version its
unit's unified score, and mark held-out units. Pure pandas/numpy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from thresher.config import MuRatingSettings
from thresher.murating import bradley_terry
from thresher.murating.pairs import percentile_ranks, stratified_pairs
from thresher.murating.raters import Rater, rate
from thresher.murating.units import ENGLISH, ParallelDoc, held_out

HELD_OUT, TRAIN = "held_out", "train"


def documents_frame(docs: Sequence[ParallelDoc]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "doc_key": [d.doc_key for d in docs],
            "unit_id": [d.unit_id for d in docs],
            "language": [d.language for d in docs],
            "source": [d.source for d in docs],
            "text": [d.text for d in docs],
        }
    ).drop_duplicates("doc_key", ignore_index=True)


def unify(
    scores: Mapping[str, np.ndarray],
    config: MuRatingSettings,
    judged: Mapping[str, bradley_terry.Comparisons] | None = None,
) -> tuple[np.ndarray, dict[str, float]]:
    """Unified Bradley–Terry scores of the rated documents and the agreement report.

    ``judged``: pairwise raters' judgments (document indices a, b and P(a beats b)).
    """
    n = len(next(iter(scores.values())))
    reference = np.mean([percentile_ranks(s) for s in scores.values()], axis=0)
    rng = np.random.default_rng(config.seed)
    a, b = stratified_pairs(reference, config.aggregation_pairs, rng, config.strata, config.min_gap)
    unified = bradley_terry.aggregate(scores, a, b, config.temperature, config.prior_games, judged)
    report = bradley_terry.agreement_report(scores, unified, a, b, judged)
    report["aggregation.pairs"] = float(len(a))
    report["aggregation.documents"] = float(n)
    return unified, report


def judge(
    docs: pd.DataFrame,
    raters: Sequence[Rater],
    config: MuRatingSettings,
    extra_scores: Mapping[str, Callable[[pd.DataFrame], np.ndarray]] | None = None,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """``docs`` + ``score`` (the unit's unified English score), ``split``, ``english_scores``.

    Units without an English side are dropped: nothing was judged for them.
    """
    english = docs[docs["language"] == ENGLISH].reset_index(drop=True)
    if len(english) < 3:
        raise ValueError(f"need at least 3 English documents to aggregate, got {len(english)}")
    scores = rate(english["text"].tolist(), raters)
    for name, scorer in (extra_scores or {}).items():
        scores[name] = np.asarray(scorer(english), dtype=float)
    unified, report = unify(scores, config)
    per_unit = pd.DataFrame({"unit_id": english["unit_id"], "score": unified})
    per_unit["english_scores"] = [
        {name: float(values[i]) for name, values in scores.items()} for i in range(len(english))
    ]
    out = docs.merge(per_unit, on="unit_id", how="inner")
    out["split"] = [
        HELD_OUT if held_out(u, config.held_out_fraction, config.seed) else TRAIN
        for u in out["unit_id"]
    ]
    report["raters.versions"] = {r.name: r.version for r in raters}  # type: ignore[assignment]
    return out.reset_index(drop=True), report
