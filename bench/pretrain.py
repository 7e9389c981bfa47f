"""Pretraining throughput on this machine's CPU, per named size (``make bench-pretrain``).

Trains each size for a few steps on NTREX-128 (18 languages) through the entry point's own
``train()`` and reports the tokens/s of its last logging window, with the GPU figures of
``bench/gpu_check.py`` (``bench/results/gpu.json``) beside them when present. Writes
``bench/results/pretrain.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from bench.gpu_check import REPO, prepare

# size -> its short run's TrainConfig fields
CPU_RUNS = {
    "tiny": {"sequence_length": 256, "batch_size": 16, "max_steps": 40, "log_every": 20},
    "proxy_1m": {"sequence_length": 256, "batch_size": 16, "max_steps": 30, "log_every": 15},
    "proxy_5m": {"sequence_length": 512, "batch_size": 8, "max_steps": 20, "log_every": 10},
    "proxy_20m": {"sequence_length": 512, "batch_size": 8, "max_steps": 10, "log_every": 5},
}


def main() -> None:
    import torch

    from models.pretrain.corpus import corpus_from_table, read_corpus
    from models.pretrain.tokenizer import load_tokenizer
    from models.pretrain.train import TrainConfig, train
    from thresher.entrypoint import Tracker

    parser = argparse.ArgumentParser(prog="python -m bench.pretrain")
    parser.add_argument("--sizes", default=",".join(CPU_RUNS))
    parser.add_argument("--data", type=Path, default=REPO / ".gpu")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "pretrain.json")
    args = parser.parse_args()
    if not (args.data / "tokenizer" / "tokenizer.json").is_file():
        prepare(args.data)
    corpus = corpus_from_table(read_corpus(str(args.data / "corpus.parquet")))
    tokenizer = load_tokenizer(args.data / "tokenizer")

    class Windows(Tracker):
        def __init__(self):
            self.windows = []

        def log_metrics(self, metrics, step):
            if "tokens_per_second" in metrics:
                self.windows.append(metrics["tokens_per_second"])

    cpu = {}
    for size in args.sizes.split(","):
        run = CPU_RUNS[size]
        config = TrainConfig(
            size=size,
            **run,
            checkpoint_every=run["max_steps"],
            warmup_steps=2,
            device="cpu",
            compile="off",
        )
        tracker = Windows()
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as out:
            summary = train(config, corpus, tokenizer, Path(out), tracker)
        cpu[size] = {
            "parameters": summary["parameters"],
            "sequence_length": config.sequence_length,
            "batch_size": config.batch_size,
            "steps": config.max_steps,
            "tokens_per_second": tracker.windows[-1],
            "wall_s": time.perf_counter() - started,
        }
        print(json.dumps({size: cpu[size]}), flush=True)
    gpu_file = REPO / "bench" / "results" / "gpu.json"
    report = {
        "cpu": {
            "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}",
            "torch_threads": torch.get_num_threads(),
            "precision": "fp32, eager",
            "runs": cpu,
        },
        "gpu": json.loads(gpu_file.read_text()) if gpu_file.is_file() else None,
        "corpus": "NTREX-128 newstest2019, 18 languages; byte-level BPE, 16,384 tokens",
    }
    args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report["cpu"], indent=2))


if __name__ == "__main__":
    main()
