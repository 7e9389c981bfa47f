"""The study's summary and the search's report: means over seeds, intervals, paired verdicts."""

from __future__ import annotations

import pytest

from thresher.mixture_search_report import confirmation, seed_noise
from thresher.selection_study import plot_bpb, summarise_arms


def arm_result(arm: str, seed: int, bpb: float) -> dict:
    shares = {"en": {"realised_share": 0.5}, "de": {"realised_share": 0.5}}
    return {
        "arm": arm,
        "seed": seed,
        "status": "finished",
        "bpb_mean": bpb,
        "bpb_by_language": {"en": bpb - 0.1, "de": bpb + 0.1},
        "choice": {"flores_cloze": {"accuracy": 0.3, "chance": 0.25, "mlc": 0.4}},
        "quota": {"realised_tokens": 1000, "languages": shares},
        "epochs": 1.2,
        "documents": 40,
    }


def test_arms_are_summarised_against_random_with_intervals(tmp_path):
    results = [arm_result("random", s, 3.0 + d) for s, d in ((1, 0.0), (2, 0.05), (3, -0.02))]
    results += [
        arm_result("quality_only", s, 2.5 + d) for s, d in ((1, 0.01), (2, 0.03), (3, -0.01))
    ]
    results += [
        arm_result("domain_balanced", s, 3.0 + d) for s, d in ((1, 0.1), (2, -0.1), (3, 0.0))
    ]
    results.append({"arm": "murating", "seed": 1, "status": "skipped", "detail": "no table"})
    arms = summarise_arms(results)
    assert arms["murating"] == {"skipped": "no table"}
    quality = arms["quality_only"]
    assert quality["bpb_mean"] == pytest.approx(2.51) and quality["ci95"] > 0
    assert quality["minus_random"]["verdict"] == "lower" and quality["beyond_intervals"]
    assert quality["bpb_by_language"]["en"]["mean"] == pytest.approx(2.41)
    assert quality["accuracy"]["flores_cloze"]["chance"] == 0.25
    assert arms["domain_balanced"]["minus_random"]["verdict"] == "within noise"
    assert not arms["domain_balanced"]["beyond_intervals"]
    assert plot_bpb(arms, tmp_path / "bpb.png").read_bytes()[:4] == b"\x89PNG"


def test_an_arm_read_before_random_is_still_compared_with_its_interval():
    results = [
        arm_result("quality_only", s, 2.5 + d) for s, d in ((1, 0.01), (2, 0.03), (3, -0.01))
    ]
    results += [arm_result("random", s, 3.0 + d) for s, d in ((1, 0.0), (2, 0.05), (3, -0.02))]
    assert summarise_arms(results)["quality_only"]["beyond_intervals"] is True


def test_seed_noise_and_confirmation():
    proxies = [{"index": k, "seed": 1, "loss": 3.0 + 0.2 * k} for k in range(6)]
    proxies += [
        {"index": 0, "seed": 2, "loss": 3.02},
        {"index": 0, "seed": 3, "loss": 2.98},
        {"index": 1, "seed": 2, "loss": 3.21},
        {"index": 1, "seed": 3, "loss": 3.19},
    ]
    noise = seed_noise(proxies, noise_sets=2)
    assert noise["within_set_std"] == pytest.approx(((0.02**2 + 0.01**2) / 2) ** 0.5)
    assert noise["signal_to_noise"] > 10 and set(noise["sets"]) == {"0", "1"}
    confirm = confirmation(
        [
            {"role": "chosen", "seed": s, "loss": 2.9 + 0.01 * s, "params_version": "c"}
            for s in (1, 2, 3)
        ]
        + [
            {"role": "best_random", "seed": s, "loss": 3.0 + 0.01 * s, "params_version": "b"}
            for s in (1, 2, 3)
        ]
    )
    assert confirm["chosen_minus_best_random"]["mean"] == pytest.approx(-0.1)
    assert confirm["verdict"] == "chosen beats the best random draw beyond seed noise"
