"""The POSO grid, declared once: its cells (model × seed), each cell's training arguments and
the plain twin every POSO variant is judged against.

The ``train`` step of the declared experiment (``thresher.experiments.POSO``) is one model task
per cell, with the arguments of ``cell_arguments``; its executors — the ``poso`` DAG and
``make bench-poso`` — take the grid from ``PosoSettings`` (``THRESHER_POSO_MODELS`` × seeds
1..``THRESHER_POSO_SEEDS``) through it, so the two cannot drift apart.

Twins (the paper's comparison, each POSO module against the same network without it):
POSO(MLP) and POSO(MHA) against ``baseline`` — whose tower is the plain MLP and whose history
pooling is the plain multi-head attention, so it is the plain twin of both — and POSO(MMoE)
against ``mmoe``.
"""

from __future__ import annotations

from dataclasses import dataclass

from thresher.config import PosoSettings, Settings

# The pairs the verdict is about: variant → its plain twin (``networks.MODELS`` builds each
# variant so that it equals its twin when every gate is 1). No torch here: the DAG imports
# this module when it is parsed.
TWINS = {"poso_mlp": "baseline", "poso_mmoe": "mmoe", "poso_mha": "baseline"}


@dataclass(frozen=True)
class Cell:
    model: str
    seed: int

    @property
    def name(self) -> str:
        return f"{self.model}_s{self.seed}"


def cells(poso: PosoSettings) -> list[Cell]:
    """Every (model, seed) of the grid, model by model."""
    return [Cell(model, seed) for model in poso.models for seed in range(1, poso.seeds + 1)]


def twins_in(models: tuple[str, ...] | list[str]) -> dict[str, str]:
    """The variant → twin pairs the grid can judge (both trained)."""
    return {v: t for v, t in TWINS.items() if v in models and t in models}


def cell_arguments(settings: Settings, ref) -> list[list[str]]:
    """The ``train`` step of ``thresher.experiments.POSO``: ``python -m models.poso.train``
    arguments of every cell. They name the cell and where its inputs, checkpoints and runs are
    (``ref(step, key)``: an earlier step's result); its hyperparameters are ``settings.poso``,
    which every model task receives."""
    # Local processes share the worker's cores (measured: 2 threads on 2 busy cores ran an
    # epoch 5-20x slower than 1); a pod has its own.
    threads = ["--threads", "1"] if settings.executor == "local" else []
    return [
        [
            "--events",
            ref("events", "export_path"),
            "--model",
            cell.model,
            "--seed",
            str(cell.seed),
            "--output",
            f"{ref('open', 'output_dir')}/{cell.name}",
            "--run-key",
            f"{ref('open', 'run_key')}/{cell.name}",
            "--parent-run-id",
            ref("open", "run_id"),
            "--date",
            ref("events", "partition"),
            *threads,
        ]
        for cell in cells(settings.poso)
    ]
