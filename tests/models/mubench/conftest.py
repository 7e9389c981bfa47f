"""A tiny LLaMA and byte-level BPE tokenizer, saved the way a trained model is."""

from __future__ import annotations

from pathlib import Path

import pytest

SENTENCES = [
    "The cat sat on the mat.",
    "The sun rises in the east and sets in the west.",
    "Topic: sports, travel, politics, health, geography.",
    "Der Hund schläft. Le chat dort. 猫在睡觉。แมวนอนหลับ",
]


def build_tiny_lm(folder: Path, seed: int = 0) -> Path:
    """The pretraining task's own byte-level BPE tokenizer (320 tokens) and a 2-layer LLaMA of
    its model sizes' shape, random weights."""
    import torch
    from transformers import LlamaForCausalLM

    from models.pretrain.sizes import ModelSize
    from models.pretrain.tokenizer import train_tokenizer

    tokenizer = train_tokenizer(SENTENCES, 320, folder)
    size = ModelSize(hidden=32, layers=2, heads=4, intermediate=64, max_positions=256)
    config = size.config(
        len(tokenizer), tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id
    )
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="package", autouse=True)
def one_torch_thread():
    """The tiny model's ops are far too small to split across threads; on a busy 2-core
    machine a second intra-op thread makes every op wait for a descheduled worker (20x
    slower, measured). Restored when this package's tests are done."""
    try:
        import torch
    except ImportError:  # the scoring tests skip themselves without the "ml" extra
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory) -> Path:
    """Folder holding both the model and its tokenizer."""
    return build_tiny_lm(tmp_path_factory.mktemp("tiny_lm"))
