"""The language-mix experiment's bookkeeping: its folder, its parent MLflow run, its table.

The cells (``models.language_mix.cell``) train and evaluate; this module names where they
write, opens the MLflow run they log under (the ``open`` step of
``thresher.experiments.LANGUAGE_MIX``), and turns their results into the table the study is
for (its ``results`` step): one row per (english_share, parallel_share), accuracy per
language, MLC and Rel-MLC against English per choice task, bits per byte per perplexity task,
validation loss per language. The table is logged to the parent run as
``language_mix/results.json`` (the rows), ``results.csv`` and ``results.md``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

ENGLISH = "en"


@dataclass(frozen=True)
class CellTraining:
    """What makes two cells comparable: the same model, run, language and evaluation."""

    language: str
    size: str
    max_steps: int
    sequence_length: int
    batch_size: int
    learning_rate: float
    vocab_size: int
    seed: int
    items: str
    eval_limit: int
    variant: str

    @classmethod
    def from_settings(cls, settings, language: str | None = None) -> CellTraining:
        """The fields of ``settings.language_mix`` of the same names (``language`` if given)."""
        mix = settings.language_mix
        values = {f.name: getattr(mix, f.name) for f in dataclasses.fields(cls)}
        return cls(**{**values, "language": language or mix.language})

    def key(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:8]


def experiment_dir(name: str, fingerprint: str, training: CellTraining) -> str:
    """Relative folder of one experiment: its pool's fingerprint and the cells' training.

    Everything that changes a cell's result is in the path, so a re-run (or a larger grid)
    finds the finished cells of every earlier run of the same experiment there.
    """
    return f"language_mix/{name}/{training.language}/{fingerprint}-{training.key()}"


def experiment_settings(settings):
    """``settings`` logging to the language-mix experiment (its declaration's tracking)."""
    from thresher.experiments import LANGUAGE_MIX

    return LANGUAGE_MIX.tracking_settings(settings)


def open_experiment(ctx) -> dict:
    """The ``open`` step of ``thresher.experiments.LANGUAGE_MIX``: the run's parent MLflow run
    (found again by the run's key), named after the experiment's folder, with its grid."""
    from thresher import tracking

    settings = experiment_settings(ctx.settings)
    mix = settings.language_mix
    pool = ctx.outputs["pool"]
    name = f"{ctx.experiment} {pool['experiment_dir'].rsplit('/', 1)[-1]}"
    tags = {"thresher.experiment": ctx.experiment, **ctx.tags}
    run_id = tracking.open_run(settings, ctx.run_key, name, tags)
    logged = tracking.client(settings).get_run(run_id).data.params
    fresh = {
        "language_mix.language": pool["language"],
        "language_mix.english_shares": ",".join(f"{v:g}" for v in mix.english_shares),
        "language_mix.parallel_shares": ",".join(f"{v:g}" for v in mix.parallel_shares),
        "language_mix.dir": pool["experiment_dir"],
        "language_mix.pool_fingerprint": pool["fingerprint"],
    }
    fresh = {k: v for k, v in fresh.items() if k not in logged}  # a retry logs nothing twice
    if fresh:
        tracking.log_params(settings, run_id, fresh)
    tracking.log_json(settings, run_id, pool["documents"], "language_mix/pool_documents.json")
    return {"run_id": run_id, "cells": len(mix.grid)}


def close_experiment(ctx) -> dict:
    """The ``results`` step: the table over the cells' results, on the parent run."""
    language = ctx.outputs["pool"]["language"]
    return close_experiment_run(
        ctx.settings, ctx.outputs["open"]["run_id"], ctx.outputs["cell"], language
    )


def results_table(cells: Iterable[Mapping], language: str) -> list[dict]:
    """One flat row per cell, sorted by English share (descending) then parallel share.

    Columns: the two knobs; per choice task ``<task>.acc_en``, ``<task>.acc_<language>``,
    ``<task>.mlc``, ``<task>.rel_mlc``; per perplexity task ``<task>.bpb_<lang>``;
    ``val_loss_<lang>``; ``epochs_<part>``.
    """
    rows = []
    for cell in cells:
        row = {"english_share": cell["english_share"], "parallel_share": cell["parallel_share"]}
        for task, values in cell.get("tasks", {}).items():
            if "bits_per_byte" in values:
                for lang in (ENGLISH, language):
                    row[f"{task}.bpb_{lang}"] = values["bits_per_byte"].get(lang)
                continue
            for lang in (ENGLISH, language):
                row[f"{task}.acc_{lang}"] = values["accuracy"].get(lang)
            row[f"{task}.mlc"] = values["mlc"]
            row[f"{task}.rel_mlc"] = values["rel_mlc"]
        val_loss = cell.get("val_loss", {})
        for lang in (ENGLISH, language):
            row[f"val_loss_{lang}"] = val_loss.get(lang)
        for part, values in cell.get("parts", {}).items():
            row[f"epochs_{part}"] = values["epochs"]
        rows.append(row)
    return sorted(rows, key=lambda r: (-r["english_share"], r["parallel_share"]))


def _cell_text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def markdown(rows: list[dict]) -> str:
    if not rows:
        return "(no finished cells)\n"
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell_text(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def csv_text(rows: list[dict]) -> str:
    import csv
    import io

    if not rows:
        return ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in rows)
    return out.getvalue()


def close_experiment_run(settings, run_id: str, cells: Iterable[Mapping], language: str) -> dict:
    """Log the results table to the parent run and finish it; return the rows."""
    from thresher import tracking

    settings = experiment_settings(settings)
    cells = list(cells)
    rows = results_table(cells, language)
    tracking.log_json(settings, run_id, rows, "language_mix/results.json")
    mlflow = tracking.client(settings)
    mlflow.log_text(run_id, csv_text(rows), "language_mix/results.csv")
    mlflow.log_text(run_id, markdown(rows), "language_mix/results.md")
    tracking.log_metrics(settings, run_id, {"cells": len(rows)})
    tracking.finish_run(settings, run_id)
    return {"run_id": run_id, "rows": rows, "table": markdown(rows)}
