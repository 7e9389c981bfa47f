"""When training runs, when a candidate is promoted, what a backfill is asked to do."""

from __future__ import annotations

import pandas as pd
import pytest

from thresher.config import MuRatingSettings
from thresher.model_registry import ModelVersion
from thresher.murating import lifecycle

DAY_MS = lifecycle.DAY_MS


def pairs(label_of_first: float = 0.9) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pair_id": ["p2", "p1"],
            "split": ["train", "held_out"],
            "label": [label_of_first, 0.3],
            "text_a": ["a", "c"],
            "text_b": ["b", "d"],
        }
    )


def test_the_inputs_hash_follows_pairs_and_training_settings_not_row_order():
    config = lifecycle.training_settings(MuRatingSettings())
    base = lifecycle.training_inputs(lifecycle.pairs_fingerprint(pairs()), config)
    shuffled = pairs().iloc[::-1]
    assert lifecycle.training_inputs(lifecycle.pairs_fingerprint(shuffled), config) == base
    relabelled = lifecycle.pairs_fingerprint(pairs(0.8))
    assert lifecycle.training_inputs(relabelled, config) != base
    other = lifecycle.training_settings(MuRatingSettings(), epochs=config.epochs + 1)
    assert lifecycle.training_inputs(lifecycle.pairs_fingerprint(pairs()), other) != base


def test_training_settings_come_from_the_settings_and_only_given_overrides_apply():
    settings = MuRatingSettings(hidden=32, read_tokens=512, epochs=7)
    config = lifecycle.training_settings(settings, backend="", encoder_path=None, epochs=3)
    assert (config.hidden, config.read_tokens, config.epochs) == (32, 512, 3)
    assert config.backend == "embedding_head"  # an empty override keeps the setting
    with pytest.raises(ValueError, match="judge_pairs"):
        lifecycle.training_settings(settings, judge_pairs=10)


def test_settings_that_do_not_train_leave_the_inputs_hash_alone():
    fingerprint = lifecycle.pairs_fingerprint(pairs())
    base = lifecycle.training_inputs(fingerprint, MuRatingSettings())
    assert lifecycle.training_inputs(fingerprint, MuRatingSettings(judge_pairs=7)) == base
    assert lifecycle.training_inputs(fingerprint, MuRatingSettings(dropout=0.2)) != base


def version(number: int, inputs: str, age_days: float, now: int) -> ModelVersion:
    return ModelVersion(
        str(number), "run", int(now - age_days * DAY_MS), {lifecycle.INPUTS_TAG: inputs}
    )


def test_training_runs_only_on_new_inputs_by_age_or_when_forced():
    now = 1_800_000_000_000
    registered = [version(1, "aaa", 10, now), version(2, "bbb", 3, now)]
    decide = lifecycle.decide_training
    assert decide("aaa", [], now_ms=now).act  # nothing registered yet
    assert not decide("aaa", registered, now_ms=now).act  # an older, unpromoted version's too
    assert "version 1" in decide("aaa", registered, now_ms=now).reason
    assert decide("ccc", registered, now_ms=now).act
    assert not decide("bbb", registered, now_ms=now, retrain_days=7).act
    assert decide("bbb", registered, now_ms=now, retrain_days=2).act  # newest is 3 days old
    assert decide("bbb", registered, now_ms=now, force=True).act


def test_a_candidate_is_promoted_only_if_not_worse():
    promote = lifecycle.decide_promotion
    assert promote(0.70, None).act
    assert promote(0.80, 0.80).act and promote(0.81, 0.80).act
    assert not promote(0.79, 0.80).act
    assert promote(0.79, 0.80, tolerance=0.02).act
    assert not promote(float("nan"), 0.5).act
    assert promote(0.1, 0.9, force=True).act


def test_the_backfill_command_covers_the_stale_dates():
    command = lifecycle.rerate_command("3", ["2026-11-05", "2026-11-01", "2026-11-03"])
    assert command == (
        "airflow dags trigger murating_rerate --conf "
        '\'{"version": "3", "from_date": "2026-11-01", "to_date": "2026-11-05"}\''
    )
