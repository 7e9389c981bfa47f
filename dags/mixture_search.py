"""Mixture search (QuaDMix, PAPERS.md): sampled parameters → proxies → regression → choice.

Triggered by hand (no schedule). The tasks are the steps of
``thresher.experiments.MIXTURE_SEARCH``, wired as declared (``thresher_tasks.experiments``)::

    features ─┬─ tokenizer ─┐
              └─ open ──────┴─ proxy[…] ─ choose ─ confirm[…] ─ report ─ final_mixture

- ``features`` (Spark): σ per criterion (within each language), language, domain, tokens and
  text of every scored document, once; the proxies apply the numpy sampler to it.
- ``open``: the search's parent MLflow run, with the K parameter sets the paper's sampler
  gives (set k is drawn from ``rng([sample_seed, k])``).
- ``proxy``: one model task per set (and the seed-noise repeats), ``models.mixture_search.proxy``:
  a GPU pod on Kubernetes, a local process otherwise, at most as many at once as
  ``proxy_pool`` allows. Each mixture meets the quota (``THRESHER_PROXY_BUDGET_TOKENS``, split by
  the language policy); the target is bits per byte on the search half of held-out text.
- ``choose``: LightGBM against the mean predictor and ridge, with intervals; the choice.
- ``confirm``: the chosen parameters and the best random draw, trained with every seed.
- ``report``: regression, seed noise, learning curve and confirmation on the parent run.
- ``final_mixture`` (Spark): ``gold.mixture_<final_mixture>`` from the chosen parameters.

K, the seeds and every hyperparameter come from the settings (``THRESHER_MIXTURE_SEARCH_*``,
``THRESHER_PROXY_*``, ``THRESHER_HELDOUT_*``) when this file is parsed; model tasks receive
them as ``THRESHER_SETTINGS``. Outputs live under ``mixture_search/<mixture>/<features
fingerprint>-<settings key>/`` below the checkpoint root, so a re-run returns finished proxies
at once. ``make bench-mixsearch`` runs the same steps without Airflow.
"""

from __future__ import annotations

from thresher.config import Settings
from thresher.experiments import MIXTURE_SEARCH
from thresher_tasks.experiments import experiment_dag

# environment only: no I/O at parse time
mixture_search = experiment_dag(MIXTURE_SEARCH, Settings.from_env(), doc_md=__doc__)
