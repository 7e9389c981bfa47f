"""Evaluate a causal LM on aligned multilingual items: accuracy beside MLC, aligned perplexity.

    python -m models.mubench.evaluate --model PATH --tokenizer PATH \\
        --items xcopa,sib200 --output DIR [--languages en de ...] [--limit N]

``--items`` names built-in sets (``xcopa``, ``sib200``, ``xquad``, ``ntrex``, comma-separated,
read from ``--data-root``) or a JSONL file / folder in the format of
:mod:`thresher.corpora.items`. Writes ``DIR/predictions.parquet`` (one row per item and
language: every option's log-likelihood, token, character and byte counts, the three
predictions) and ``DIR/metrics.json`` (:func:`models.mubench.metrics.report` plus the run's
settings), replacing both, so a re-run leaves the same files.

The entry-point contract is :mod:`thresher.entrypoint`'s: relative ``--model``,
``--tokenizer`` and ``--output`` live under the checkpoint root, bad input (a missing path,
an empty or misaligned item set, an unknown language) exits with status 2 and one line saying
why, and the JSON result (paths, counts, MLflow run id) is printed and written to
``THRESHER_RESULT_PATH``. MLflow is used only where ``MLFLOW_TRACKING_URI`` is set, through
the project's tracker; nothing here imports mlflow.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from models.mubench import metrics
from thresher import entrypoint
from thresher.config import Settings
from thresher.corpora.items import Item, check_aligned, read_items, select
from thresher.corpora.sources import BUILTIN, default_data_root, load_builtin
from thresher.entrypoint import BadInput

log = logging.getLogger("models.mubench")
DTYPES = ("auto", "float32", "bfloat16", "float16")
DEFAULT_EXPERIMENT = "thresher-mubench"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    under_root = "(relative: under the checkpoint root)"
    parser = argparse.ArgumentParser(prog="python -m models.mubench.evaluate", description=__doc__)
    parser.add_argument("--model", required=True, help=f"transformers causal LM {under_root}")
    parser.add_argument("--tokenizer", help=f"its tokenizer (default: --model) {under_root}")
    parser.add_argument("--items", required=True, help=f"{', '.join(BUILTIN)} or a JSONL path")
    parser.add_argument("--output", required=True, help=f"folder for the results {under_root}")
    parser.add_argument("--languages", nargs="+", help="keep these languages (ISO codes)")
    parser.add_argument("--limit", type=int, help="first N item_ids of each task")
    parser.add_argument("--data-root", type=Path, help="the shared data (default ../shared/data)")
    parser.add_argument("--reference", default="en", help="MLC reference language")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-length", type=int, help="model window (default: the model's)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    parser.add_argument("--dtype", default="auto", choices=DTYPES, help="auto: float32 on CPU")
    parser.add_argument(
        "--run-key",
        help="MLflow run key; a re-run with the same key logs into the same run "
        "(default: mubench/<output folder>/<hash of the settings>)",
    )
    return parser.parse_args(argv)


def load_items(spec: str, data_root: Path | None = None) -> list[Item]:
    """Built-in set names (comma-separated) or, when ``spec`` is a path, the items there."""
    if Path(spec).exists():
        return read_items(spec)
    names = [name.strip() for name in spec.split(",") if name.strip()]
    if names and all(name in BUILTIN for name in names):
        return [item for name in names for item in load_builtin(name, data_root)]
    known = ", ".join(BUILTIN)
    raise BadInput(f"--items {spec!r} is neither an existing path nor built-in sets ({known})")


def prepare_items(
    spec: str, data_root: Path | None, languages: Sequence[str] | None, limit: int | None
) -> list[Item]:
    items = select(load_items(spec, data_root), languages, limit)
    if not items:
        raise BadInput(f"--items {spec!r} holds no items")
    check_aligned(items)
    return items


def score_items(items: Sequence[Item], scorer) -> pd.DataFrame:
    """One row per item: its keys, every option's scores and the three predictions."""
    requests = [(item.context, option) for item in items for option in item.options]
    scores = iter(scorer.loglikelihoods(requests))
    rows = []
    for item in items:
        option_scores = [next(scores) for _ in item.options]
        logprobs = [s.logprob for s in option_scores]
        tokens = [s.n_tokens for s in option_scores]
        chars = [len(option) for option in item.options]
        acc, acc_norm, acc_norm_token = metrics.option_predictions(logprobs, chars, tokens)
        rows.append(
            {
                "task": item.task,
                "item_id": item.item_id,
                "language": item.language,
                "kind": item.kind,
                "answer": item.answer,
                "predicted": acc,
                "predicted_norm": acc_norm,
                "predicted_norm_token": acc_norm_token,
                "option_logprobs": logprobs,
                "option_tokens": tokens,
                "option_chars": chars,
                "option_bytes": [len(option.encode("utf-8")) for option in item.options],
            }
        )
    return pd.DataFrame(rows)


