"""Train one POSO-grid model on one seed: seeded, resumable, early-stopped on validation GAUC.

    python -m models.poso.train --events PATH --model {baseline,mmoe,poso_mlp,poso_mmoe,poso_mha}
                                --seed N --output DIR [--max-epochs N] [--patience N] ...

The hyperparameters not given as flags are the settings' (``THRESHER_POSO_*``, which a model
task receives whole), so the grid's tasks carry only what tells the cells apart.

``--events`` is the Parquet export ``spark_jobs.movielens`` writes. Every epoch ends with a
checkpoint in ``DIR`` (model, optimizer, every random generator, early-stopping state); a
restarted run resumes from it and ends exactly where an uninterrupted one would. The best
epoch's weights (``best.pt``) are evaluated on valid and test, overall and per user group,
and written to ``DIR/result.json``. Reporting goes through a ``Tracker``: an MLflow run found
by ``--run-key``, the child of ``--parent-run-id`` (``THRESHER_TRACKING_*``;
``THRESHER_TRACKING_TRACKING_URI=off`` for none);
this loop never imports mlflow. Bad input exits with code 2 and a one-line message.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from models.poso import data, metrics
from models.poso.networks import MODELS, NetworkConfig, build_network
from thresher.config import PosoSettings
from thresher.entrypoint import BadInput, Tracker

MONITOR = "valid.overall.gauc"


@dataclass(frozen=True)
class TrainConfig:
    events: str
    model: str
    seed: int
    output: str
    max_epochs: int = 20
    patience: int = 3
    batch_size: int = 512
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    network: NetworkConfig = field(default_factory=NetworkConfig)
    device: str = "auto"
    # torch CPU threads; 0 leaves torch's default.
    threads: int = 0

    def params(self) -> dict[str, object]:
        flat = {k: v for k, v in dataclasses.asdict(self).items() if k != "network"}
        return flat | {f"network.{k}": v for k, v in self.network.as_dict().items()}


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # every device's generator, CUDA included


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


@torch.no_grad()
def predict(model: torch.nn.Module, split: dict, device: torch.device, batch_size: int):
    model.eval()
    out = [torch.sigmoid(model(b)).float().cpu() for b in data.batches(split, batch_size, device)]
    return torch.cat(out).numpy()


def evaluate(model, split: dict, device: torch.device, batch_size: int = 4096) -> dict:
    probabilities = predict(model, split, device, batch_size)
    return metrics.group_metrics(
        split["label"].numpy(), probabilities, split["user_key"].numpy(), split["is_new"].numpy()
    )


def train_epoch(model, optimizer, split, device, batch_size, generator) -> float:
    model.train()
    loss_fn = torch.nn.BCEWithLogitsLoss(reduction="sum")
    total, seen = torch.zeros((), device=device), 0
    for batch in data.batches(split, batch_size, device, generator):
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(batch), batch["label"])
        (loss / len(batch["label"])).backward()
        optimizer.step()
        total += loss.detach()
        seen += len(batch["label"])
    return float(total) / seen


def fingerprint(config: TrainConfig, summary: dict) -> str:
    """What a checkpoint must match to be resumed (not paths, devices or the epoch budget)."""
    free = ("events", "output", "device", "threads", "max_epochs", "patience")
    keep = {k: v for k, v in config.params().items() if k not in free}
    text = json.dumps({"config": keep, "data": summary}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _atomic_save(obj, path: Path) -> None:
    partial = path.with_suffix(".partial")
    torch.save(obj, partial)
    os.replace(partial, path)


def _monitored(valid: dict) -> float:
    overall = valid["overall"]
    value = overall["gauc"] if overall["gauc"] is not None else overall["auc"]
    return float("-inf") if value is None else value


def train(config: TrainConfig, tracker: Tracker | None = None) -> dict:
    tracker = tracker or Tracker()
    if config.model not in MODELS:
        raise BadInput(f"--model must be one of {sorted(MODELS)}, got {config.model!r}")
    started = time.perf_counter()
    if config.threads:
        torch.set_num_threads(config.threads)
    device = pick_device(config.device)
    output = Path(config.output)
    output.mkdir(parents=True, exist_ok=True)
    encoded = data.encode(data.read_events(config.events))
    seed_everything(config.seed)
    model = build_network(config.model, encoded.sizes, config.network).to(device)
    optimizer = torch.optim.Adam(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    shuffle = torch.Generator().manual_seed(config.seed)

    def say(message: str) -> None:
        print(f"[{config.model} s{config.seed}] {message}", flush=True)

    state = {"epoch": 0, "best": float("-inf"), "best_epoch": 0, "bad_epochs": 0, "history": []}
    checkpoint = output / "checkpoint.pt"
    stamp = fingerprint(config, encoded.summary)
    if checkpoint.exists():
        saved = torch.load(checkpoint, map_location=device, weights_only=False)
        if saved["fingerprint"] != stamp:
            raise BadInput(
                f"{checkpoint} was written for another configuration or data "
                f"({saved['fingerprint']} != {stamp}); use a fresh --output"
            )
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        shuffle.set_state(saved["shuffle"])
        torch.set_rng_state(saved["torch_rng"])
        state = saved["state"]
        say(f"resuming after epoch {state['epoch']}")
    tracker.log_params(config.params() | {"data.summary": json.dumps(encoded.summary)})

    while state["epoch"] < config.max_epochs and state["bad_epochs"] < config.patience:
        epoch = state["epoch"] + 1
        tic = time.perf_counter()
        loss = train_epoch(
            model, optimizer, encoded.splits["train"], device, config.batch_size, shuffle
        )
        valid = evaluate(model, encoded.splits["valid"], device)
        score = _monitored(valid)
        if score > state["best"]:
            state.update(best=score, best_epoch=epoch, bad_epochs=0)
            _atomic_save(model.state_dict(), output / "best.pt")
        else:
            state["bad_epochs"] += 1
        state["epoch"] = epoch
        row = {"epoch": epoch, "train.loss": loss, "epoch_s": time.perf_counter() - tic}
        row |= metrics.flatten("valid", valid)
        state["history"].append(row)
        tracker.log_metrics({k: v for k, v in row.items() if k != "epoch"}, step=epoch)
        _atomic_save(
            {
                "fingerprint": stamp,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "shuffle": shuffle.get_state(),
                "torch_rng": torch.get_rng_state(),
                "state": state,
            },
            checkpoint,
        )
        say(f"epoch {epoch}: loss {loss:.4f}, {MONITOR} {row.get(MONITOR, float('nan')):.4f}")

    model.load_state_dict(torch.load(output / "best.pt", map_location=device))
    final = {split: evaluate(model, encoded.splits[split], device) for split in ("valid", "test")}
    result = {
        "model": config.model,
        "seed": config.seed,
        "epochs": state["epoch"],
        "best_epoch": state["best_epoch"],
        "stopped_early": state["bad_epochs"] >= config.patience,
        "monitor": MONITOR,
        "wall_s": round(time.perf_counter() - started, 2),
        "device": str(device),
        "parameters": sum(p.numel() for p in model.parameters()),
        "groups": encoded.summary,
        **final,
        "history": state["history"],
    }
    (output / "result.json").write_text(json.dumps(result, indent=2))
    network = {
        "model": config.model,
        "sizes": dataclasses.asdict(encoded.sizes),
        "network": config.network.as_dict(),
    }
    (output / "network.json").write_text(json.dumps(network))
    (output / "vocab.json").write_text(json.dumps(encoded.vocab))
    summary = metrics.flatten("valid", final["valid"]) | metrics.flatten("test", final["test"])
    tracker.log_metrics(summary | {"best_epoch": state["best_epoch"]}, step=state["epoch"])
    tracker.log_artifact(output / "result.json")
    for name in ("best.pt", "network.json", "vocab.json"):
        tracker.log_artifact(output / name, "model")
    return result


def parse_args(argv, poso: PosoSettings) -> tuple[TrainConfig, argparse.Namespace]:
    """The cell's flags; the hyperparameters not given are ``poso``'s (``THRESHER_POSO_*``)."""
    parser = argparse.ArgumentParser(
        prog="python -m models.poso.train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--events", required=True, help="Parquet export of silver.poso_events")
    add("--model", required=True, choices=sorted(MODELS))
    add("--seed", required=True, type=int)
    add(
        "--output",
        required=True,
        help="checkpoints and results (relative: under THRESHER_CHECKPOINT_ROOT); a rerun resumes",
    )
    add("--max-epochs", type=int, default=poso.max_epochs)
    add("--patience", type=int, default=poso.patience)
    add("--batch-size", type=int, default=TrainConfig.batch_size)
    add("--learning-rate", type=float, default=poso.learning_rate)
    add("--embedding-dim", type=int, default=NetworkConfig.embedding_dim)
    add("--gate-scale", type=float, default=poso.gate_scale, help="C of C·sigmoid(MLP(pc))")
    add("--device", default=TrainConfig.device)
    add("--threads", type=int, default=TrainConfig.threads)
    add("--date", default="", help="the run's partition (recorded only)")
    add("--run-key", default="", help="MLflow run key (default: derived from --output)")
    add("--parent-run-id", default="", help="the grid's MLflow run: this run becomes its child")
    add("--experiment", default=poso.experiment, help="MLflow experiment")
    args = parser.parse_args(argv)
    network = NetworkConfig(embedding_dim=args.embedding_dim, gate_scale=args.gate_scale)
    fields = {f.name for f in dataclasses.fields(TrainConfig)} - {"network"}
    config = TrainConfig(network=network, **{k: v for k, v in vars(args).items() if k in fields})
    if min(config.max_epochs, config.patience, config.batch_size) < 1:
        raise BadInput("--max-epochs, --patience and --batch-size must be >= 1")
    if config.network.gate_scale <= 0:
        raise BadInput(f"--gate-scale must be > 0, got {config.network.gate_scale}")
    return config, args


def main(argv) -> dict:
    from thresher.config import Settings
    from thresher.entrypoint import open_tracker, task_output

    settings = Settings.from_env()
    config, args = parse_args(argv, settings.poso)
    # A relative --output lives under the checkpoint root (the claim in a pod).
    config = dataclasses.replace(config, output=str(task_output(config.output, settings)))
    settings = dataclasses.replace(
        settings, tracking=dataclasses.replace(settings.tracking, experiment=args.experiment)
    )
    run_key = args.run_key or f"poso/{Path(config.output).resolve()}"
    tags = {
        "thresher.poso.model": config.model,
        "thresher.poso.seed": str(config.seed),
        "thresher.partition": args.date,
    }
    tracker = open_tracker(
        settings, run_key, f"{config.model} s{config.seed}", tags, args.parent_run_id
    )
    with tracker:
        result = train(config, tracker)
    test = result["test"]
    return {
        "model": config.model,
        "seed": config.seed,
        "output": str(Path(config.output).resolve()),
        "mlflow_run_id": tracker.run_id,
        "epochs": result["epochs"],
        "best_epoch": result["best_epoch"],
        **{f"test_{g}_gauc": test[g]["gauc"] for g in metrics.GROUPS},
    }


if __name__ == "__main__":
    from thresher.entrypoint import run_entry_point

    run_entry_point(main)
