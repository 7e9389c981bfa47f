"""Train (or load) the byte-level BPE tokenizer a mixture's models share.

Entry point: ``python -m models.pretrain.tokenizer --corpus PATH --output DIR --vocab-size N``
writes ``DIR/tokenizer.json`` (+ the transformers files), loadable offline by
``load_tokenizer(DIR)``. Training reads each document once (copies do not matter for the
vocabulary) and skips held-out rows.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from models.pretrain.corpus import corpus_from_table, read_corpus
from thresher.config import Settings
from thresher.entrypoint import BadInput, run_entry_point, task_output

SPECIAL_TOKENS = ["<pad>", "<s>", "</s>", "<unk>"]


def train_tokenizer(texts: Sequence[str], vocab_size: int, output: Path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(texts, trainer=trainer, length=len(texts))
    fast = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
    )
    output.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(str(output))
    return fast


def load_tokenizer(path: str | Path):
    from transformers import PreTrainedTokenizerFast

    file = Path(path) / "tokenizer.json"
    if not file.is_file():
        raise BadInput(f"no tokenizer at {path} (expected {file})")
    return PreTrainedTokenizerFast.from_pretrained(str(path))


def main(argv: Sequence[str]) -> dict:
    parser = argparse.ArgumentParser(prog="python -m models.pretrain.tokenizer")
    parser.add_argument("--corpus", required=True, help="Delta table, Parquet or JSONL path")
    parser.add_argument(
        "--output", required=True, help="tokenizer folder (relative: under the checkpoint root)"
    )
    parser.add_argument("--vocab-size", type=int, default=8192)
    args = parser.parse_args(argv)
    if args.vocab_size < 300:
        raise BadInput("--vocab-size must be at least 300 (256 bytes + special tokens + merges)")
    output = task_output(args.output, Settings.from_env())
    if (output / "tokenizer.json").is_file():
        tokenizer = load_tokenizer(output)  # a retried task keeps the vocabulary it made
        return {"tokenizer": str(output), "vocab_size": len(tokenizer), "trained": False}
    corpus = corpus_from_table(read_corpus(args.corpus))
    texts = [t for t, held in zip(corpus.texts, corpus.validation, strict=True) if not held]
    tokenizer = train_tokenizer(texts, args.vocab_size, output)
    return {"tokenizer": str(output), "vocab_size": len(tokenizer), "trained": True}


if __name__ == "__main__":
    run_entry_point(main)
