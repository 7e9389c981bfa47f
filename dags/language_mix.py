"""Language-mix study (MuBench, PAPERS.md): language ratio × parallel share → accuracy and MLC.

Triggered by hand (no schedule). The tasks are the steps of
``thresher.experiments.LANGUAGE_MIX``, wired as declared (``thresher_tasks.experiments``)::

    pool ─┬─ tokenizer ─┐
          └─ open ──────┴─ cell[0 … G-1] ─ results

- ``pool`` (Spark, ``spark_jobs.language_mix``): the mixture's English and second-language
  documents and the English–second-language parallel pairs of ``silver.murating_documents``,
  as ``gold.language_mix_pool_<mixture>``.
- ``tokenizer``: one byte-level BPE for every cell, so their losses compare.
- ``open`` opens the parent MLflow run and logs the grid.
- ``cell``: one mapped model task per (english_share, parallel_share) of
  ``THRESHER_LANGUAGE_MIX_ENGLISH_SHARES`` × ``THRESHER_LANGUAGE_MIX_PARALLEL_SHARES`` (fixed
  when this file is parsed): a GPU pod on Kubernetes, a local process otherwise, at most as
  many at once as the ``language_mix`` pool setting allows. Each draws its corpus, pretrains a
  small LLaMA-architecture model and scores it on aligned items (``models.mubench``); the
  model, run and evaluation are ``THRESHER_LANGUAGE_MIX_*``, which model tasks receive as
  ``THRESHER_SETTINGS``.
- ``results``: the table of accuracy per language, MLC and Rel-MLC against English and
  validation loss per language over the two knobs, logged to the parent run.

Outputs live under ``language_mix/<mixture>/<language>/<pool fingerprint>-<training key>/``
below the checkpoint root, so re-running the DAG returns the finished cells at once and
resumes an interrupted one from its last checkpoint. ``make bench-langmix`` runs the same
steps without Airflow.
"""

from __future__ import annotations

from thresher.config import Settings
from thresher.experiments import LANGUAGE_MIX
from thresher_tasks.experiments import experiment_dag

# environment only: no I/O at parse time
language_mix = experiment_dag(LANGUAGE_MIX, Settings.from_env(), doc_md=__doc__)
