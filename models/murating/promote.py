"""Promotion: a trained candidate takes the champion alias only if it is not worse.

``python -m models.murating.promote --candidate <version> [--force]`` reads the held-out
pairs of the pair set (``silver.murating_pairs``, with ``deltalake``), scores their documents
with the candidate and with the current champion, and compares their pairwise accuracy on
the decided non-parallel pairs (``models.murating.evaluate``) — the same pairs for both.
``thresher.murating.lifecycle.decide_promotion`` decides (no champion yet: promote); the
alias moves only on "promote". Both accuracies, the decision and its reason are logged to an
MLflow run (``murating/promote/<candidate>``) and as tags of the candidate version, so the
registry page of each version says why it is or is not the champion. ``--force`` promotes
whatever the comparison says (a rollback to an older version, say), logged as forced.

A champion trained on other pairs may have seen some of these held-out units in training
(its accuracy is then optimistic and the candidate has to beat it): the comparison is fair
when both were trained with the same held-out split (``murating.held_out_fraction``, seed).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

import numpy as np

from models.murating.evaluate import decided_pairs, json_safe
from models.murating.head import load_rater, score_texts
from models.murating.registry import champion, resolve
from models.murating.train import HELD_OUT, documents_of, read_pairs
from thresher import model_registry
from thresher.config import Settings
from thresher.entrypoint import BadInput, open_tracker, run_entry_point
from thresher.murating import lifecycle
from thresher.murating.embeddings import cache_folder
from thresher.tables import SILVER_MURATING_PAIRS

log = logging.getLogger(__name__)


def held_out_accuracy(settings: Settings, version: str, pairs) -> dict:
    """Pairwise accuracy of registered ``version`` on ``pairs`` (overall and per source)."""
    folder, _ = resolve(settings, version=version)
    rater = load_rater(folder, cache_folder(settings), settings.murating.encoder_runtime)
    docs = documents_of(pairs)
    scores = dict(zip(docs["doc_key"], score_texts(rater, docs["text"].tolist()), strict=True))
    frame = decided_pairs(
        pairs, pairs["doc_a"].map(scores), pairs["doc_b"].map(scores), settings.murating.margin
    )
    return {
        "overall": float(frame["correct"].mean()) if len(frame) else float("nan"),
        "pairs": int(len(frame)),
    }


def main(argv: Sequence[str]) -> dict:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(prog="python -m models.murating.promote")
    parser.add_argument("--candidate", required=True, help="a registered version of the rater")
    parser.add_argument("--pairs", default="", help="default: silver.murating_pairs of the lake")
    parser.add_argument("--force", action="store_true", help="promote without the comparison")
    args = parser.parse_args(argv)
    if not args.candidate.isdigit():
        raise BadInput(f"--candidate must be a registry version number, got {args.candidate!r}")
    config = settings.murating
    before = champion(settings)
    pairs = read_pairs(args.pairs or SILVER_MURATING_PAIRS.path(settings), config.pair_set)
    held_out = pairs[pairs["split"] == HELD_OUT].reset_index(drop=True)
    if held_out.empty and not args.force:
        raise BadInput(f"pair set {config.pair_set!r} has no held-out pairs to compare on")
    candidate = held_out_accuracy(settings, args.candidate, held_out) if len(held_out) else {}
    incumbent = None
    if before is not None and before != args.candidate and len(held_out):
        incumbent = held_out_accuracy(settings, before, held_out)
    decision = lifecycle.decide_promotion(
        candidate.get("overall", float("nan")),
        incumbent["overall"] if incumbent else None,
        config.promotion_tolerance,
        args.force,
    )
    if before == args.candidate:
        decision = lifecycle.Decision(False, f"version {before} is already the champion")
    if decision.act:
        model_registry.set_alias(settings, config.model_name, config.champion_alias, args.candidate)
    after = args.candidate if decision.act else before
    word = "promoted" if decision.act else "not promoted"
    model_registry.tag_version(
        settings,
        config.model_name,
        args.candidate,
        {lifecycle.PROMOTION_TAG: f"{word}: {decision.reason}"},
    )
    tracker = open_tracker(
        settings, f"murating/promote/{args.candidate}", f"murating promote {args.candidate}"
    )
    tracker.log_params(
        {
            "promotion.candidate": args.candidate,
            "promotion.champion_before": before or "",
            "promotion.decision": word,
            "promotion.reason": decision.reason,
            "promotion.tolerance": config.promotion_tolerance,
        }
    )
    metrics = {
        "promotion.candidate_accuracy": candidate.get("overall", float("nan")),
        "promotion.held_out_pairs": candidate.get("pairs", 0),
        "promotion.promoted": float(decision.act),
    }
    if incumbent:
        metrics["promotion.champion_accuracy"] = incumbent["overall"]
    tracker.log_metrics({k: v for k, v in metrics.items() if np.isfinite(v)}, step=0)
    tracker.finish()
    log.info("candidate %s %s (%s); champion is %s", args.candidate, word, decision.reason, after)
    return json_safe(
        {
            "candidate": args.candidate,
            "champion_before": before,
            "champion": after,
            "promoted": decision.act,
            "reason": decision.reason,
            "candidate_accuracy": candidate,
            "champion_accuracy": incumbent,
        }
    )


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    run_entry_point(main)
