"""The rater's lifecycle: when to train, when a candidate becomes champion, how dates re-rate.

- **Training** runs when its inputs change: the training pairs (their ids, labels, split and
  texts — which carry the English raters' versions and the parallel sources), the training
  settings, or the DAG's overrides. ``training_inputs`` hashes them; a registered version
  carries the hash in its ``thresher.training_inputs`` tag, and ``decide_training`` skips
  training when any version (promoted or not) was trained on the same inputs — unless the
  newest is older than ``retrain_days`` or the run forces it.
- **Promotion** is explicit: ``decide_promotion`` gives the ``champion`` alias to a candidate
  whose held-out pairwise accuracy is not below the champion's (minus a tolerance).
- **Rating** always uses the champion. When the champion changes, dates rated by the old
  one are stale: their re-rating is a backfill (``rerate_command``: DAG ``murating_rerate``).
  Old versions' rows stay in ``silver.quality_scores``, so moving the alias back needs none.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from thresher.config import MuRatingSettings
from thresher.model_registry import ModelVersion

if TYPE_CHECKING:  # the DAG files import this module at parse time: no pandas there
    import pandas as pd

INPUTS_TAG = "thresher.training_inputs"
PAIR_SET_TAG = "thresher.pair_set"
ACCURACY_TAG = "thresher.held_out_pairwise_accuracy"
PROMOTION_TAG = "thresher.promotion"
RERATE_DAG = "murating_rerate"
DAY_MS = 86_400_000


# The settings that train a rater (MuRatingSettings declares them): what ``training_inputs``
# hashes, a DAG run may override and a training run logs.
TRAINING_FIELDS = (
    "backend",
    "epochs",
    "batch_size",
    "learning_rate",
    "weight_decay",
    "seed",
    "hidden",
    "dropout",
    "max_chars",
    "read_tokens",
    "chunk_tokens",
    "encoder_path",
    "encoder_runtime",
    "max_length",
    "margin",
)


def training_settings(config: MuRatingSettings, **overrides) -> MuRatingSettings:
    """The settings with some training settings replaced (a DAG run's params); ``None`` and
    ``""`` keep the setting."""
    unknown = set(overrides) - set(TRAINING_FIELDS)
    if unknown:
        raise ValueError(f"unknown training settings {sorted(unknown)}")
    return dataclasses.replace(
        config, **{k: v for k, v in overrides.items() if v not in (None, "")}
    )


def training_values(config: MuRatingSettings) -> dict:
    """The training settings by name."""
    return {name: getattr(config, name) for name in TRAINING_FIELDS}


def pairs_fingerprint(pairs: pd.DataFrame) -> str:
    """A hash of what training learns from: every pair's id, split, label and both texts."""
    columns = ["pair_id", "split", "label", "text_a", "text_b"]
    frame = pairs[columns].sort_values("pair_id", kind="stable")
    digest = hashlib.sha256()
    for row in frame.itertuples(index=False):
        digest.update(f"{row.pair_id}|{row.split}|{row.label:.6f}|".encode())
        digest.update(hashlib.sha256(f"{row.text_a}\x00{row.text_b}".encode()).digest())
    return digest.hexdigest()[:16]


def training_inputs(pairs_hash: str, config: MuRatingSettings) -> str:
    """The hash a registered version is tagged with: its pairs and its training settings."""
    blob = json.dumps({"pairs": pairs_hash, "train": training_values(config)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Decision:
    act: bool
    reason: str


def decide_training(
    inputs: str,
    registered: Sequence[ModelVersion],
    *,
    now_ms: int,
    retrain_days: int = 0,
    force: bool = False,
) -> Decision:
    """Whether a run trains, and why (for the task log and the run's XCom)."""
    if force:
        return Decision(True, "training forced by the run's params")
    if not registered:
        return Decision(True, "no registered version yet")
    newest = max(registered, key=lambda v: int(v.version))
    if retrain_days and now_ms - newest.created_ms > retrain_days * DAY_MS:
        return Decision(True, f"version {newest.version} is older than {retrain_days} days")
    same = [v.version for v in registered if v.tags.get(INPUTS_TAG) == inputs]
    if same:
        return Decision(False, f"inputs {inputs} unchanged: version {same[-1]} was trained on them")
    return Decision(True, f"inputs changed: no version was trained on {inputs}")


def decide_promotion(
    candidate: float, champion: float | None, tolerance: float = 0.0, force: bool = False
) -> Decision:
    """Promote a candidate whose held-out accuracy is not worse than the champion's."""
    if force:
        return Decision(True, "forced by the operator")
    if champion is None:
        return Decision(True, "no champion yet")
    if math.isnan(candidate):  # nothing was measured
        return Decision(False, "the candidate has no held-out accuracy")
    if candidate >= champion - tolerance:
        return Decision(True, f"accuracy {candidate:.4f} >= champion {champion:.4f} - {tolerance}")
    return Decision(False, f"accuracy {candidate:.4f} < champion {champion:.4f} - {tolerance}")


def rerate_command(version: str, dates: Sequence[str]) -> str:
    """The backfill that re-rates ``dates`` with rater ``version``."""
    conf = json.dumps({"version": version, "from_date": min(dates), "to_date": max(dates)})
    return f"airflow dags trigger {RERATE_DAG} --conf '{conf}'"
