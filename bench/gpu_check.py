"""GPU check: the pretraining entry point on CUDA (bf16, torch.compile), against the card's peak.

Two steps, because the GPU machine has no ../shared and no network:

    python -m bench.gpu_check prepare --out .gpu          # here: corpus + tokenizer
    python3 -m bench.gpu_check run --data .gpu --out DIR  # there: train, measure, report

``prepare`` writes NTREX-128 news (18 languages, one row per document) as Parquet and trains
the byte-level BPE tokenizer on it. ``run`` trains each named size for a few steps through
``python -m models.pretrain.train`` (tracking off: no MLflow server there), reads the
entry point's own tokens/s and model FLOP utilisation from its last logging window (after
compilation and warm-up), and writes ``gpu.json`` naming the device.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Model outputs: the checkpoint root of the runs (outputs must resolve inside it).
WORK = Path("/tmp/thresher-gpu-check")
NTREX = REPO.parent / "shared" / "data" / "ntrex"
# size -> (sequence length, batch size, steps, log every)
RUNS = {
    "proxy_20m": (1024, 64, 120, 40),
    "llama_100m": (1024, 32, 120, 40),
}
VOCAB = 16384


def prepare(out: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from models.pretrain.tokenizer import train_tokenizer

    ids = [line.split("\t")[0] for line in (NTREX / "DOCUMENT_IDS.tsv").read_text().splitlines()]
    rows = []
    for path in sorted(NTREX.glob("newstest2019-ref.*.txt")):
        language = path.name.split(".")[1]
        documents: dict[str, list[str]] = {}
        for doc_id, line in zip(ids, path.read_text().splitlines(), strict=True):
            documents.setdefault(doc_id, []).append(line)
        for k, (doc_id, lines) in enumerate(documents.items()):
            split = "validation" if k % 20 == 0 else "train"
            rows.append(
                {
                    "doc_id": doc_id,
                    "language": language,
                    "domain": "news",
                    "text": "\n".join(lines),
                    "copies": 1,
                    "split": split,
                }
            )
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), out / "corpus.parquet")
    train_tokenizer([r["text"] for r in rows if r["split"] == "train"], VOCAB, out / "tokenizer")
    print(json.dumps({"documents": len(rows), "out": str(out)}))


def run(data: Path, out: Path, sizes: list[str]) -> dict:
    data = data.resolve()  # relative paths would mean "under the checkpoint root"
    import torch

    results = {}
    for size in sizes:
        sequence, batch, steps, log_every = RUNS[size]
        args = [
            sys.executable,
            "-m",
            "models.pretrain.train",
            "--corpus",
            str(data / "corpus.parquet"),
            "--tokenizer",
            str(data / "tokenizer"),
            "--output",
            size,
            "--size",
            size,
            "--sequence-length",
            str(sequence),
            "--batch-size",
            str(batch),
            "--max-steps",
            str(steps),
            "--log-every",
            str(log_every),
            "--checkpoint-every",
            str(steps),
            "--warmup-steps",
            "20",
            "--learning-rate",
            "1e-3",
            "--device",
            "cuda",
        ]
        env = {
            **os.environ,
            "THRESHER_TRACKING_TRACKING_URI": "off",
            "PYTHONPATH": str(REPO),
            "THRESHER_CHECKPOINT_ROOT": str(WORK),
        }
        started = time.perf_counter()
        proc = subprocess.run(args, env=env, capture_output=True, text=True, cwd=REPO)
        wall = time.perf_counter() - started
        (out / f"{size}.log").write_text(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            results[size] = {"error": proc.stderr[-2000:], "wall_s": wall}
            continue
        windows = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith('{"step"')]
        summary = json.loads(proc.stdout.strip().splitlines()[-1])
        results[size] = {
            "parameters": summary["parameters"],
            "sequence_length": sequence,
            "batch_size": batch,
            "steps": steps,
            # the last window: compiled, warmed up
            "tokens_per_second": windows[-1]["tokens_per_second"],
            "mfu": windows[-1].get("mfu"),
            "tokens_per_second_by_window": [w["tokens_per_second"] for w in windows],
            "train_loss": windows[-1]["train_loss"],
            "val_loss": summary["val_loss"].get("all"),
            "wall_s": wall,
        }
    report = {
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "precision": "bf16 autocast" if torch.cuda.is_bf16_supported() else "fp32",
        "compile": True,
        "peak_bf16_flops": "989e12 dense (H100/H200 SXM)",
        "mfu_definition": "(6N + 12·L·d·T) FLOPs per token × tokens/s ÷ peak (PaLM, appendix B)",
        "corpus": "NTREX-128 newstest2019, 18 languages, one row per document",
        "tokenizer_vocab": VOCAB,
        "runs": results,
    }
    (out / "gpu.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return report


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.gpu_check")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--out", type=Path, default=REPO / ".gpu")
    r = sub.add_parser("run")
    r.add_argument("--data", type=Path, default=REPO / ".gpu")
    r.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    r.add_argument("--sizes", default=",".join(RUNS))
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args.out)
    else:
        args.out.mkdir(parents=True, exist_ok=True)
        run(args.data, args.out, args.sizes.split(","))


if __name__ == "__main__":
    main()
