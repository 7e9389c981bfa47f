"""One cell of the language-mix experiment: two shares → a corpus → a small LM → MuBench.

Entry point::

    python -m models.language_mix.cell --pool PATH --experiment-dir DIR \
        --english-share 0.5 --parallel-share 0.25 [--language zh] [--parent-run-id ID] ...

The cell's corpus holds the token budget the model trains on (max_steps × batch_size ×
sequence_length tokens of the shared tokenizer): ``parallel_share`` of it parallel pairs,
the rest monolingual, ``english_share`` of that English and the remainder the second
language. Each part is drawn from ``gold.language_mix_pool_<mixture>`` in a seeded order,
whole documents until its share is filled, starting over (another copy of each) where a part
of the pool is smaller than its share; ``epochs`` in the result says how often. The model is
trained by ``models.pretrain.train.train`` (validation loss per language on the pool's
held-out documents), then scored on aligned items by ``models.mubench`` (accuracy per
language, MLC against English, bits per byte on perplexity items).

Outputs go to ``<experiment-dir>/cells/en<english_share>-par<parallel_share>/``;
``cell.json`` there marks a finished cell, which a re-run returns without training (an
interrupted one resumes from its last checkpoint).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from models.mubench import metrics
from models.mubench.evaluate import prepare_items, score_items, split_kinds, write_outputs
from models.pretrain.corpus import Corpus, corpus_from_table, read_corpus, tokenize
from models.pretrain.sizes import model_size
from models.pretrain.tokenizer import load_tokenizer
from models.pretrain.train import TrainConfig, train
from thresher import entrypoint
from thresher.config import Settings
from thresher.entrypoint import BadInput

log = logging.getLogger("models.language_mix")
FINISHED = "cell.json"
ENGLISH = "en"
PARALLEL = "parallel"


def cell_name(english_share: float, parallel_share: float) -> str:
    return f"en{english_share:g}-par{parallel_share:g}"


def part_targets(english_share: float, parallel_share: float, language: str, budget: int) -> dict:
    """Tokens per part: parallel first, the monolingual rest split English : ``language``."""
    parallel = round(budget * parallel_share)
    english = round((budget - parallel) * english_share)
    return {ENGLISH: english, language: budget - parallel - english, PARALLEL: parallel}


def draw_part(tokens: np.ndarray, target: int, seed: int, part: int) -> np.ndarray:
    """Copies per document of one part: whole documents in a seeded order until ``target``
    tokens, every document once more for each full pass over a part smaller than that."""
    copies = np.zeros(len(tokens), dtype=np.int64)
    total = int(tokens.sum())
    if target <= 0:
        return copies
    if total <= 0:
        raise BadInput(f"part {part} of the pool has no tokens but a share of {target} tokens")
    passes, rest = divmod(target, total)
    copies += passes
    if rest:
        order = np.random.default_rng([seed, part]).permutation(len(tokens))
        filled = np.cumsum(tokens[order])
        # the first documents of the order, up to and including the one that reaches ``rest``
        copies[order[: int(np.searchsorted(filled, rest)) + 1]] += 1
    return copies


def draw_corpus(
    pool: Corpus,
    token_counts: np.ndarray,
    english_share: float,
    parallel_share: float,
    language: str,
    budget: int,
    seed: int,
) -> tuple[Corpus, dict]:
    """The cell's training documents with their copies, then every held-out document."""
    targets = part_targets(english_share, parallel_share, language, budget)
    languages = np.asarray(pool.languages)
    train = ~pool.validation
    copies = np.zeros(len(pool), dtype=np.int64)
    parts = {}
    for index, (part, target) in enumerate(targets.items()):
        label = f"{ENGLISH}-{language}" if part == PARALLEL else part
        members = np.flatnonzero(train & (languages == label))
        if target > 0 and not len(members):
            raise BadInput(f"the pool has no {label!r} training documents for a share of {part}")
        drawn = draw_part(token_counts[members], target, seed, index)
        copies[members] = drawn
        pool_tokens = int(token_counts[members].sum())
        parts[part] = {
            "target_tokens": target,
            "tokens": int((token_counts[members] * drawn).sum()),
            "documents": int((drawn > 0).sum()),
            "pool_documents": len(members),
            "epochs": target / pool_tokens if pool_tokens else 0.0,
        }
    keep = np.flatnonzero((copies > 0) | pool.validation)
    corpus = Corpus(
        texts=[pool.texts[i] for i in keep],
        languages=[pool.languages[i] for i in keep],
        domains=[pool.domains[i] for i in keep],
        copies=copies[keep],
        validation=pool.validation[keep],
    )
    return corpus, parts


def summarise(report: Mapping, language: str, variant: str = "acc_norm") -> dict:
    """Per task: accuracy (``variant``) per language and MLC / Rel-MLC of ``language`` against
    English for a choice task, bits per byte per language for a perplexity task."""
    tasks = {}
    for task, body in sorted(report["tasks"].items()):
        if body["kind"] == "perplexity":
            languages = body["languages"].items()
            tasks[task] = {"bits_per_byte": {lang: v["bits_per_byte"] for lang, v in languages}}
            continue
        pair = body.get("mlc", {}).get(variant, {}).get("vs_reference", {}).get(language) or {}
        tasks[task] = {
            "accuracy": {lang: values[variant] for lang, values in body["languages"].items()},
            "mlc": pair.get("mlc"),
            "rel_mlc": pair.get("rel_mlc"),
        }
    return {"variant": variant, "tasks": tasks}


