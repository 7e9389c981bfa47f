"""Gates, the POSO modules, and each variant against its plain twin."""

from __future__ import annotations

import pytest
import torch

from models.poso.modules import GatedMLP, MMoE, PersonalizedGate, TargetAttention
from models.poso.networks import MODELS, FeatureSizes, NetworkConfig, build_network

SIZES = FeatureSizes(users=7, items=11, genders=3, ages=8, occupations=4, genres=3, pc=5)
CONFIG = NetworkConfig(
    embedding_dim=8, hidden=(12, 6), heads=2, value_mixtures=3, experts=3, gate_hidden=4
)


def random_batch(n: int = 6, length: int = 4, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    items = torch.randint(0, SIZES.items, (n, length), generator=g)
    items[0] = 0  # a user's first event: no history at all
    pc = torch.zeros(n, SIZES.pc)
    pc[:, 0] = torch.tensor([1.0, 1.0, 0.0, 0.0, 1.0, 0.0])[:n]
    pc[torch.arange(n), 1 + torch.randint(0, SIZES.pc - 1, (n,), generator=g)] = 1.0
    return {
        "user": torch.randint(0, SIZES.users, (n,), generator=g),
        "item": torch.randint(2, SIZES.items, (n,), generator=g),
        "gender": torch.randint(0, SIZES.genders, (n,), generator=g),
        "age": torch.randint(0, SIZES.ages, (n,), generator=g),
        "occupation": torch.randint(0, SIZES.occupations, (n,), generator=g),
        "genres": torch.randint(0, 2, (n, SIZES.genres), generator=g).float(),
        "history_items": items,
        "history_labels": torch.where(items == 0, 0, torch.randint(1, 3, (n, length), generator=g)),
        "pc": pc,
    }


def test_gate_shape_range_and_scale():
    torch.manual_seed(0)
    gate = PersonalizedGate(pc_dim=5, out_dim=7, hidden=4, scale=2.0)
    pc = torch.randn(9, 5)
    out = gate(pc)
    assert out.shape == (9, 7)
    assert bool(((out > 0) & (out < 2.0)).all())
    # C multiplies the sigmoid: the same weights at C = 3 give 1.5 x the C = 2 gains.
    gate.scale = 3.0
    assert torch.allclose(gate(pc), 1.5 * out)


@pytest.mark.parametrize(("scale", "expected"), [(2.0, 1.0), (3.0, 1.5), (1.0, 0.5)])
def test_zero_logits_give_half_of_c(scale, expected):
    gate = PersonalizedGate(pc_dim=5, out_dim=3, scale=scale)
    torch.nn.init.zeros_(gate.out.weight)
    torch.nn.init.zeros_(gate.out.bias)
    assert torch.equal(gate(torch.randn(4, 5)), torch.full((4, 3), expected))


def test_gate_rejects_a_non_positive_scale():
    with pytest.raises(ValueError, match="scale"):
        PersonalizedGate(5, 3, scale=0.0)


def test_every_mlp_layer_has_its_own_gate_and_mmoe_one_gain_per_expert():
    mlp = GatedMLP(10, (8, 4), pc_dim=5)
    assert [g.out.out_features for g in mlp.gates] == [8, 4]
    mmoe = MMoE(10, experts=3, expert_hidden=(6,), tasks=2, pc_dim=5)
    assert mmoe.expert_gate.out.out_features == 3
    outputs = mmoe(torch.randn(4, 10), torch.randn(4, 5))
    assert [o.shape for o in outputs] == [(4, 6), (4, 6)]
    attention = TargetAttention(8, 8, 8, heads=2, value_mixtures=3, pc_dim=5)
    assert attention.key_gate.out.out_features == 8  # element-wise on keys
    assert attention.value_gate.out.out_features == 3  # one weight per value projection


def _open_gates(model: torch.nn.Module) -> None:
    """Gate output layer to zero: every gate is C·sigmoid(0) = 1 at C = 2."""
    for module in model.modules():
        if isinstance(module, PersonalizedGate):
            torch.nn.init.zeros_(module.out.weight)
            torch.nn.init.zeros_(module.out.bias)


def _twin_of(variant: torch.nn.Module, twin_name: str) -> torch.nn.Module:
    twin = build_network(twin_name, SIZES, CONFIG)
    shared = {k: v for k, v in variant.state_dict().items() if k in twin.state_dict()}
    assert set(shared) == set(twin.state_dict())  # the twin's weights all come from the variant
    twin.load_state_dict(shared)
    return twin


@pytest.mark.parametrize("variant", ["poso_mlp", "poso_mmoe", "poso_mha"])
def test_a_variant_with_unit_gates_is_exactly_its_plain_twin(variant):
    torch.manual_seed(1)
    model = build_network(variant, SIZES, CONFIG).eval()
    twin = _twin_of(model, MODELS[variant].twin).eval()
    batch = random_batch()
    with torch.no_grad():
        gated = model(batch)
        assert not torch.allclose(gated, twin(batch))  # random gates do change the output
        _open_gates(model)
        assert torch.equal(model(batch), twin(batch))


def test_mlp_and_mha_variants_reduce_to_the_baseline_itself():
    assert MODELS["poso_mlp"].twin == MODELS["poso_mha"].twin == "baseline"
    assert MODELS["poso_mmoe"].twin == "mmoe"


def test_attention_ignores_padding_and_an_empty_history_is_finite():
    torch.manual_seed(2)
    attention = TargetAttention(8, 8, 8, heads=2, value_mixtures=2, pc_dim=5).eval()
    target, history = torch.randn(2, 8), torch.randn(2, 4, 8)
    mask = torch.tensor([[True, True, False, False], [False, False, False, False]])
    pc = torch.randn(2, 5)
    out = attention(target, history, mask, pc)
    noisy = history.clone()
    noisy[:, 2:] = torch.randn(2, 2, 8) * 100  # padding positions only
    assert torch.allclose(attention(target, noisy, mask, pc), out)
    assert torch.isfinite(out).all()
    # Nothing to attend to: the pooled vector is zero, so only the output bias remains.
    assert torch.allclose(out[1], attention.out.bias)
