"""Atomic training checkpoints: the last two are kept, the newest is resumed from."""

from __future__ import annotations

import os
from pathlib import Path

KEEP = 2


def save(folder: Path, step: int, model, optimizer, scheduler) -> Path:
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"step_{step:08d}.pt"
    partial = target.with_suffix(".partial")
    state = {
        "step": step,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
    }
    torch.save(state, partial)
    os.replace(partial, target)  # a crash mid-write never leaves a truncated checkpoint
    for old in sorted(folder.glob("step_*.pt"))[:-KEEP]:
        old.unlink()
    return target


def latest(folder: Path) -> Path | None:
    found = sorted(folder.glob("step_*.pt")) if folder.is_dir() else []
    return found[-1] if found else None


def restore(folder: Path, model, optimizer, scheduler, device) -> int:
    """Load the newest checkpoint into the objects; the step to continue from (0 if none)."""
    import torch

    path = latest(folder)
    if path is None:
        return 0
    state = torch.load(path, map_location=device, weights_only=True)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    print(f"resuming from {path} (step {state['step']})", flush=True)
    return int(state["step"])
