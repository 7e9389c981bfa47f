"""One proxy of a mixture search: a parameter set → its mixture under the quota → the proxy → its
bits per byte on the search half of the held-out text.

Entry point (the ``proxy`` and ``confirm`` steps of ``thresher.experiments.MIXTURE_SEARCH``)::

    python -m models.mixture_search.proxy --features PATH --search-dir DIR --tokenizer DIR \
        (--index K | --params FILE) [--seed S] [--curve] [--role NAME] [--parent-run-id ID]

Everything else comes from the settings (``THRESHER_SETTINGS``): the proxy and its quota
(``proxy``), the language shares (``mixture``), the sampler's seed (``mixture_search``) and
the held-out text (``heldout``). The mixture is drawn by the numpy sampler over
``gold.search_features_<name>`` (``thresher.mixture_search.mixture_copies``: the copies the
Spark mixture gives the same parameters, seed and quota); ``seed`` draws the copies and seeds
the training. The target is the proxy's mean bits per byte over the languages of the held-out
``search`` half — text no scorer, classifier or selection step has seen, never the pool.

Outputs go to ``<search-dir>/proxies/<params version>/seed-<seed>/``; ``proxy.json`` there
marks a finished proxy, which a re-run returns without training. A mixture too small to fill
one batch is a finished proxy without a loss.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from models.mixture_search.features import read_features
from models.mixture_search.training import HeldOut, task_parser, train_and_evaluate
from models.pretrain.sizes import model_size
from models.pretrain.tokenizer import load_tokenizer
from thresher import entrypoint, mixture_search
from thresher.config import Settings
from thresher.entrypoint import BadInput
from thresher.experiments import experiment_key
from thresher.mixture_quota import Quota
from thresher.quadmix import QuadMixParams

FINISHED = "proxy.json"
SEARCH_RECORD = "search.json"
HALF = "search"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    prog = "python -m models.mixture_search.proxy"
    parser = task_parser(prog, "--search-dir", "the whole search")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--index", type=int, help="parameter set k of the search's sampler")
    which.add_argument("--params", help="a QuaDMix parameters JSON file instead")
    parser.add_argument("--seed", type=int, default=1, help="draws the copies, seeds training")
    parser.add_argument("--curve", action="store_true", help="also measure a learning curve")
    parser.add_argument("--role", default="search", help="search, chosen, best_random")
    args = parser.parse_args(argv)
    if args.seed < 1 or (args.index is not None and args.index < 0):
        raise BadInput("--seed must be >= 1 and --index >= 0")
    return args


def _check_search(search: Path, record: dict) -> None:
    """A search folder holds proxies of one features table and one experiment setup only."""
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
    entrypoint.write_atomic(file, json.dumps(record, indent=2, sort_keys=True))


def load_params(path: str, criteria: tuple[str, ...]) -> QuadMixParams:
    try:
        params = QuadMixParams.from_json(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError) as exc:
        raise BadInput(f"--params {path}: {exc}") from None
    if params.criteria != criteria:
        raise BadInput(f"--params weighs {params.criteria}, the features {criteria}")
    return params


def run_proxy(args, settings: Settings, pool, params: QuadMixParams, output: Path, tracker):
    """Draw the mixture, train the proxy on it, score it on the search half."""
    quota = Quota.of(settings.mixture, settings.proxy.budget_tokens)
    drawn = pool.mixture_copies(params, args.seed, quota)
    copies = drawn["copies"]
    mixture = {
        "documents": int((copies > 0).sum()),
        "copies": int(copies.sum()),
        "quota": drawn["quota"],
    }
    tracker.log_metrics(
        {
            "mixture.documents": mixture["documents"],
            "mixture.tokens": drawn["quota"]["realised_tokens"],
        },
        step=0,
    )
    tokenizer = load_tokenizer(entrypoint.task_path(args.tokenizer, settings))
    heldout = HeldOut.load(settings, HALF)
    try:
        result = train_and_evaluate(
            pool, copies, settings, args.seed, tokenizer, output, tracker, heldout, args.curve
        )
    except BadInput as exc:
        if "fewer than one batch" not in str(exc):
            raise
        # the parameters select too little text to train on: a result, not an error
        return {"status": "too_small", "loss": None, "mixture": mixture, "detail": str(exc)}
    return {"status": "finished", "loss": result["bpb_mean"], "mixture": mixture, **result}


def main(argv: Sequence[str]) -> dict:
    args = parse_args(argv)
    settings = mixture_search.search_settings(Settings.from_env())
    try:
        model_size(settings.proxy.size)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    pool = read_features(args.features)
    if args.params:
        params = load_params(args.params, pool.criteria)
    else:
        params = mixture_search.sample_set(
            pool.criteria,
            pool.domain_names,
            settings.mixture_search.sample_seed,
            args.index,
            settings.mixture.lambda_scale,
        )
    search = entrypoint.task_output(args.search_dir, settings)
    _check_search(search, {"features": pool.fingerprint, "settings": experiment_key(settings)})
    output = search / "proxies" / params.version / f"seed-{args.seed}"
    output.mkdir(parents=True, exist_ok=True)
    (output.parent / "params.json").write_text(params.to_json())
    tags = {"thresher.params_version": params.version, "thresher.search": str(search)}
    label = f"index {args.index}" if args.index is not None else args.role
    tracker = entrypoint.open_task_tracker(
        settings,
        "mixture_search",
        "proxy",
        output,
        f"proxy {label} seed {args.seed} {params.version}",
        args.parent_run_id,
        tags,
    )

    def run() -> dict:
        return {
            **run_proxy(args, settings, pool, params, output, tracker),
            "params_version": params.version,
            "index": args.index,
            "seed": args.seed,
            "params_path": str(output.parent / "params.json"),
            "proxy_dir": str(output),
        }

    with tracker:
        result = entrypoint.finished_or_run(output / FINISHED, run)
        result["role"] = args.role
        tracker.log_params(
            {
                "params_version": params.version,
                "index": args.index,
                "seed": args.seed,
                "role": args.role,
                "status": result["status"],
                "resumed": result["resumed"],
            }
        )
        if result["loss"] is not None:
            per_language = {f"bpb.{k}": v for k, v in result["bpb_by_language"].items()}
            tracker.log_metrics(
                {"proxy_bpb": result["loss"], **per_language}, step=settings.proxy.max_steps
            )
        tracker.log_artifact(output.parent / "params.json")
    return {**result, "mlflow_run_id": tracker.run_id}


if __name__ == "__main__":
    entrypoint.run_entry_point(main)
