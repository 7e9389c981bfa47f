"""The grid summary: spreads over seeds, paired gains with Student-t intervals, the plot."""

from __future__ import annotations

import pytest

from models.poso import summary


def result(model: str, seed: int, new: float, regular: float) -> dict:
    groups = {
        "overall": {"gauc": (new + regular) / 2, "auc": 0.7, "events": 1000, "gauc_users": 290},
        "new": {"gauc": new, "auc": 0.6, "events": 2000, "gauc_users": 220},
        "regular": {"gauc": regular, "auc": 0.7, "events": 8000, "gauc_users": 150},
    }
    counts = {"new": {"users": 240, "events": 2000}, "regular": {"users": 160, "events": 8000}}
    return {
        "model": model,
        "seed": seed,
        "test": groups,
        "epochs": 5,
        "wall_s": 10.0,
        "groups": {"test": {"new_share": 0.2, **counts}},
    }


# (model, seed, new-user GAUC, regular-user GAUC)
GRID = [
    ("baseline", 1, 0.60, 0.70),
    ("baseline", 2, 0.62, 0.71),
    ("baseline", 3, 0.61, 0.69),
    ("poso_mlp", 1, 0.63, 0.71),
    ("poso_mlp", 2, 0.66, 0.70),
    ("poso_mlp", 3, 0.64, 0.69),
    ("mmoe", 1, 0.60, 0.70),
    ("mmoe", 2, 0.61, 0.70),
    ("mmoe", 3, 0.62, 0.70),
    ("poso_mmoe", 1, 0.59, 0.69),
    ("poso_mmoe", 2, 0.60, 0.69),
    ("poso_mmoe", 3, 0.61, 0.69),
    # New users gain, regular users lose beyond the interval: not the paper's direction.
    ("poso_mha", 1, 0.63, 0.68),
    ("poso_mha", 2, 0.65, 0.69),
    ("poso_mha", 3, 0.64, 0.67),
]
RESULTS = [result(*row) for row in GRID]


def test_spread_uses_the_sample_deviation_and_t_with_n_minus_1_degrees():
    s = summary.spread([0.03, 0.04, 0.03])
    assert s["mean"] == pytest.approx(0.033333, abs=1e-6)
    assert s["std"] == pytest.approx(0.0057735, abs=1e-6)
    assert s["ci95"] == pytest.approx(4.303 * 0.0057735 / 3**0.5, abs=1e-6)
    assert summary.spread([0.5])["ci95"] is None


def test_gains_are_paired_by_seed_and_judged_by_their_interval():
    out = summary.summarise(RESULTS)
    gain = out["improvements"]["poso_mlp_vs_baseline"]
    assert gain["seeds"] == [1, 2, 3]
    assert gain["new"]["values"] == pytest.approx([0.03, 0.04, 0.03])
    assert gain["new"]["verdict"] == "improves"
    assert gain["regular"]["values"] == pytest.approx([0.01, -0.01, 0.0])
    assert gain["regular"]["verdict"] == "within noise"
    # POSO(MMoE) is judged against its plain twin, MMoE, and against the baseline.
    twin = out["improvements"]["poso_mmoe_vs_mmoe"]
    assert (twin["role"], twin["regular"]["verdict"]) == ("twin", "worse")
    assert out["improvements"]["poso_mmoe_vs_baseline"]["role"] == "baseline"
    assert out["improvements"]["poso_mha_vs_baseline"]["role"] == "twin"
    assert out["models"]["baseline"]["gauc_new"]["mean"] == pytest.approx(0.61)
    assert out["groups"]["test"]["new_share"] == 0.2


def test_the_verdict_wants_new_users_to_gain_and_regular_users_to_lose_nothing():
    verdicts = summary.summarise(RESULTS)["verdicts"]
    assert verdicts["poso_mlp"] == {
        "twin": "baseline",
        "new": "improves",
        "regular": "within noise",
        "helps_new_users": True,
    }
    assert verdicts["poso_mha"]["new"] == "improves" and verdicts["poso_mha"]["regular"] == "worse"
    assert verdicts["poso_mha"]["helps_new_users"] is False
    assert verdicts["poso_mmoe"]["twin"] == "mmoe" and not verdicts["poso_mmoe"]["helps_new_users"]
    assert set(verdicts) == {"poso_mlp", "poso_mmoe", "poso_mha"}  # twins only, not mmoe


def test_what_each_split_scores_is_reported():
    scored = summary.summarise(RESULTS)["scored"]
    assert scored["test"]["new"] == {"events": 2000, "users": 240, "gauc_users": 220}
    assert scored["test"]["regular"]["gauc_users"] == 150


def test_table_and_plot(tmp_path):
    out = summary.summarise(RESULTS)
    table = summary.markdown_table(out)
    assert "| poso_mlp | baseline (twin) | " in table and "(improves)" in table
    rows = [line for line in table.splitlines() if "(twin)" in line or "(baseline)" in line]
    assert [r.split(" | ")[0] for r in rows[:3]] == ["| poso_mlp", "| poso_mmoe", "| poso_mha"]
    png = summary.plot(out, tmp_path / "gain.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
