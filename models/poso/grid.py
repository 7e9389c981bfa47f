"""The POSO grid, declared once: its cells (model × seed), each cell's training arguments and
the plain twin every POSO variant is judged against.

The DAG (``dags/poso.py``) turns each cell into a model task and ``make bench-poso``
(``bench/poso.py``) runs the same cells one after another; both take the grid from
``PosoSettings`` (``THRESHER_POSO_MODELS`` × seeds 1..``THRESHER_POSO_SEEDS``) and the
arguments from ``training_arguments``, so the two cannot drift apart.

Twins (the paper's comparison, each POSO module against the same network without it):
POSO(MLP) and POSO(MHA) against ``baseline`` — whose tower is the plain MLP and whose history
pooling is the plain multi-head attention, so it is the plain twin of both — and POSO(MMoE)
against ``mmoe``.
"""

from __future__ import annotations

from dataclasses import dataclass

from thresher.config import PosoSettings

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


def training_arguments(
    cell: Cell,
    poso: PosoSettings,
    *,
    events: str,
    output: str,
    run_key: str,
    parent_run_id: str,
    date: str,
    threads: int | None = None,
) -> list[str]:
    """``python -m models.poso.train`` arguments of one cell (values or Airflow templates)."""
    return [
        "--events",
        events,
        "--model",
        cell.model,
        "--seed",
        str(cell.seed),
        "--output",
        output,
        "--max-epochs",
        str(poso.max_epochs),
        "--patience",
        str(poso.patience),
        "--learning-rate",
        str(poso.learning_rate),
        "--gate-scale",
        str(poso.gate_scale),
        "--date",
        date,
        "--run-key",
        run_key,
        "--parent-run-id",
        parent_run_id,
        "--experiment",
        poso.experiment,
        *(["--threads", str(threads)] if threads else []),
    ]
