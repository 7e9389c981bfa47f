"""POSO building blocks (Dai et al., 2021; PAPERS.md): the personalised gate and the three
personalised modules, each of which is its plain counterpart when every gate equals 1.

    x̂ = C · Σ_i g_i(pc) · f_i(x),    g(pc) = sigmoid(MLP(pc))

The gate sees only the personalisation code ``pc`` (here: the new-user flag and the user's
bucketised activity). With C = 2 a half-open gate (logit 0) is a gain of exactly 1, so a
POSO module whose gate logits are all zero computes exactly what its plain twin computes
with the same weights. ``gates=None`` in ``forward`` runs the plain twin.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class PersonalizedGate(nn.Module):
    """``C · sigmoid(W2 · relu(W1 · pc + b1) + b2)``: one gain per output unit, in (0, C)."""

    def __init__(self, pc_dim: int, out_dim: int, hidden: int = 32, scale: float = 2.0) -> None:
        super().__init__()
        if scale <= 0:
            raise ValueError(f"gate scale C must be > 0, got {scale}")
        self.hidden = nn.Linear(pc_dim, hidden)
        self.out = nn.Linear(hidden, out_dim)
        self.scale = scale

    def logits(self, pc: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.hidden(pc)))

    def forward(self, pc: torch.Tensor) -> torch.Tensor:
        return self.scale * torch.sigmoid(self.logits(pc))


def _gates(n: int, pc_dim: int | None, out_dims: Sequence[int], hidden: int, scale: float):
    if pc_dim is None:
        return None
    return nn.ModuleList(PersonalizedGate(pc_dim, d, hidden, scale) for d in out_dims[:n])


class GatedMLP(nn.Module):
    """Linear + ReLU layers; POSO(MLP) when ``pc_dim`` is given: x̂ = C·g(pc) ⊙ relu(W x),
    every layer with its own gate."""

    def __init__(
        self,
        in_dim: int,
        hidden: Sequence[int],
        pc_dim: int | None = None,
        gate_hidden: int = 32,
        scale: float = 2.0,
    ) -> None:
        super().__init__()
        dims = [in_dim, *hidden]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims, dims[1:], strict=False))
        self.gates = _gates(len(hidden), pc_dim, hidden, gate_hidden, scale)
        self.out_dim = dims[-1]

    def forward(self, x: torch.Tensor, pc: torch.Tensor | None = None) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = torch.relu(layer(x))
            if self.gates is not None:
                x = x * self.gates[i](pc)
        return x


class MMoE(nn.Module):
    """Multi-gate mixture of experts (one softmax gate per task over shared MLP experts).

    POSO(MMoE) when ``pc_dim`` is given: each expert's output is multiplied by its own
    personalised gain before the task gates mix them (the same parameters otherwise).
    """

    def __init__(
        self,
        in_dim: int,
        experts: int,
        expert_hidden: Sequence[int],
        tasks: int = 1,
        pc_dim: int | None = None,
        gate_hidden: int = 32,
        scale: float = 2.0,
    ) -> None:
        super().__init__()
        self.experts = nn.ModuleList(GatedMLP(in_dim, expert_hidden) for _ in range(experts))
        self.task_gates = nn.ModuleList(nn.Linear(in_dim, experts) for _ in range(tasks))
        self.expert_gate = (
            None if pc_dim is None else PersonalizedGate(pc_dim, experts, gate_hidden, scale)
        )
        self.out_dim = self.experts[0].out_dim

    def forward(self, x: torch.Tensor, pc: torch.Tensor | None = None) -> list[torch.Tensor]:
        outputs = torch.stack([expert(x) for expert in self.experts], dim=1)  # B, E, D
        if self.expert_gate is not None:
            outputs = outputs * self.expert_gate(pc).unsqueeze(-1)
        mixed = []
        for gate in self.task_gates:
            weights = torch.softmax(gate(x), dim=-1).unsqueeze(-1)  # B, E, 1
            mixed.append((weights * outputs).sum(dim=1))
        return mixed


class TargetAttention(nn.Module):
    """Multi-head attention of a target (query) over a history (keys, values), padding masked.

    Values are the mean of ``value_mixtures`` projections (one linear map, as in plain MHA,
    with POSO's parameter count). POSO(MHA) when ``pc_dim`` is given: queries stay plain,
    keys are gated element-wise by C·G_k(pc) (``personalise_keys``), and values become the
    pc-weighted mixture C·Σ_n g_n(pc)·V_n(x) / N.
    """

    def __init__(
        self,
        query_dim: int,
        key_dim: int,
        model_dim: int,
        heads: int = 2,
        value_mixtures: int = 4,
        pc_dim: int | None = None,
        personalise_keys: bool = True,
        gate_hidden: int = 32,
        scale: float = 2.0,
    ) -> None:
        super().__init__()
        if model_dim % heads:
            raise ValueError(f"model_dim {model_dim} is not divisible by heads {heads}")
        self.heads, self.model_dim = heads, model_dim
        self.query = nn.Linear(query_dim, model_dim)
        self.key = nn.Linear(key_dim, model_dim)
        self.values = nn.ModuleList(nn.Linear(key_dim, model_dim) for _ in range(value_mixtures))
        self.out = nn.Linear(model_dim, model_dim)
        personal = pc_dim is not None
        self.key_gate = (
            PersonalizedGate(pc_dim, model_dim, gate_hidden, scale)
            if personal and personalise_keys
            else None
        )
        self.value_gate = (
            PersonalizedGate(pc_dim, value_mixtures, gate_hidden, scale) if personal else None
        )

    def forward(
        self,
        target: torch.Tensor,
        history: torch.Tensor,
        mask: torch.Tensor,
        pc: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """target (B, Dq), history (B, L, Dk), mask (B, L) True where an item is → (B, D)."""
        batch, length, _ = history.shape
        head_dim = self.model_dim // self.heads
        query = self.query(target).view(batch, self.heads, 1, head_dim)
        keys = self.key(history)
        if self.key_gate is not None:
            keys = keys * self.key_gate(pc).unsqueeze(1)
        values = torch.stack([v(history) for v in self.values], dim=2)  # B, L, N, D
        if self.value_gate is not None:
            values = values * self.value_gate(pc)[:, None, :, None]
        values = values.sum(dim=2) / len(self.values)
        keys = keys.view(batch, length, self.heads, head_dim).transpose(1, 2)  # B, H, L, d
        values = values.view(batch, length, self.heads, head_dim).transpose(1, 2)
        scores = (query @ keys.transpose(-1, -2)) / head_dim**0.5  # B, H, 1, L
        visible = mask[:, None, None, :]
        # An empty history (a user's first event) attends to nothing and yields zeros.
        weights = torch.softmax(scores.masked_fill(~visible, -1e9), dim=-1) * visible
        pooled = (weights @ values).reshape(batch, self.model_dim)
        return self.out(pooled)
