"""One proxy of a mixture search: a parameter set → its mixture → a small LM → its loss.

Entry point::

    python -m models.mixture_search.proxy --features PATH --search-dir DIR \
        (--index K | --params FILE) [--parent-run-id ID] [--size tiny --max-steps N ...]

The mixture is drawn by the numpy sampler over ``gold.search_features_<name>``
(``thresher.mixture_search.mixture_copies``: the copies the Spark mixture gives the same
parameters), the model is trained by ``models.pretrain.train.train`` on the training split
repeated by those copies, and the target is its mean loss on the search's evaluation set.

Outputs go to ``<search-dir>/proxies/<params version>/``; ``proxy.json`` there marks a
finished proxy, which a re-run returns without training (an interrupted one resumes from its
last checkpoint). A mixture too small to fill one batch is a finished proxy without a loss.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from models.mixture_search.features import FeaturePool, eval_texts, read_features
from models.pretrain.corpus import Corpus
from models.pretrain.sizes import model_size
from models.pretrain.tokenizer import load_tokenizer
from models.pretrain.train import TrainConfig, train
from thresher import mixture_search
from thresher.config import Settings
from thresher.entrypoint import (
    BadInput,
    Tracker,
    open_tracker,
    run_entry_point,
    task_output,
    task_path,
    write_atomic,
)
from thresher.quadmix import QuadMixParams

FINISHED = "proxy.json"
SEARCH_RECORD = "search.json"


def proxy_corpus(
    pool: FeaturePool, copies: np.ndarray, texts: list[str], languages: list[str]
) -> Corpus:
    """The pool's training documents with their copies, then the evaluation texts."""
    picked = np.flatnonzero(~pool.validation & (copies > 0))
    n_eval = len(texts)
    return Corpus(
        texts=[pool.texts[i] for i in picked] + list(texts),
        languages=[pool.languages[i] for i in picked] + list(languages),
        domains=[str(pool.domains[i]) for i in picked] + ["eval"] * n_eval,
        copies=np.concatenate([copies[picked], np.zeros(n_eval, dtype=np.int64)]),
        validation=np.concatenate([np.zeros(len(picked), bool), np.ones(n_eval, bool)]),
    )


def mixture_summary(pool: FeaturePool, copies: np.ndarray) -> dict:
    train = ~pool.validation
    per_domain = {}
    for domain in pool.domain_names:
        members = train & (pool.domains == domain)
        per_domain[domain] = int((pool.tokens[members] * copies[members]).sum())
    return {
        "documents": int((train & (copies > 0)).sum()),
        "copies": int(copies[train].sum()),
        "tokens": int((pool.tokens[train] * copies[train]).sum()),
        "tokens_per_domain": per_domain,
    }


def run_proxy(
    pool: FeaturePool,
    params: QuadMixParams,
    mixture_seed: int,
    eval_set: tuple[list[str], list[str]],
    config: TrainConfig,
    tokenizer,
    output: Path,
    tracker: Tracker,
) -> dict:
    """Draw the mixture, train on it, and return the loss on the evaluation texts."""
    drawn = mixture_search.mixture_copies(
        params, pool.sigmas, pool.domains, pool.tokens, pool.nodes, mixture_seed
    )
    copies = drawn["copies"]
    mixture = mixture_summary(pool, copies)
    tracker.log_metrics(
        {f"mixture.{k}": v for k, v in mixture.items() if not isinstance(v, dict)}, step=0
    )
    corpus = proxy_corpus(pool, copies, *eval_set)
    try:
        trained = train(config, corpus, tokenizer, output, tracker)
    except BadInput as exc:
        if "fewer than one batch" not in str(exc):
            raise
        # the parameters select too little text to train on: a result, not an error
        return {"status": "too_small", "loss": None, "mixture": mixture, "detail": str(exc)}
    loss = trained["val_loss"]["all"]
    return {"status": "finished", "loss": loss, "mixture": mixture,
            "val_loss": trained["val_loss"], "steps": trained["steps"],
            "resumed_from_step": trained["resumed_from_step"],
            "parameters": trained["parameters"]}  # fmt: skip


def _check_search(search: Path, record: dict) -> None:
    """A search folder holds proxies of one features table and one training setup only."""
    file = search / SEARCH_RECORD
    if file.is_file():
        found = json.loads(file.read_text())
        if found != record:
            raise BadInput(
                f"{search} belongs to another search ({found}); this proxy is {record}: "
                "use the search folder for these features and settings"
            )
        return
    search.mkdir(parents=True, exist_ok=True)
    write_atomic(file, json.dumps(record, indent=2, sort_keys=True))


