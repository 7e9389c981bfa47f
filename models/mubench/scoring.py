"""Log-likelihood of continuations under a causal LM, cloze style (lm-eval-harness, lighteval).

Each request is ``(context, continuation)``; its score is the sum of the log-probabilities of
the continuation's tokens given everything before them. As lm-eval-harness does, whitespace
at the end of the context moves to the continuation, and the continuation's tokens are those
of ``context + continuation`` after the context's own tokens, so the tokenizer sees the text
as one string. A token precedes the context: the tokenizer's BOS token when it has one,
otherwise its EOS token when the context is empty (the "end of text" prefix lm-eval uses for
perplexity); with neither, the first token of an empty context's text is not scored.

Sequences longer than the model's window are scored in windows: the continuation's tokens
are cut into blocks of at most ``max_length`` and each block is conditioned on as many of the
tokens before it as fit, so every continuation token is scored exactly once.

Batches are right-padded with an attention mask, so a request's tokens sit at the same
positions alone or in a batch; windows are batched longest first, in a deterministic order.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import torch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Loglikelihood:
    logprob: float  # natural log, summed over the scored tokens
    n_tokens: int


@dataclass(frozen=True)
class _Window:
    request: int
    input_ids: list[int]
    targets: list[int]  # the next tokens of the last len(targets) inputs


def split_pair(context: str, continuation: str) -> tuple[str, str]:
    """Move the context's trailing whitespace to the start of the continuation."""
    stripped = context.rstrip()
    return stripped, context[len(stripped) :] + continuation


def plan_windows(length: int, first_target: int, max_length: int) -> list[tuple[int, int, int]]:
    """``(start, first, end)`` spans covering targets ``first..length-1`` of a token stream.

    A span's model input is ``tokens[start:end - 1]`` (at most ``max_length`` tokens) and its
    targets are ``tokens[first:end]``: blocks of at most ``max_length`` targets, each with as
    much left context as fits.
    """
    if not 1 <= first_target < length:
        raise ValueError(f"targets must start in 1..{length - 1}, got {first_target}")
    if max_length < 1:
        raise ValueError(f"max_length must be positive, got {max_length}")
    spans = []
    for first in range(first_target, length, max_length):
        end = min(first + max_length, length)
        spans.append((max(0, end - 1 - max_length), first, end))
    return spans


def resolve_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def resolve_dtype(dtype: str, device: torch.device) -> torch.dtype:
    """``auto``: float32 on CPU, bfloat16 on a GPU that has it, else float16."""
    if dtype == "auto":
        if device.type != "cuda":
            return torch.float32
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    choices = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
    if dtype not in choices:
        raise ValueError(f"dtype must be auto or one of {', '.join(choices)}, got {dtype!r}")
    return choices[dtype]


class CausalLMScorer:
    """Scores ``(context, continuation)`` requests with any ``transformers`` causal LM."""

    def __init__(self, model, tokenizer, batch_size: int = 8, max_length: int | None = None):
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.max_length = max_length or self._model_window(model, tokenizer)
        self.device = next(model.parameters()).device
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        # Most causal LMs can skip the vocabulary projection of positions nobody reads.
        self._keep_logits = "logits_to_keep" in inspect.signature(model.forward).parameters

    @classmethod
    def from_pretrained(
        cls,
        model_path: str,
        tokenizer_path: str | None = None,
        device: str = "auto",
        dtype: str = "auto",
        batch_size: int = 8,
        max_length: int | None = None,
    ) -> CausalLMScorer:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        target = resolve_device(device)
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_path or model_path)
        model = AutoModelForCausalLM.from_pretrained(model_path, dtype=resolve_dtype(dtype, target))
        return cls(model.to(target), tokenizer, batch_size=batch_size, max_length=max_length)

    @staticmethod
    def _model_window(model, tokenizer) -> int:
        limits = (
            getattr(model.config, "max_position_embeddings", None),
            getattr(tokenizer, "model_max_length", None),
        )
        # Tokenizers without a limit report a huge sentinel (int(1e30)).
        valid = [n for n in limits if isinstance(n, int) and 0 < n < 1_000_000]
        return min(valid) if valid else 2048

    def _encode(self, requests: Sequence[tuple[str, str]]) -> list[tuple[list[int], int]]:
        """Token stream and index of the first continuation token, per request."""
        pairs = [split_pair(context, continuation) for context, continuation in requests]
        texts = sorted({c for c, _ in pairs} | {c + x for c, x in pairs})
        encoded = self.tokenizer(texts, add_special_tokens=False)["input_ids"]
        ids = dict(zip(texts, encoded, strict=True))
        bos, eos = self.tokenizer.bos_token_id, self.tokenizer.eos_token_id
        streams = []
        for context, continuation in pairs:
            context_ids = ids[context] if context else []
            whole = ids[context + continuation]
            continuation_ids = whole[len(context_ids) :]
            if not continuation_ids:
                raise ValueError(f"continuation {continuation!r} encodes to no tokens")
            if bos is not None:
                prefix = [bos]
            else:
                prefix = [eos] if not context_ids and eos is not None else []
            stream = prefix + whole
            if len(stream) < 2:
                raise ValueError(f"{continuation!r} is one token with nothing before it to score")
            streams.append((stream, max(1, len(prefix) + len(context_ids))))
        return streams

    def loglikelihoods(self, requests: Sequence[tuple[str, str]]) -> list[Loglikelihood]:
        windows = []
        n_tokens = []
        for index, (stream, first) in enumerate(self._encode(requests)):
            n_tokens.append(len(stream) - first)
            for start, block, end in plan_windows(len(stream), first, self.max_length):
                windows.append(_Window(index, stream[start : end - 1], stream[block:end]))
        order = sorted(range(len(windows)), key=lambda i: (-len(windows[i].input_ids), i))
        totals = [0.0] * len(requests)
        for offset in range(0, len(order), self.batch_size):
            batch = [windows[i] for i in order[offset : offset + self.batch_size]]
            for window, value in zip(batch, self._score_batch(batch), strict=True):
                totals[window.request] += value
        log.info("scored %d requests in %d windows", len(requests), len(windows))
        return [Loglikelihood(t, n) for t, n in zip(totals, n_tokens, strict=True)]

    @torch.inference_mode()
    def _score_batch(self, batch: Sequence[_Window]) -> list[float]:
        width = max(len(w.input_ids) for w in batch)
        input_ids = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
        attention_mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, window in enumerate(batch):
            input_ids[row, : len(window.input_ids)] = torch.tensor(window.input_ids)
            attention_mask[row, : len(window.input_ids)] = 1
        # Logits are needed from the earliest position that predicts a target, in any row.
        keep = width - min(len(w.input_ids) - len(w.targets) for w in batch)
        kwargs = {"logits_to_keep": keep} if self._keep_logits else {}
        logits = self.model(
            input_ids=input_ids.to(self.device),
            attention_mask=attention_mask.to(self.device),
            **kwargs,
        ).logits
        shift = width - logits.shape[1]
        sums = []
        for row, window in enumerate(batch):
            end = len(window.input_ids) - shift
            rows = logits[row, end - len(window.targets) : end].float()
            targets = torch.tensor(window.targets, device=rows.device)
            picked = rows.gather(-1, targets[:, None])[:, 0] - torch.logsumexp(rows, dim=-1)
            sums.append(picked.double().sum())
        return torch.stack(sums).tolist()
