"""A language-mix cell: token shares drawn exactly, one short run, aligned scores, resume."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from models.language_mix import cell
from models.pretrain.corpus import Corpus
from tests.corpus import write_aligned_items
from thresher.entrypoint import BadInput


def test_part_targets_split_the_budget_by_both_shares():
    assert cell.part_targets(0.75, 0.2, "zh", 1000) == {"en": 600, "zh": 200, "parallel": 200}
    assert cell.part_targets(1.0, 0.0, "zh", 1000) == {"en": 1000, "zh": 0, "parallel": 0}
    assert sum(cell.part_targets(0.33, 0.17, "de", 12_345).values()) == 12_345


def test_a_part_is_drawn_in_whole_documents_until_its_target():
    tokens = np.asarray([10, 20, 30, 40])
    copies = cell.draw_part(tokens, 45, seed=1, part=0)
    drawn = int((tokens * copies).sum())
    assert set(copies) <= {0, 1}
    # whole documents: at least the target, short of it without the last one taken
    assert drawn >= 45 and drawn - tokens[copies > 0].max() < 45
    # a part smaller than its share is taken whole once per full pass, then a prefix again
    copies = cell.draw_part(tokens, 250, seed=1, part=0)
    assert copies.min() == 2 and int((tokens * copies).sum()) >= 250
    assert cell.draw_part(tokens, 0, seed=1, part=0).sum() == 0
    assert np.array_equal(cell.draw_part(tokens, 45, 1, 0), cell.draw_part(tokens, 45, 1, 0))


def test_the_corpus_follows_the_shares_and_keeps_held_out_text_out():
    rng = np.random.default_rng(0)
    languages = ["en"] * 200 + ["de"] * 200 + ["en-de"] * 100
    tokens = rng.integers(20, 80, size=len(languages))
    validation = np.zeros(len(languages), bool)
    validation[[0, 1, 200, 201]] = True
    pool = Corpus(
        texts=[f"doc {i}" for i in range(len(languages))],
        languages=languages,
        domains=["d"] * len(languages),
        copies=np.ones(len(languages), np.int64),
        validation=validation,
    )

    corpus, parts = cell.draw_corpus(pool, tokens, 0.25, 0.2, "de", 5000, seed=3)

    for part, share in (("en", 0.8 * 0.25), ("de", 0.8 * 0.75), ("parallel", 0.2)):
        assert parts[part]["target_tokens"] == pytest.approx(5000 * share, abs=1)
        # whole documents overshoot a part by less than one document
        assert 0 <= parts[part]["tokens"] - parts[part]["target_tokens"] < 80
    assert corpus.validation.sum() == 4 and (corpus.copies[corpus.validation] == 0).all()
    assert parts["en"]["epochs"] < 1


def test_a_share_with_no_documents_is_bad_input():
    pool = Corpus(["a", "b"], ["en", "en"], ["d", "d"], np.ones(2, np.int64), np.zeros(2, bool))
    with pytest.raises(BadInput, match="no 'en-de' training documents"):
        cell.draw_corpus(pool, np.asarray([5, 5]), 1.0, 0.5, "de", 100, seed=1)


def test_the_summary_reads_each_task_and_mlc_against_english():
    def task(en, de, mlc):
        pair = {"mlc": mlc, "rel_mlc": None if mlc is None else mlc / ((en + de) / 2)}
        return {
            "kind": "choice",
            "languages": {"en": {"acc": 0.0, "acc_norm": en}, "de": {"acc_norm": de}},
            "mlc": {"acc_norm": {"vs_reference": {"de": pair}}},
        }

    report = {
        "tasks": {
            "a": task(0.5, 0.25, 0.75),
            "b": task(1.0, 0.75, None),
            "ppl": {"kind": "perplexity", "languages": {"en": {"bits_per_byte": 2.5}}},
        }
    }
    summary = cell.summarise(report, "de")
    assert summary["tasks"]["a"] == {
        "accuracy": {"en": 0.5, "de": 0.25},
        "mlc": 0.75,
        "rel_mlc": pytest.approx(2.0),
    }
    assert summary["tasks"]["b"]["mlc"] is None
    assert summary["tasks"]["ppl"] == {"bits_per_byte": {"en": 2.5}}


def test_a_cell_trains_evaluates_and_a_rerun_resumes(mix_env, tmp_path):
    home, summary = mix_env
    items = write_aligned_items(tmp_path / "items.jsonl")
    args = [
        "--pool",
        summary["path"],
        "--experiment-dir",
        "mix",
        "--language",
        "de",
        "--english-share",
        "0.5",
        "--parallel-share",
        "0.5",
        "--max-steps",
        "2",
        "--sequence-length",
        "32",
        "--batch-size",
        "4",
        "--items",
        str(items),
    ]

    result = cell.main(args)

    assert not result["resumed"] and result["cell"] == "en0.5-par0.5"
    assert result["tokens"] == 2 * 4 * 32
    assert result["parts"]["parallel"]["target_tokens"] == 128
    cloze = result["tasks"]["cloze"]
    assert set(cloze["accuracy"]) == {"en", "de"} and 0 <= cloze["mlc"] <= 1
    assert set(result["val_loss"]) == {"en", "de"}
    assert all(math.isfinite(v) for v in result["val_loss"].values())
    folder = home / "checkpoints" / "mix" / "cells" / "en0.5-par0.5"
    report = json.loads((folder / "mubench" / "metrics.json").read_text())
    assert set(report["tasks"]["cloze"]["languages"]) == {"en", "de"}
    assert Path(result["model"]).parent == folder

    again = cell.main(args)
    assert again["resumed"] and again["tasks"] == result["tasks"]


def test_english_as_the_second_language_is_bad_input(mix_env):
    with pytest.raises(BadInput, match="not en"):
        cell.main(
            [
                "--pool",
                "x",
                "--experiment-dir",
                "mix",
                "--language",
                "en",
                "--english-share",
                "1",
                "--parallel-share",
                "0",
            ]
        )
