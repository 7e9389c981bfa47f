"""The ranking networks of the POSO experiments: one embedding front, one tower, one logit.

Every model sees the same inputs — user, item, user profile, item genres, the user's recent
history pooled by target attention, and the personalisation code ``pc`` itself — so a POSO
variant differs from its plain twin only in *how* ``pc`` acts (gates), never in what it knows.

| model       | tower | personalised           | plain twin |
|-------------|-------|------------------------|------------|
| `baseline`  | MLP   | —                      | —          |
| `mmoe`      | MMoE  | —                      | —          |
| `poso_mlp`  | MLP   | every MLP layer        | baseline   |
| `poso_mmoe` | MMoE  | every expert           | mmoe       |
| `poso_mha`  | MLP   | history keys, values   | baseline   |
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from models.poso.grid import TWINS
from models.poso.modules import GatedMLP, MMoE, TargetAttention


@dataclass(frozen=True)
class FeatureSizes:
    """Vocabulary sizes (index 0 = padding / unknown) and the width of ``pc``."""

    users: int
    items: int
    genders: int
    ages: int
    occupations: int
    genres: int
    pc: int


@dataclass(frozen=True)
class NetworkConfig:
    embedding_dim: int = 16
    hidden: tuple[int, ...] = (64, 32)
    heads: int = 2
    value_mixtures: int = 4
    experts: int = 4
    gate_hidden: int = 32
    # C of C·sigmoid(MLP(pc)).
    gate_scale: float = 2.0

    def as_dict(self) -> dict:
        return {**asdict(self), "hidden": list(self.hidden)}


@dataclass(frozen=True)
class ModelSpec:
    tower: str  # "mlp" or "mmoe"
    personalised: frozenset[str]  # of "mlp", "mmoe", "mha"
    twin: str | None  # the plain model it equals when every gate is 1


MODELS = {
    "baseline": ModelSpec("mlp", frozenset(), None),
    "mmoe": ModelSpec("mmoe", frozenset(), None),
    "poso_mlp": ModelSpec("mlp", frozenset({"mlp"}), TWINS["poso_mlp"]),
    "poso_mmoe": ModelSpec("mmoe", frozenset({"mmoe"}), TWINS["poso_mmoe"]),
    "poso_mha": ModelSpec("mlp", frozenset({"mha"}), TWINS["poso_mha"]),
}


class EmbeddingFront(nn.Module):
    """Batch → one vector: embeddings, genre mean, attention-pooled history, and ``pc``."""

    def __init__(self, sizes: FeatureSizes, config: NetworkConfig, personalise_history: bool):
        super().__init__()
        d = config.embedding_dim
        self.user = nn.Embedding(sizes.users, d)
        self.item = nn.Embedding(sizes.items, d, padding_idx=0)
        self.gender = nn.Embedding(sizes.genders, d)
        self.age = nn.Embedding(sizes.ages, d)
        self.occupation = nn.Embedding(sizes.occupations, d)
        self.genres = nn.Linear(sizes.genres, d, bias=False)
        # 0 padding, 1 a negative event, 2 a positive one.
        self.history_label = nn.Embedding(3, d, padding_idx=0)
        self.attention = TargetAttention(
            d,
            d,
            d,
            heads=config.heads,
            value_mixtures=config.value_mixtures,
            pc_dim=sizes.pc if personalise_history else None,
            gate_hidden=config.gate_hidden,
            scale=config.gate_scale,
        )
        self.personalise_history = personalise_history
        self.out_dim = 7 * d + sizes.pc

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        item = self.item(batch["item"])
        items = batch["history_items"]
        history = self.item(items) + self.history_label(batch["history_labels"])
        pc = batch["pc"]
        pooled = self.attention(item, history, items != 0, pc if self.personalise_history else None)
        genres = batch["genres"]
        genre_mean = self.genres(genres) / genres.sum(-1, keepdim=True).clamp(min=1.0)
        parts = [
            self.user(batch["user"]),
            item,
            self.gender(batch["gender"]),
            self.age(batch["age"]),
            self.occupation(batch["occupation"]),
            genre_mean,
            pooled,
            pc,
        ]
        return torch.cat(parts, dim=-1)


class RankingNetwork(nn.Module):
    """Front → tower (MLP or MMoE, personalised or not) → one logit per event."""

    def __init__(self, model: str, sizes: FeatureSizes, config: NetworkConfig) -> None:
        super().__init__()
        if model not in MODELS:
            raise ValueError(f"unknown model {model!r}; expected one of {sorted(MODELS)}")
        spec = MODELS[model]
        self.model, self.spec = model, spec
        self.front = EmbeddingFront(sizes, config, "mha" in spec.personalised)
        gate = {"gate_hidden": config.gate_hidden, "scale": config.gate_scale}
        if spec.tower == "mlp":
            pc_dim = sizes.pc if "mlp" in spec.personalised else None
            self.tower = GatedMLP(self.front.out_dim, config.hidden, pc_dim, **gate)
        else:
            pc_dim = sizes.pc if "mmoe" in spec.personalised else None
            self.tower = MMoE(self.front.out_dim, config.experts, config.hidden, 1, pc_dim, **gate)
        self.head = nn.Linear(self.tower.out_dim, 1)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x = self.front(batch)
        hidden = self.tower(x, batch["pc"])
        if isinstance(hidden, list):  # MMoE: one output per task, and there is one task
            hidden = hidden[0]
        return self.head(hidden).squeeze(-1)


def build_network(model: str, sizes: FeatureSizes, config: NetworkConfig) -> RankingNetwork:
    return RankingNetwork(model, sizes, config)
