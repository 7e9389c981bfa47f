"""Train the multilingual rater on pairs with the pairwise Bradley–Terry loss.

``python -m models.murating.train --pairs <Delta/Parquet> --output <folder> --backend
embedding_head|finetune [...]``. Pairs come from ``silver.murating_pairs`` (read with
``deltalake``: no JVM in a GPU pod): ``split = train`` rows train, ``held_out`` rows are
evaluated after every epoch. The loop seeds before building the model, saves a checkpoint
(model, optimiser, epoch) after every epoch and resumes from it, so a retried task continues
where it stopped. It reports to a ``Tracker``; MLflow (the run, the logged model and its
registry version) stays in ``main``.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from models.murating.evaluate import evaluate, flat_metrics, json_safe
from models.murating.head import BACKENDS, build_rater, score_texts
from thresher.config import MuRatingSettings, Settings
from thresher.entrypoint import BadInput, Tracker, open_tracker, run_entry_point, task_output
from thresher.murating import lifecycle
from thresher.murating.bradley_terry import pairwise_loss
from thresher.murating.embeddings import EmbeddingCache, cache_folder
from thresher.report_page import ReportPage, write_page

log = logging.getLogger(__name__)
CHECKPOINT = "checkpoint.pt"
TRAIN, HELD_OUT = "train", "held_out"
__all__ = ["train", "main"]


def read_pairs(path: str, pair_set: str = "") -> pd.DataFrame:
    if "://" not in path and not Path(path).exists():
        raise BadInput(f"pairs {path} do not exist")
    if (Path(path) / "_delta_log").is_dir() or "://" in path:
        from deltalake import DeltaTable

        filters = [("pair_set", "=", pair_set)] if pair_set else None
        frame = DeltaTable(path).to_pandas(filters=filters)
    else:
        frame = pd.read_parquet(path)
    if frame.empty or not {"text_a", "text_b", "label", "split"} <= set(frame.columns):
        raise BadInput(f"pairs {path} are empty or lack text_a/text_b/label/split")
    return frame


def documents_of(pairs: pd.DataFrame) -> pd.DataFrame:
    """The distinct documents of ``pairs`` (doc_key, unit_id, language, text, score)."""
    sides = [
        pairs[[f"doc_{s}", f"unit_{s}", f"language_{s}", f"text_{s}", f"score_{s}"]].set_axis(
            ["doc_key", "unit_id", "language", "text", "score"], axis=1
        )
        for s in ("a", "b")
    ]
    return pd.concat(sides).drop_duplicates("doc_key").reset_index(drop=True)


def _epoch_loss(rater, pairs: pd.DataFrame, config: MuRatingSettings, optimizer=None, epoch=0):
    order = np.random.default_rng(config.seed * 1000 + epoch).permutation(len(pairs))
    total, steps = 0.0, 0
    for start in range(0, len(order), config.batch_size):
        batch = pairs.iloc[order[start : start + config.batch_size]]
        with torch.set_grad_enabled(optimizer is not None):
            delta = rater(batch["text_a"].tolist()) - rater(batch["text_b"].tolist())
            target = torch.tensor(batch["label"].to_numpy(), dtype=delta.dtype, device=delta.device)
            loss = pairwise_loss(delta, target)
        if optimizer is not None:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        total, steps = total + loss.item() * len(batch), steps + len(batch)
    return total / max(steps, 1)


def train(
    pairs: pd.DataFrame,
    output: Path,
    config: MuRatingSettings,
    tracker: Tracker | None = None,
    cache: EmbeddingCache | None = None,
) -> dict:
    """Train (or resume) to ``config.epochs``; save the rater to ``output/model``; evaluate."""
    tracker = tracker or Tracker()
    train_pairs = pairs[pairs["split"] == TRAIN].reset_index(drop=True)
    held_out = pairs[pairs["split"] == HELD_OUT].reset_index(drop=True)
    if train_pairs.empty:
        raise BadInput("no training pairs (split = 'train')")
    torch.manual_seed(config.seed)
    options = {k: v for k, v in lifecycle.training_values(config).items() if k != "backend"}
    if config.backend == "embedding_head":
        options["cache"] = cache or EmbeddingCache(
            None,
            config.max_chars,
            read_tokens=config.read_tokens,
            chunk_tokens=config.chunk_tokens,
            runtime=config.encoder_runtime,
        )
        # embed every text once up front: epochs then only run the head
        options["cache"].embed(pd.concat([pairs.text_a, pairs.text_b]).unique().tolist())
    rater = build_rater(config.backend, **options)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    rater.to(device)
    optimizer = torch.optim.AdamW(
        [p for p in rater.parameters() if p.requires_grad],
        lr=config.learning_rate,
        weight_decay=config.weight_decay,
    )
    output.mkdir(parents=True, exist_ok=True)
    start = 0
    if (output / CHECKPOINT).is_file():
        state = torch.load(output / CHECKPOINT, map_location=device, weights_only=False)
        rater.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start = state["epoch"]
        torch.set_rng_state(state["torch_rng"])  # dropout continues as if never stopped
        log.info("resumed %s at epoch %d", output, start)
    tracker.log_params({f"murating.{k}": v for k, v in lifecycle.training_values(config).items()})
    history = []
    for epoch in range(start, config.epochs):
        rater.train()
        train_loss = _epoch_loss(rater, train_pairs, config, optimizer, epoch)
        rater.eval()
        eval_loss = _epoch_loss(rater, held_out, config) if len(held_out) else float("nan")
        metrics = {"train_loss": train_loss, "held_out_loss": eval_loss}
        history.append({"epoch": epoch + 1, **metrics})
        tracker.log_metrics(metrics, step=epoch + 1)
        torch.save(
            {
                "model": rater.state_dict(),
                "optimizer": optimizer.state_dict(),
                "epoch": epoch + 1,
                "torch_rng": torch.get_rng_state(),
            },
            output / CHECKPOINT,
        )
    rater.eval()
    rater.save(output / "model")
    report = {}
    if len(held_out):
        docs = documents_of(held_out)
        report = evaluate(docs, score_texts(rater, docs["text"].tolist()), held_out, config.margin)
        tracker.log_metrics(flat_metrics(report), step=config.epochs)
    metrics = json_safe({"history": history, "eval": report})
    (output / "metrics.json").write_text(json.dumps(metrics, indent=2))
    tracker.log_artifact(write_page(result_page(config, history, report), output))
    return {
        "model_path": str(output / "model"),
        "epochs": config.epochs,
        "history": history,
        "eval": report,
    }


def result_page(config: MuRatingSettings, history: list[dict], report: dict) -> ReportPage:
    """The rater's one page: held-out pairwise accuracy against chance, parallel agreement."""
    page = ReportPage(
        f"MuRating rater ({config.backend})",
        f"{config.epochs} epochs; held-out pairs with |label − 0.5| ≥ {config.margin} counted.",
    )
    if report:
        page.section(
            "Pairwise accuracy on held-out pairs",
            "Share of pairs ordered as the English judgments order them; "
            "chance (a random rater) is 0.5.",
        )
        by_language = report["pairwise_accuracy_by_language"]
        page.bars(
            {k: {"rater": v, "chance": 0.5} for k, v in by_language.items()}, ("rater", "chance")
        )
        page.table(
            ("pair type", "accuracy"), sorted(report["pairwise_accuracy_by_pair_type"].items())
        )
        page.table(("source", "accuracy"), sorted(report["pairwise_accuracy_by_source"].items()))
        page.table(
            ("length (characters)", "accuracy"),
            sorted(report["pairwise_accuracy_by_length"].items()),
        )
        page.facts(
            {"overall": report["pairwise_accuracy_overall"], "pairs": report["pairwise_pairs"]}
        )
        page.section(
            "Parallel agreement", "Spearman ρ between a unit's English and translated scores."
        )
        page.table(("language", "ρ"), sorted(report["parallel_spearman_by_language"].items()))
    else:
        page.text("No held-out pairs: nothing was evaluated.")
    page.section("Training")
    page.table(
        ("epoch", "train loss", "held-out loss"),
        [(h["epoch"], h["train_loss"], h["held_out_loss"]) for h in history],
    )
    return page


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m models.murating.train",
        description="Hyperparameters come from settings.murating (THRESHER_SETTINGS); the "
        "flags below override a few for one run (the murating DAG's params).",
    )
    parser.add_argument("--pairs", required=True, help="silver.murating_pairs (Delta) or Parquet")
    parser.add_argument("--output", required=True, help="folder; relative = under checkpoint root")
    parser.add_argument("--pair-set", default="", help="partition of silver.murating_pairs")
    parser.add_argument("--backend", choices=("", *BACKENDS), default="")
    parser.add_argument("--encoder-path", default="", help="finetune: a transformers checkpoint")
    parser.add_argument("--epochs", default="", help="override murating.epochs")
    parser.add_argument("--run-key", default="", help="MLflow run key (default: the output)")
    parser.add_argument("--no-register", action="store_true", help="do not register a version")
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> dict:
    args = parse_args(argv)
    settings = Settings.from_env()
    try:
        epochs = int(args.epochs) if args.epochs else None
    except ValueError:
        raise BadInput(f"--epochs must be a whole number, got {args.epochs!r}") from None
    config = lifecycle.training_settings(
        settings.murating, backend=args.backend, encoder_path=args.encoder_path, epochs=epochs
    )
    if config.backend == "finetune" and not config.encoder_path:
        raise BadInput("--backend finetune needs --encoder-path (a transformers checkpoint)")
    if config.epochs < 1:
        raise BadInput(f"epochs must be at least 1, got {config.epochs}")
    output = task_output(args.output, settings)
    pairs = read_pairs(args.pairs, args.pair_set)
    inputs = lifecycle.training_inputs(lifecycle.pairs_fingerprint(pairs), config)
    cache = EmbeddingCache(
        cache_folder(settings),
        config.max_chars,
        config.encoder_path,
        read_tokens=config.read_tokens,
        chunk_tokens=config.chunk_tokens,
        runtime=config.encoder_runtime,
    )
    tracker = open_tracker(settings, args.run_key or f"murating/train/{output}", "murating-train")
    with tracker:
        tracker.log_params({"murating.training_inputs": inputs})
        result = train(pairs, output, config, tracker, cache)
        result["training_inputs"] = inputs
        if tracker.run_id and not args.no_register:
            from models.murating.registry import register_rater

            accuracy = result["eval"].get("pairwise_accuracy_overall", float("nan"))
            tags = {
                lifecycle.INPUTS_TAG: inputs,
                lifecycle.PAIR_SET_TAG: args.pair_set,
                lifecycle.ACCURACY_TAG: f"{accuracy:.6f}",
            }
            result["model_version"] = register_rater(
                settings, tracker.run_id, Path(result["model_path"]), tags
            )
            result["run_id"] = tracker.run_id
    result.pop("history")
    return json_safe(result)  # the result is an XCom: JSON without NaN


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    run_entry_point(main)
