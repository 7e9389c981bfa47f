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
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=320,
        special_tokens=["<pad>", "<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(SENTENCES, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, bos_token="<s>", eos_token="</s>", pad_token="<pad>"
    )
    tokenizer.save_pretrained(folder)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
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
