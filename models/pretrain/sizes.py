"""Named LLaMA sizes: a tiny one for CPU tests, proxies for mixture search, the papers' 1.2B.

Parameter counts (tied embeddings) depend on the vocabulary; the figures below are for the
vocabulary named beside each size.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class ModelSize:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    max_positions: int = 2048

    def config(self, vocab_size: int, bos_id: int, eos_id: int, pad_id: int):
        from transformers import LlamaConfig

        return LlamaConfig(
            vocab_size=vocab_size,
            hidden_size=self.hidden,
            intermediate_size=self.intermediate,
            num_hidden_layers=self.layers,
            num_attention_heads=self.heads,
            num_key_value_heads=self.heads,
            max_position_embeddings=self.max_positions,
            tie_word_embeddings=True,
            bos_token_id=bos_id,
            eos_token_id=eos_id,
            pad_token_id=pad_id,
        )

    def as_dict(self) -> dict:
        return asdict(self)


SIZES: dict[str, ModelSize] = {
    # ~0.4M parameters at a 4k vocabulary: trains on a laptop CPU in minutes.
    "tiny": ModelSize(hidden=64, layers=2, heads=4, intermediate=176, max_positions=512),
    # Proxies for mixture search (RegMix/QuaDMix train many small models): ~1M, ~6M, ~20M
    # at vocabularies of 4k, 8k and 16k.
    "proxy_1m": ModelSize(hidden=128, layers=4, heads=4, intermediate=352, max_positions=1024),
    "proxy_5m": ModelSize(hidden=256, layers=6, heads=8, intermediate=688),
    "proxy_20m": ModelSize(hidden=384, layers=8, heads=8, intermediate=1024),
    # ~110M at a 32k vocabulary (GPT-2 small's scale).
    "llama_100m": ModelSize(hidden=768, layers=12, heads=12, intermediate=2048),
    # ~1.2B at a 32k vocabulary, the scale both QuaDMix and MuRating pretrain.
    "llama_1b": ModelSize(hidden=2048, layers=22, heads=16, intermediate=5632),
}


def model_size(name: str) -> ModelSize:
    try:
        return SIZES[name]
    except KeyError:
        raise ValueError(f"unknown model size {name!r}; known: {', '.join(SIZES)}") from None


def training_flops_per_token(size: ModelSize, parameters: int, sequence_length: int) -> float:
    """Model FLOPs per trained token: 6·N for the weights plus attention's 12·L·d·T (PaLM, B)."""
    return 6.0 * parameters + 12.0 * size.layers * size.hidden * sequence_length
