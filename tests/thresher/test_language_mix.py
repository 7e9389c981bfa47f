"""The language-mix table and the experiment's folder."""

from __future__ import annotations

import dataclasses

from thresher import language_mix
from thresher.config import Settings


def _cell(english, parallel, acc_en, acc_de, mlc):
    return {
        "english_share": english,
        "parallel_share": parallel,
        "tasks": {
            "cloze": {"accuracy": {"en": acc_en, "de": acc_de}, "mlc": mlc, "rel_mlc": None},
            "text": {"bits_per_byte": {"en": 1.5, "de": 1.75}},
        },
        "val_loss": {"en": 3.0, "de": 4.0},
        "parts": {"en": {"epochs": 0.5}, "de": {"epochs": 1.5}, "parallel": {"epochs": 0.0}},
    }


def test_the_table_has_one_row_per_cell_in_grid_order():
    cells = [
        _cell(0.1, 0.25, 0.3, 0.6, 0.5),
        _cell(0.9, 0.25, 0.7, 0.4, None),
        _cell(0.9, 0.0, 0.6, 0.3, 0.4),
    ]
    rows = language_mix.results_table(cells, "de")
    assert [(r["english_share"], r["parallel_share"]) for r in rows] == [
        (0.9, 0.0),
        (0.9, 0.25),
        (0.1, 0.25),
    ]
    assert rows[0]["cloze.acc_de"] == 0.3 and rows[2]["epochs_de"] == 1.5
    assert rows[0]["text.bpb_de"] == 1.75
    table = language_mix.markdown(rows).splitlines()
    assert table[0].startswith("| english_share | parallel_share | cloze.acc_en | cloze.acc_de |")
    assert len(table) == 2 + 3 and "| 0.900 | 0.250 | 0.700 | 0.400 | – |" in table[3]
    csv = language_mix.csv_text(rows).splitlines()
    assert len(csv) == 4 and csv[2].startswith("0.9,0.25,0.7,0.4,,")


def test_the_folder_changes_with_anything_that_changes_a_cell():
    settings = Settings()
    base = language_mix.CellTraining.from_settings(settings, "de")
    folder = language_mix.experiment_dir("default", "abc", base)
    assert folder.startswith("language_mix/default/de/abc-")
    longer = dataclasses.replace(base, max_steps=base.max_steps + 1)
    assert language_mix.experiment_dir("default", "abc", longer) != folder
    assert language_mix.experiment_dir("default", "abd", base) != folder
