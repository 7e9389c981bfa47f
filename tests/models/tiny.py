"""Tiny transformers checkpoints for model-task tests: built from a config, random weights, no
hub download."""

from __future__ import annotations

from pathlib import Path


def save_word_tokenizer(folder: Path, words: list[str], unk_token: str, **special_tokens):
    """A word-level tokenizer over ``words`` (ids in list order, split at whitespace), saved in
    ``folder`` as a checkpoint's tokenizer is."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocabulary = {word: i for i, word in enumerate(words)}
    tokenizer = Tokenizer(models.WordLevel(vocabulary, unk_token=unk_token))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token=unk_token, **special_tokens
    )
    fast.save_pretrained(folder)
    return fast


def save_model(folder: Path, model_class, config, seed: int = 0) -> Path:
    """``model_class(config)`` with seeded random weights, saved in ``folder``."""
    import torch

    torch.manual_seed(seed)
    model_class(config).save_pretrained(folder)
    return folder
