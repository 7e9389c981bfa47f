"""The experiments' declarations: valid order, importable entries, the mapped tasks they make."""

from __future__ import annotations

import importlib
import importlib.util

import pytest

from thresher import experiments as ex
from thresher.config import Settings


def ref(step: str, key: str) -> str:
    return f"<{step}.{key}>"


@pytest.mark.parametrize("experiment", list(ex.EXPERIMENTS.values()), ids=list(ex.EXPERIMENTS))
def test_every_step_names_an_entry_that_exists(experiment):
    for step in experiment.steps:
        if step.kind == ex.MODEL:
            assert importlib.util.find_spec(step.entry) is not None, step.entry
            assert callable(ex.import_entry(step.arguments))
        else:
            module, _, function = step.entry.partition(":")
            assert hasattr(importlib.import_module(module), function), step.entry


def test_the_search_maps_its_proxies_seed_repeats_and_confirmations():
    settings = Settings.from_env(
        {
            "THRESHER_MIXTURE_SEARCH_PROXIES": "5",
            "THRESHER_MIXTURE_SEARCH_NOISE_SETS": "2",
            "THRESHER_MIXTURE_SEARCH_SEEDS": "3",
        }
    )
    proxies = ex.MIXTURE_SEARCH.step("proxy").argument_lists(settings, ref)
    runs = [(a[a.index("--index") + 1], a[a.index("--seed") + 1]) for a in proxies]
    assert runs == [(str(k), "1") for k in range(5)] + [
        ("0", "2"),
        ("0", "3"),
        ("1", "2"),
        ("1", "3"),
    ]
    assert sum("--curve" in a for a in proxies) == 1 and "--curve" in proxies[0]
    assert all(a[a.index("--features") + 1] == "<features.path>" for a in proxies)
    confirm = ex.MIXTURE_SEARCH.step("confirm").argument_lists(settings, ref)
    assert [a[a.index("--params") + 1] for a in confirm] == (
        ["<choose.params_path>"] * 3 + ["<choose.best_proxy_params_path>"] * 3
    )
    (tokenizer,) = ex.MIXTURE_SEARCH.step("tokenizer").argument_lists(settings, ref)
    assert tokenizer[tokenizer.index("--vocab-size") + 1] == str(settings.proxy.vocab_size)


def test_the_study_maps_every_arm_and_seed():
    settings = Settings.from_env(
        {"THRESHER_SELECTION_ARMS": "random,quality_only", "THRESHER_SELECTION_SEEDS": "3"}
    )
    arms = ex.SELECTION_STUDY.step("arm").argument_lists(settings, ref)
    assert [(a[a.index("--arm") + 1], a[a.index("--seed") + 1]) for a in arms] == [
        ("random", "1"),
        ("random", "2"),
        ("random", "3"),
        ("quality_only", "1"),
        ("quality_only", "2"),
        ("quality_only", "3"),
    ]
    assert ex.SELECTION_STUDY.step("arm").pool_name(settings) == "default_pool"


def test_the_language_mix_maps_one_cell_per_grid_point_and_passes_no_hyperparameters():
    grid = {"ENGLISH_SHARES": "0.9,0.1", "PARALLEL_SHARES": "0,0.25", "VOCAB_SIZE": "512"}
    settings = Settings.from_env({f"THRESHER_LANGUAGE_MIX_{k}": v for k, v in grid.items()})
    cells = ex.LANGUAGE_MIX.step("cell").argument_lists(settings, ref)
    shares = [
        (a[a.index("--english-share") + 1], a[a.index("--parallel-share") + 1]) for a in cells
    ]
    assert shares == [("0.9", "0"), ("0.9", "0.25"), ("0.1", "0"), ("0.1", "0.25")]
    for arguments in cells:
        assert arguments[arguments.index("--language") + 1] == "<pool.language>"
        assert arguments[arguments.index("--parent-run-id") + 1] == "<open.run_id>"
        # the model, the run and the evaluation come from the settings the task receives
        assert not {"--max-steps", "--size", "--items", "--seed"} & set(arguments)
    (tokenizer,) = ex.LANGUAGE_MIX.step("tokenizer").argument_lists(settings, ref)
    assert tokenizer == [
        "--corpus",
        "<pool.path>",
        "--output",
        "<pool.experiment_dir>/tokenizer",
        "--vocab-size",
        "512",
    ]
    assert ex.LANGUAGE_MIX.step("cell").pool_name(settings) == "default_pool"


def test_the_folder_of_an_experiment_changes_with_what_changes_its_results():
    base = Settings()
    folder = ex.experiment_dir("mixture_search", base, "default", "f" * 16)
    assert folder.startswith("mixture_search/default/ffffffffffffffff-")
    for changed in (
        {"THRESHER_PROXY_MAX_STEPS": "999"},
        {"THRESHER_HELDOUT_LIMIT": "5"},
        {"THRESHER_MIXTURE_LANGUAGE_POLICY": "uniform"},
        {"THRESHER_LANGUAGES": "en,de"},
    ):
        assert (
            ex.experiment_dir("mixture_search", Settings.from_env(changed), "default", "f" * 16)
            != folder
        )
    same = Settings.from_env({"THRESHER_SELECTION_SEEDS": "5"})  # more seeds: the same arms
    assert ex.experiment_dir("mixture_search", same, "default", "f" * 16) == folder


def test_a_declaration_out_of_order_is_refused():
    with pytest.raises(ValueError, match="after"):
        ex.Experiment("bad", (ex.Step("b", ex.DRIVER, "m:f", "", after=("a",)),))
    with pytest.raises(ValueError, match="arguments"):
        ex.Experiment("bad", (ex.Step("m", ex.MODEL, "models.x", ""),))


def test_run_params_default_to_the_settings_and_refuse_what_their_pattern_does_not_match():
    settings = Settings.from_env({"THRESHER_LANGUAGE_MIX_LANGUAGE": "de"})
    assert ex.LANGUAGE_MIX.run_params(settings) == {"mixture": "default", "language": "de"}
    given = ex.LANGUAGE_MIX.run_params(settings, {"language": "zh"})
    assert given == {"mixture": "default", "language": "zh"}
    with pytest.raises(ValueError, match="language"):
        ex.LANGUAGE_MIX.run_params(settings, {"language": "zh; rm -rf"})
    with pytest.raises(ValueError, match="mixture"):
        ex.SELECTION_STUDY.run_params(settings, {"mixture": "../gold"})
    with pytest.raises(ValueError, match="no params"):
        ex.SELECTION_STUDY.run_params(settings, {"final_mixture": "x"})
