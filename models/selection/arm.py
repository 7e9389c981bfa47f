"""One arm and seed of the selection study: its mixture → the proxy → held-out bits per byte.

Entry point (the ``arm`` step of ``thresher.experiments.SELECTION_STUDY``)::

    python -m models.selection.arm --features PATH --study-dir DIR --tokenizer DIR \
        --arm NAME --seed S [--parent-run-id ID]

The arm selects from the pool under the quota (``thresher.selection``: the same budget and
language shares for every arm; ``Settings.proxy`` and ``Settings.mixture``), the proxy of
``Settings.proxy`` trains on it with ``seed``, and the ``test`` half of the held-out text
scores it: bits per byte per language, accuracy and MLC on the aligned choice tasks. Outputs go
to ``<study-dir>/arms/<arm>[-<params version>]/seed-<seed>/``; ``arm.json`` there marks a
finished arm, which a re-run returns at once. An arm whose input is missing (no searched
parameters configured, no ``gold.mixture_murating``) is a result too: ``skipped``, with why.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from models.mixture_search.features import FeaturePool, read_features
from models.mixture_search.training import HeldOut, task_parser, train_and_evaluate
from models.pretrain.tokenizer import load_tokenizer
from thresher import entrypoint, selection
from thresher.config import SELECTION_ARMS, Settings
from thresher.entrypoint import BadInput
from thresher.mixture_quota import Quota
from thresher.quadmix import QuadMixParams
from thresher.selection_study import study_settings
from thresher.tables import mixture_table

FINISHED = "arm.json"
HALF = "test"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = task_parser("python -m models.selection.arm", "--study-dir", "the whole study")
    parser.add_argument("--arm", required=True, choices=SELECTION_ARMS)
    parser.add_argument("--seed", type=int, required=True)
    args = parser.parse_args(argv)
    if args.seed < 1:
        raise BadInput("--seed must be >= 1")
    return args


def searched_params(settings: Settings, pool: FeaturePool) -> QuadMixParams | str:
    """The searched parameters, or why the arm cannot run."""
    path = settings.selection.searched_params
    if not path:
        return "no searched parameters configured (THRESHER_SELECTION_SEARCHED_PARAMS)"
    try:
        params = QuadMixParams.from_json(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError) as exc:
        raise BadInput(f"THRESHER_SELECTION_SEARCHED_PARAMS {path}: {exc}") from None
    if params.criteria != pool.criteria:
        raise BadInput(f"searched parameters weigh {params.criteria}, the pool {pool.criteria}")
    return params


def murating_copies(settings: Settings, pool: FeaturePool) -> np.ndarray | str:
    """Copies per pool document in gold.mixture_<murating_mixture>, or why there are none."""
    from deltalake import DeltaTable

    spec = mixture_table(settings.selection.murating_mixture)
    path = spec.path(settings)
    if "://" not in path and not (Path(path) / "_delta_log").is_dir():
        return f"{spec.qualified_name} does not exist (run the murating DAG first)"
    table = DeltaTable(path).to_pyarrow_table(columns=["ingest_date", "doc_id", "copies"])
    chosen = {
        f"{d}/{doc}": c
        for d, doc, c in zip(
            table.column("ingest_date").to_pylist(),
            table.column("doc_id").to_pylist(),
            table.column("copies").to_pylist(),
            strict=True,
        )
    }
    copies = np.asarray([chosen.get(node, 0) for node in pool.nodes], dtype=np.float64)
    if not copies.any():
        return f"{spec.qualified_name} holds none of the pool's documents"
    return copies


def select(args, settings: Settings, pool: FeaturePool) -> tuple[dict | str, str]:
    """The arm's copies and quota record (or why it is skipped), and its folder name."""
    quota = Quota.of(settings.mixture, settings.proxy.budget_tokens)
    searched, murating, folder = None, None, args.arm
    if args.arm == "quadmix_searched":
        searched = searched_params(settings, pool)
        if isinstance(searched, str):
            return searched, folder
        folder = f"{args.arm}-{searched.version}"
    if args.arm == "murating":
        murating = murating_copies(settings, pool)
        if isinstance(murating, str):
            return murating, folder
    return selection.arm_copies(args.arm, pool, quota, args.seed, searched, murating), folder


def main(argv: Sequence[str]) -> dict:
    args = parse_args(argv)
    settings = study_settings(Settings.from_env())
    pool = read_features(args.features)
    chosen, folder = select(args, settings, pool)
    base = {"arm": args.arm, "seed": args.seed}
    if isinstance(chosen, str):
        return {**base, "status": "skipped", "detail": chosen}
    output = (
        entrypoint.task_output(args.study_dir, settings) / "arms" / folder / f"seed-{args.seed}"
    )
    output.mkdir(parents=True, exist_ok=True)
    tracker = entrypoint.open_task_tracker(
        settings,
        "selection_study",
        "arm",
        output,
        f"{args.arm} seed {args.seed}",
        args.parent_run_id,
        {"thresher.arm": args.arm},
    )

    def run() -> dict:
        copies = chosen["copies"]
        tokenizer = load_tokenizer(entrypoint.task_path(args.tokenizer, settings))
        trained = train_and_evaluate(
            pool,
            copies,
            settings,
            args.seed,
            tokenizer,
            output,
            tracker,
            HeldOut.load(settings, HALF),
        )
        return {
            **base,
            "status": "finished",
            **trained,
            "quota": chosen["quota"],
            "documents": int((copies > 0).sum()),
            "copies": int(copies.sum()),
        }

    with tracker:
        result = entrypoint.finished_or_run(output / FINISHED, run)
        tracker.log_params({"arm": args.arm, "seed": args.seed, "resumed": result["resumed"]})
        per_language = {f"bpb.{k}": v for k, v in result["bpb_by_language"].items()}
        tracker.log_metrics(
            {
                "bpb_mean": result["bpb_mean"],
                **per_language,
                "realised_tokens": result["quota"]["realised_tokens"],
            },
            step=settings.proxy.max_steps,
        )
    return {**result, "mlflow_run_id": tracker.run_id}


if __name__ == "__main__":
    entrypoint.run_entry_point(main)