def split_kinds(predictions: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Choice rows, and perplexity rows with their one text's ``logprob, n_tokens, n_bytes``."""
    choices = predictions[predictions["kind"] == "choice"]
    texts = predictions[predictions["kind"] == "perplexity"]
    texts = texts.assign(
        logprob=texts["option_logprobs"].str[0],
        n_tokens=texts["option_tokens"].str[0],
        n_bytes=texts["option_bytes"].str[0],
    )
    return choices, texts


def write_outputs(output: Path, predictions: pd.DataFrame, report: dict) -> None:
    """Replace both files, each written beside its final name first."""
    output.mkdir(parents=True, exist_ok=True)
    staged = output / ".predictions.parquet.tmp"
    predictions.to_parquet(staged, index=False)
    os.replace(staged, output / "predictions.parquet")
    staged = output / ".metrics.json.tmp"
    staged.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(staged, output / "metrics.json")


def evaluation_tracker(
    settings: Settings, run_key: str, environ: Mapping[str, str] | None = None
) -> entrypoint.Tracker:
    """The project's MLflow tracker pointed at ``MLFLOW_TRACKING_URI`` (experiment
    ``MLFLOW_EXPERIMENT_NAME``, default thresher-mubench), or no tracking where it is unset."""
    env = os.environ if environ is None else environ
    uri = env.get("MLFLOW_TRACKING_URI", "")
    if not uri:
        return entrypoint.Tracker()
    experiment = env.get("MLFLOW_EXPERIMENT_NAME") or DEFAULT_EXPERIMENT
    tracking = dataclasses.replace(settings.tracking, tracking_uri=uri, experiment=experiment)
    settings = dataclasses.replace(settings, tracking=tracking)
    return entrypoint.open_tracker(settings, run_key, tags={"thresher.stage": "mubench"})


def main(argv: Sequence[str]) -> dict:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    args = parse_args(argv)
    settings = Settings.from_env()
    model = entrypoint.task_path(args.model, settings)
    tokenizer = entrypoint.task_path(args.tokenizer, settings) if args.tokenizer else model
    output = entrypoint.task_output(args.output, settings)
    for flag, path in (("--model", model), ("--tokenizer", tokenizer)):
        if not path.exists():
            raise BadInput(f"{flag} path does not exist: {path}")
    if output.exists() and not output.is_dir():
        raise BadInput(f"--output is a file, not a folder: {output}")
    if args.batch_size < 1:
        raise BadInput(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.max_length is not None and args.max_length < 2:
        raise BadInput(f"--max-length must be at least 2, got {args.max_length}")
    languages = None
    if args.languages:
        languages = [code for arg in args.languages for code in arg.split(",") if code]
    items = prepare_items(args.items, args.data_root, languages, args.limit)
    counts = pd.Series([item.task for item in items]).value_counts().sort_index()
    log.info("%d items: %s", len(items), ", ".join(f"{t} {n}" for t, n in counts.items()))

    from models.mubench.scoring import CausalLMScorer

    try:
        scorer = CausalLMScorer.from_pretrained(
            str(model),
            str(tokenizer),
            device=args.device,
            dtype=args.dtype,
            batch_size=args.batch_size,
            max_length=args.max_length,
        )
    except (OSError, ValueError) as exc:
        reason = " ".join(str(exc).split())  # transformers' messages span lines
        raise BadInput(f"cannot load the model or tokenizer: {reason}") from None
    predictions = score_items(items, scorer)
    report = metrics.report(*split_kinds(predictions), reference=args.reference)
    params = {
        "model": str(model),
        "tokenizer": str(tokenizer),
        "items": args.items,
        "data_root": str(args.data_root or default_data_root()),
        "languages": ",".join(languages) if languages else "all",
        "limit": args.limit,
        "reference": args.reference,
        "batch_size": args.batch_size,
        "max_length": scorer.max_length,
        "device": str(scorer.device),
        "dtype": str(next(scorer.model.parameters()).dtype).removeprefix("torch."),
        "n_items": len(items),
    }
    report = {"settings": params, **report}
    write_outputs(output, predictions, report)

    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]
    tracker = evaluation_tracker(settings, args.run_key or f"mubench/{output.resolve()}/{digest}")
    with tracker:
        tracker.log_params({f"mubench.{key}": value for key, value in params.items()})
        tracker.log_metrics(metrics.flat_metrics(report), step=0)
        tracker.log_artifact(output / "metrics.json", "mubench")
    return {
        "predictions": str(output / "predictions.parquet"),
        "metrics": str(output / "metrics.json"),
        "items": len(items),
        "tasks": {task: int(n) for task, n in counts.items()},
        "mlflow_run_id": tracker.run_id,
    }


if __name__ == "__main__":
    entrypoint.run_entry_point(main)