def parse_args(argv: Sequence[str], settings: Settings) -> argparse.Namespace:
    search = settings.mixture_search
    parser = argparse.ArgumentParser(prog="python -m models.mixture_search.proxy")
    parser.add_argument("--features", required=True, help="gold.search_features_<name> path")
    parser.add_argument(
        "--search-dir", required=True, help="the search's folder (relative: under checkpoints)"
    )
    parser.add_argument("--tokenizer", help="tokenizer folder (default: <search-dir>/tokenizer)")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--index", type=int, help="parameter set k of the search's sampler")
    which.add_argument("--params", help="a QuaDMix parameters JSON file instead")
    parser.add_argument("--sample-seed", type=int, default=search.sample_seed)
    parser.add_argument("--lambda-scale", default=settings.mixture.lambda_scale)
    parser.add_argument("--mixture-seed", type=int, default=settings.mixture.seed)
    parser.add_argument("--eval-set", default=search.eval_set)
    parser.add_argument("--size", default=search.size)
    parser.add_argument("--max-steps", type=int, default=search.max_steps)
    parser.add_argument("--sequence-length", type=int, default=search.sequence_length)
    parser.add_argument("--batch-size", type=int, default=search.batch_size)
    parser.add_argument("--learning-rate", type=float, default=search.learning_rate)
    parser.add_argument("--seed", type=int, default=search.seed)
    parser.add_argument("--checkpoint-every", type=int, default=100)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--parent-run-id", default="", help="MLflow run of the whole search")
    parser.add_argument("--experiment", default=search.experiment)
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> dict:
    settings = Settings.from_env()
    args = parse_args(argv, settings)
    try:
        model_size(args.size)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    settings = dataclasses.replace(
        settings, tracking=dataclasses.replace(settings.tracking, experiment=args.experiment)
    )
    pool = read_features(args.features)
    if args.params:
        try:
            params = QuadMixParams.from_json(Path(args.params).read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError) as exc:
            raise BadInput(f"--params {args.params}: {exc}") from None
        if params.criteria != pool.criteria:
            raise BadInput(f"--params weighs {params.criteria}, the features {pool.criteria}")
    else:
        params = mixture_search.sample_set(
            pool.criteria, pool.domain_names, args.sample_seed, args.index, args.lambda_scale
        )
    config = TrainConfig.short_run(args)
    search = task_output(args.search_dir, settings)
    _check_search(search, {"features": pool.fingerprint, "eval_set": args.eval_set,
                           "mixture_seed": args.mixture_seed, "size": args.size,
                           "max_steps": args.max_steps, "sequence_length": args.sequence_length,
                           "batch_size": args.batch_size, "learning_rate": args.learning_rate,
                           "seed": args.seed})  # fmt: skip
    output = search / "proxies" / params.version
    output.mkdir(parents=True, exist_ok=True)
    (output / "params.json").write_text(params.to_json())
    parent = args.parent_run_id
    tags = {"thresher.params_version": params.version, "thresher.search": str(search)}
    if parent:
        tags["mlflow.parentRunId"] = parent
    label = f"index {args.index}" if args.index is not None else "given"
    tracker = open_tracker(
        settings,
        run_key=f"mixture_search/{parent or 'standalone'}/proxy/{output}",
        run_name=f"proxy {label} {params.version}",
        tags=tags,
    )
    finished = output / FINISHED
    try:
        if finished.is_file():
            result = {**json.loads(finished.read_text()), "resumed": True}
        else:
            tokenizer = load_tokenizer(task_path(args.tokenizer or f"{search}/tokenizer", settings))
            texts = eval_texts(args.eval_set, pool, settings.languages)
            result = run_proxy(
                pool, params, args.mixture_seed, texts, config, tokenizer, output, tracker
            )
            result.update(
                params_version=params.version,
                params_path=str(output / "params.json"),
                proxy_dir=str(output),
                index=args.index,
                eval_set=args.eval_set,
            )
            write_atomic(finished, json.dumps(result, indent=2, sort_keys=True))
            result["resumed"] = False
        tracker.log_params({"params_version": params.version, "index": args.index,
                            "status": result["status"], "resumed": result["resumed"]})  # fmt: skip
        if result["loss"] is not None:
            tracker.log_metrics({"proxy_loss": result["loss"]}, step=config.max_steps)
        tracker.log_artifact(output / "params.json")
    except BaseException:
        tracker.finish("FAILED")
        raise
    tracker.finish()
    return {**result, "mlflow_run_id": tracker.run_id}


if __name__ == "__main__":
    run_entry_point(main)
