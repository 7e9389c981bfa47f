"""Selection study: does a selection beat random? Controlled runs on one pool and one quota.

Triggered by hand (no schedule). The tasks are the steps of
``thresher.experiments.SELECTION_STUDY``, wired as declared (``thresher_tasks.experiments``)::

    features ─┬─ tokenizer ─┐
              └─ open ──────┴─ arm[arm × seed] ─ summary

- ``features`` (Spark): the pool — σ per criterion within each language, language, domain,
  tokens and text of every scored document of the mixture's sources.
- ``open``: the study's parent MLflow run.
- ``arm``: one model task per arm and seed (``models.selection.arm``): ``random``,
  ``quality_only``, ``domain_balanced``, ``quadmix_default``, ``quadmix_searched`` (the
  parameters at ``THRESHER_SELECTION_SEARCHED_PARAMS``) and ``murating`` (where
  ``gold.mixture_murating`` exists) select under the same quota and language shares; the
  same proxy trains on each; the test half of the held-out text scores it. One MLflow child
  run each.
- ``summary``: every arm against ``random`` (means over seeds, 95 % intervals, paired
  differences), the plot of bits per byte per language per arm; closes the parent run.

Arms, seeds and hyperparameters come from the settings (``THRESHER_SELECTION_*``,
``THRESHER_PROXY_*``, ``THRESHER_HELDOUT_*``, ``THRESHER_MIXTURE_LANGUAGE_POLICY``) when this
file is parsed. ``make bench-selection`` runs the same steps without Airflow.
"""

from __future__ import annotations

from thresher.config import Settings
from thresher.experiments import SELECTION_STUDY
from thresher_tasks.experiments import experiment_dag

# environment only: no I/O at parse time
selection_study = experiment_dag(SELECTION_STUDY, Settings.from_env(), doc_md=__doc__)
