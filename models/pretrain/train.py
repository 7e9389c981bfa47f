"""Pretrain a LLaMA-architecture model on a corpus: resumable, seeded, tracked.

Entry point::

    python -m models.pretrain.train --corpus PATH --tokenizer DIR --output DIR \
        [--size tiny|proxy_1m|proxy_5m|proxy_20m|llama_100m|llama_1b] [--max-steps N] ...

The data order is a function of the seed alone (documents repeated by their copies and
shuffled, packed into blocks; batch ``k`` of step ``s`` is a fixed block), so a run resumed
from its last checkpoint sees exactly the batches an uninterrupted run would. On CUDA the
loop uses bf16 autocast where the card supports it and ``torch.compile``; on CPU, fp32 eager.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from models.pretrain import checkpoints
from models.pretrain.corpus import (
    corpus_from_table,
    pack,
    read_corpus,
    tokenize,
    training_order,
    validation_groups,
)
from models.pretrain.sizes import model_size, training_flops_per_token
from models.pretrain.tokenizer import load_tokenizer
from thresher import entrypoint
from thresher.config import Settings
from thresher.entrypoint import BadInput

# Dense bf16 peak of the cards model FLOP utilisation is reported against (no sparsity).
PEAK_BF16_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L4": 121e12, "A10": 125e12}


@dataclass(frozen=True)
class TrainConfig:
    size: str = "tiny"
    sequence_length: int = 256
    batch_size: int = 16
    max_steps: int = 200
    learning_rate: float = 3e-3
    min_learning_rate_ratio: float = 0.1
    warmup_steps: int = 20
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    seed: int = 1
    log_every: int = 10
    checkpoint_every: int = 100
    # Validation blocks per group (language, domain) at most.
    eval_blocks: int = 64
    device: str = "auto"  # auto | cpu | cuda
    precision: str = "auto"  # auto (bf16 on CUDA cards that have it) | bf16 | fp32
    compile: str = "auto"  # auto (on CUDA) | on | off

    @classmethod
    def short_run(cls, run, seed: int, log_every: int = 50) -> TrainConfig:
        """A proxy-style run of ``run`` (anything with ``size``, ``max_steps``,
        ``sequence_length``, ``batch_size``, ``learning_rate``, ``checkpoint_every`` and
        ``device``: parsed arguments, ``ProxySettings``): warm-up a tenth of the steps (at
        most 20), a log line every ``log_every`` steps (at most every step of the run)."""
        return cls(
            size=run.size,
            max_steps=run.max_steps,
            sequence_length=run.sequence_length,
            batch_size=run.batch_size,
            learning_rate=run.learning_rate,
            warmup_steps=max(1, min(20, run.max_steps // 10)),
            seed=seed,
            log_every=max(1, min(log_every, run.max_steps)),
            checkpoint_every=run.checkpoint_every,
            device=run.device,
        )


def train(
    config: TrainConfig, corpus, tokenizer, output: Path, tracker: entrypoint.Tracker, on_step=None
) -> dict:
    """Train, validate on the corpus's held-out rows, save; ``on_step(step, model)`` (if given)
    is called after every optimizer step (a learning curve's evaluation)."""
    import torch
    from transformers import LlamaForCausalLM

    device = _device(config.device)
    if device.type == "cuda":
        torch.set_float32_matmul_precision("high")  # TF32 for what autocast leaves in fp32
    bf16 = config.precision == "bf16" or (
        config.precision == "auto" and device.type == "cuda" and torch.cuda.is_bf16_supported()
    )
    size = model_size(config.size)
    block = config.sequence_length + 1
    token_lists = tokenize(tokenizer, corpus.texts)
    blocks = pack(token_lists, training_order(corpus, config.seed), tokenizer.eos_token_id, block)
    if len(blocks) < config.batch_size:
        raise BadInput(
            f"the corpus packs into {len(blocks)} training blocks of {block} tokens, fewer than "
            f"one batch of {config.batch_size}: add documents or lower --sequence-length"
        )
    held_out = {
        group: pack(token_lists, idx, tokenizer.eos_token_id, block)[: config.eval_blocks]
        for group, idx in validation_groups(corpus).items()
    }

    torch.manual_seed(config.seed)
    model_config = size.config(
        len(tokenizer), tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id
    )
    model = LlamaForCausalLM(model_config).to(device)
    parameters = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.AdamW(
        [
            {
                "params": [p for p in model.parameters() if p.ndim >= 2],
                "weight_decay": config.weight_decay,
            },
            {"params": [p for p in model.parameters() if p.ndim < 2], "weight_decay": 0.0},
        ],
        lr=config.learning_rate,
        betas=(0.9, 0.95),
        fused=device.type == "cuda",
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(config))
    start = checkpoints.restore(output / "checkpoints", model, optimizer, scheduler, device)
    step_model = torch.compile(model) if _compile(config, device) else model

    flops_per_token = training_flops_per_token(size, parameters, config.sequence_length)
    peak = _peak_flops(device)
    tracker.log_params(
        {
            **{f"train.{k}": v for k, v in asdict(config).items()},
            **{f"model.{k}": v for k, v in size.as_dict().items()},
            "model.parameters": parameters,
            "model.vocab_size": len(tokenizer),
            "data.documents": len(corpus),
            "data.training_blocks": len(blocks),
            "device": _device_name(device),
            "precision": "bf16" if bf16 else "fp32",
        }
    )
    model.train()
    tokens_per_step = config.batch_size * config.sequence_length
    window_start, window_steps, loss_sum = time.perf_counter(), 0, 0.0
    last: dict = {}
    for step in range(start, config.max_steps):
        batch = torch.from_numpy(blocks[_batch_rows(step, config, len(blocks))]).long().to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            logits = step_model(input_ids=batch[:, :-1]).logits
        loss = torch.nn.functional.cross_entropy(
            logits.float().reshape(-1, logits.size(-1)), batch[:, 1:].reshape(-1)
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        scheduler.step()
        loss_sum += loss.item()
        window_steps += 1
        done = step + 1
        if done % config.log_every == 0 or done == config.max_steps:
            elapsed = time.perf_counter() - window_start
            tokens_per_second = window_steps * tokens_per_step / elapsed
            last = {
                "train_loss": loss_sum / window_steps,
                "tokens_per_second": tokens_per_second,
                "learning_rate": scheduler.get_last_lr()[0],
            }
            if peak:
                last["mfu"] = tokens_per_second * flops_per_token / peak
            tracker.log_metrics(last, step=done)
            print(json.dumps({"step": done, **last}), flush=True)
            window_start, window_steps, loss_sum = time.perf_counter(), 0, 0.0
        if on_step is not None:
            on_step(done, model)
        if done % config.checkpoint_every == 0 and done < config.max_steps:
            checkpoints.save(output / "checkpoints", done, model, optimizer, scheduler)

    validation = evaluate(model, held_out, config, device, bf16)
    tracker.log_metrics({f"val_loss.{k}": v for k, v in validation.items()}, step=config.max_steps)
    model_dir = output / "model"
    model.save_pretrained(str(model_dir))
    tokenizer.save_pretrained(str(model_dir))
    checkpoints.save(output / "checkpoints", config.max_steps, model, optimizer, scheduler)
    summary = {
        "model": str(model_dir),
        "parameters": parameters,
        "steps": config.max_steps,
        "resumed_from_step": start,
        "tokens": config.max_steps * tokens_per_step,
        # passes over the packed training data the run made
        "epochs": config.max_steps * config.batch_size / len(blocks),
        "val_loss": validation,
        **{k: v for k, v in last.items() if k != "learning_rate"},
    }
    (output / "metrics.json").write_text(json.dumps(summary, indent=2))
    tracker.log_artifact(output / "metrics.json")
    return summary


def evaluate(model, held_out: dict, config: TrainConfig, device, bf16: bool) -> dict[str, float]:
    """Mean next-token loss per validation group, and ``all``: over every language group."""
    import torch

    model.eval()
    sums: dict[str, tuple[float, int]] = {}
    with torch.no_grad():
        for group, blocks in held_out.items():
            total, count = 0.0, 0
            for start in range(0, len(blocks), config.batch_size):
                batch = torch.from_numpy(blocks[start : start + config.batch_size]).long()
                batch = batch.to(device)
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                    logits = model(input_ids=batch[:, :-1]).logits
                loss = torch.nn.functional.cross_entropy(
                    logits.float().reshape(-1, logits.size(-1)),
                    batch[:, 1:].reshape(-1),
                    reduction="sum",
                )
                total += loss.item()
                count += batch[:, 1:].numel()
            if count:
                sums[group] = (total, count)
    model.train()
    languages = [v for k, v in sums.items() if k.startswith("language:")]
    if languages:
        sums["all"] = (sum(t for t, _ in languages), sum(c for _, c in languages))
    return {group: total / count for group, (total, count) in sums.items()}


def _batch_rows(step: int, config: TrainConfig, n_blocks: int) -> np.ndarray:
    """Rows of batch ``step``: one seeded permutation of all blocks per epoch."""
    samples = np.arange(step * config.batch_size, (step + 1) * config.batch_size)
    epochs, positions = np.divmod(samples, n_blocks)
    rows = np.empty_like(samples)
    for epoch in np.unique(epochs):
        perm = np.random.default_rng([config.seed, int(epoch)]).permutation(n_blocks)
        mask = epochs == epoch
        rows[mask] = perm[positions[mask]]
    return rows


def _lr_lambda(config: TrainConfig):
    floor = config.min_learning_rate_ratio

    def factor(step: int) -> float:
        if step < config.warmup_steps:
            return (step + 1) / config.warmup_steps
        progress = (step - config.warmup_steps) / max(1, config.max_steps - config.warmup_steps)
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return factor


def _device(name: str):
    import torch

    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise BadInput("--device cuda asked for, but torch sees no CUDA device")
    return torch.device(name)


def _compile(config: TrainConfig, device) -> bool:
    return config.compile == "on" or (config.compile == "auto" and device.type == "cuda")


def _device_name(device) -> str:
    import torch

    return torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"


def _peak_flops(device) -> float | None:
    name = _device_name(device)
    return next((peak for card, peak in PEAK_BF16_FLOPS.items() if card in name), None)


def main(argv: Sequence[str]) -> dict:
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(prog="python -m models.pretrain.train")
    parser.add_argument("--corpus", required=True, help="Delta table, Parquet or JSONL path")
    parser.add_argument(
        "--tokenizer",
        required=True,
        help="folder holding tokenizer.json (relative: under the checkpoint root)",
    )
    parser.add_argument(
        "--output",
        required=True,
        help="folder for the model, checkpoints and metrics (relative: under the checkpoint root)",
    )
    parser.add_argument("--run-name", default=None, help="MLflow run name (default: output's)")
    for field, value in asdict(defaults).items():
        flag = "--" + field.replace("_", "-")
        parser.add_argument(flag, type=type(value), default=value)
    args = vars(parser.parse_args(argv))
    corpus_path, tokenizer_path = args.pop("corpus"), args.pop("tokenizer")
    output, run_name = Path(args.pop("output")), args.pop("run_name")
    config = TrainConfig(**args)
    try:
        model_size(config.size)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    settings = Settings.from_env()
    output = entrypoint.task_output(str(output), settings)
    tokenizer = load_tokenizer(entrypoint.task_path(tokenizer_path, settings))
    corpus = corpus_from_table(read_corpus(corpus_path))
    output.mkdir(parents=True, exist_ok=True)
    run_name = run_name or output.name
    tracker = entrypoint.open_tracker(settings, f"pretrain/{output.resolve()}", run_name=run_name)
    with tracker:
        summary = train(config, corpus, tokenizer, output, tracker)
    return {**summary, "mlflow_run_id": tracker.run_id}


if __name__ == "__main__":
    entrypoint.run_entry_point(main)
