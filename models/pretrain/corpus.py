"""Training text in, packed token blocks out, in an order fixed by the seed.

A corpus is any table with a ``text`` column, read from a Delta table (``deltalake``, no JVM:
the GPU image has none), a Parquet file or folder, or JSONL. Optional columns: ``language``
and ``domain`` (validation loss is reported per value), ``copies`` (a QuaDMix mixture's copy
count: a document is trained on that many times; 0 drops it) and ``split`` (``validation``
rows are held out; without the column none are).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from thresher.entrypoint import BadInput

VALIDATION = "validation"


@dataclass
class Corpus:
    texts: list[str]
    languages: list[str]
    domains: list[str]
    copies: np.ndarray
    validation: np.ndarray  # bool per document

    def __len__(self) -> int:
        return len(self.texts)


def read_corpus(path: str, storage_options: dict | None = None):
    """The corpus at ``path`` as an Arrow table; ``BadInput`` when it is missing or unusable."""
    import pyarrow.dataset as ds
    import pyarrow.json as pj

    local = "://" not in path
    if local and not Path(path).exists():
        raise BadInput(f"corpus {path} does not exist")
    try:
        if _is_delta(path):
            from deltalake import DeltaTable

            table = DeltaTable(path, storage_options=storage_options).to_pyarrow_table()
        elif path.endswith((".jsonl", ".json")):
            table = pj.read_json(path)
        else:
            table = ds.dataset(path, format="parquet").to_table()
    except (OSError, ValueError) as exc:
        raise BadInput(f"corpus {path} could not be read: {exc}") from None
    if "text" not in table.column_names:
        raise BadInput(f"corpus {path} has no 'text' column (columns: {table.column_names})")
    if table.num_rows == 0:
        raise BadInput(f"corpus {path} is empty")
    return table


def _is_delta(path: str) -> bool:
    if "://" in path:
        return True  # object stores hold Delta tables here; Parquet is a local-path format
    return (Path(path) / "_delta_log").is_dir()


def corpus_from_table(table) -> Corpus:
    n = table.num_rows

    def column(name: str, default):
        if name in table.column_names:
            return table.column(name).to_pylist()
        return [default] * n

    texts = column("text", None)
    copies = np.asarray(column("copies", 1), dtype=np.int64)
    if any(t is None for t in texts):
        raise BadInput("corpus has null texts")
    if (copies < 0).any():
        raise BadInput("corpus has negative copy counts")
    splits = column("split", "train")
    return Corpus(
        texts=texts,
        languages=[v or "unknown" for v in column("language", "unknown")],
        domains=[v or "unknown" for v in column("domain", "unknown")],
        copies=copies,
        validation=np.asarray([s == VALIDATION for s in splits], dtype=bool),
    )


def tokenize(tokenizer, texts: list[str], batch_size: int = 1024) -> list[np.ndarray]:
    out: list[np.ndarray] = []
    for start in range(0, len(texts), batch_size):
        encoded = tokenizer(texts[start : start + batch_size], add_special_tokens=False)
        out.extend(np.asarray(ids, dtype=np.int32) for ids in encoded["input_ids"])
    return out


def pack(token_lists: list[np.ndarray], order: np.ndarray, eos_id: int, block: int) -> np.ndarray:
    """Documents in ``order`` (indices, repeats allowed), each ended by EOS, cut into blocks.

    Returns ``(n_blocks, block)``; the tail that does not fill a block is dropped.
    """
    if len(order) == 0:
        return np.zeros((0, block), dtype=np.int32)
    eos = np.asarray([eos_id], dtype=np.int32)
    stream = np.concatenate([part for i in order for part in (token_lists[i], eos)])
    n_blocks = len(stream) // block
    return stream[: n_blocks * block].reshape(n_blocks, block)


def training_order(corpus: Corpus, seed: int) -> np.ndarray:
    """Training documents repeated by their copies, shuffled by ``seed``: the same every run."""
    train = np.flatnonzero(~corpus.validation)
    repeated = np.repeat(train, corpus.copies[train])
    return np.random.default_rng(seed).permutation(repeated)


def validation_groups(corpus: Corpus) -> dict[str, np.ndarray]:
    """Held-out document indices per ``language:<l>`` and per ``domain:<d>``."""
    held = np.flatnonzero(corpus.validation)
    groups: dict[str, list[int]] = {}
    for i in held:
        groups.setdefault(f"language:{corpus.languages[i]}", []).append(int(i))
        groups.setdefault(f"domain:{corpus.domains[i]}", []).append(int(i))
    return {k: np.asarray(v, dtype=np.int64) for k, v in groups.items()}