def evaluate_model(model_dir: Path, args: argparse.Namespace, output: Path) -> dict:
    from models.mubench.scoring import CausalLMScorer

    items = prepare_items(
        args.items, args.data_root, [ENGLISH, args.language], args.eval_limit or None
    )
    scorer = CausalLMScorer.from_pretrained(
        str(model_dir),
        device=args.device,
        batch_size=args.eval_batch_size,
        max_length=args.sequence_length,
    )
    predictions = score_items(items, scorer)
    report = metrics.report(*split_kinds(predictions), reference=ENGLISH)
    write_outputs(output, predictions, report)
    return report


def run_cell(
    args: argparse.Namespace, pool: Corpus, tokenizer, output: Path, tracker: entrypoint.Tracker
) -> dict:
    budget = args.max_steps * args.batch_size * args.sequence_length
    token_counts = np.asarray([len(t) for t in tokenize(tokenizer, pool.texts)], dtype=np.int64)
    corpus, parts = draw_corpus(
        pool,
        token_counts,
        args.english_share,
        args.parallel_share,
        args.language,
        budget,
        args.seed,
    )
    for part, values in parts.items():
        tracker.log_metrics({f"mixture.{part}.{k}": v for k, v in values.items()}, step=0)
    config = TrainConfig.short_run(args, args.seed)
    trained = train(config, corpus, tokenizer, output, tracker)
    report = evaluate_model(Path(trained["model"]), args, output / "mubench")
    tracker.log_metrics(metrics.flat_metrics(report), step=args.max_steps)
    summary = summarise(report, args.language, args.variant)
    val_loss = {
        k.removeprefix("language:"): v
        for k, v in trained["val_loss"].items()
        if k.startswith("language:")
    }
    return {
        "english_share": args.english_share,
        "parallel_share": args.parallel_share,
        "language": args.language,
        "tokens": budget,
        "parts": parts,
        "val_loss": val_loss,
        **summary,
        "model": trained["model"],
        "mubench": str(output / "mubench" / "metrics.json"),
        "resumed_from_step": trained["resumed_from_step"],
    }


def parse_args(argv: Sequence[str], settings: Settings) -> argparse.Namespace:
    mix = settings.language_mix
    parser = argparse.ArgumentParser(prog="python -m models.language_mix.cell")
    parser.add_argument("--pool", required=True, help="gold.language_mix_pool_<name> path")
    parser.add_argument(
        "--experiment-dir", required=True, help="the experiment's folder (relative: checkpoints)"
    )
    parser.add_argument("--tokenizer", help="tokenizer folder (default: <dir>/tokenizer)")
    parser.add_argument("--english-share", type=float, required=True)
    parser.add_argument("--parallel-share", type=float, required=True)
    parser.add_argument("--language", default=mix.language)
    parser.add_argument("--size", default=mix.size)
    parser.add_argument("--max-steps", type=int, default=mix.max_steps)
    parser.add_argument("--sequence-length", type=int, default=mix.sequence_length)
    parser.add_argument("--batch-size", type=int, default=mix.batch_size)
    parser.add_argument("--learning-rate", type=float, default=mix.learning_rate)
    parser.add_argument("--seed", type=int, default=mix.seed)
    parser.add_argument("--checkpoint-every", type=int, default=100)
    parser.add_argument("--items", default=mix.items, help="aligned items: names or JSONL path")
    parser.add_argument("--eval-limit", type=int, default=mix.eval_limit)
    parser.add_argument("--variant", default=mix.variant, choices=sorted(metrics.VARIANTS))
    parser.add_argument("--eval-batch-size", type=int, default=16)
    parser.add_argument("--data-root", type=Path, help="the shared data (default ../shared/data)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--parent-run-id", default="", help="MLflow run of the experiment")
    parser.add_argument("--experiment", default=mix.experiment)
    args = parser.parse_args(argv)
    for name in ("english_share", "parallel_share"):
        if not 0 <= getattr(args, name) <= 1:
            raise BadInput(f"--{name.replace('_', '-')} must be in [0, 1]")
    if args.language == ENGLISH:
        raise BadInput("--language is the language paired with English, not en")
    try:
        model_size(args.size)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    return args


def main(argv: Sequence[str]) -> dict:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = Settings.from_env()
    args = parse_args(argv, settings)
    settings = dataclasses.replace(
        settings, tracking=dataclasses.replace(settings.tracking, experiment=args.experiment)
    )
    experiment = entrypoint.task_output(args.experiment_dir, settings)
    name = cell_name(args.english_share, args.parallel_share)
    output = experiment / "cells" / name
    output.mkdir(parents=True, exist_ok=True)
    tags = {"thresher.language_mix.cell": name, "thresher.experiment_dir": str(experiment)}
    tracker = entrypoint.open_task_tracker(
        settings,
        "language_mix",
        "cell",
        output,
        f"cell {name} ({args.language})",
        args.parent_run_id,
        tags,
    )

    def run() -> dict:
        pool = corpus_from_table(read_corpus(args.pool))
        tokenizer_dir = args.tokenizer or f"{experiment}/tokenizer"
        tokenizer = load_tokenizer(entrypoint.task_path(tokenizer_dir, settings))
        return {**run_cell(args, pool, tokenizer, output, tracker), "cell": name}

    with tracker:
        result = entrypoint.finished_or_run(output / FINISHED, run)
        tracker.log_params(
            {
                "english_share": args.english_share,
                "parallel_share": args.parallel_share,
                "language": args.language,
                "items": args.items,
            }
        )
    return {**result, "mlflow_run_id": tracker.run_id}


if __name__ == "__main__":
    entrypoint.run_entry_point(main)
