"""POSO experiments: MovieLens-format events → baseline and POSO variants × seeds → summary.

Triggered by hand (no schedule); the steps are declared once in
``thresher.experiments.POSO``, which ``make bench-poso`` runs too::

    events ─ open ─ train[model × seed] ─ summary

- ``events`` (Spark, ``spark_jobs.movielens``): the dataset's events, users and items as Delta
  tables, with the held-out-user / time split, plus the Parquet export the trainers read.
- ``open``: this DAG run's parent MLflow run (experiment ``THRESHER_POSO_EXPERIMENT``) with
  the grid and the events' counts per split and group.
- ``train``: one mapped task per cell of ``models.poso.grid`` (``THRESHER_POSO_MODELS`` ×
  seeds 1..``THRESHER_POSO_SEEDS``): ``python -m models.poso.train`` — a GPU pod on
  Kubernetes, a local process otherwise — a child run of the parent, in the Airflow pool
  ``THRESHER_POSO_POOL``.
- ``summary``: the children's results → the table, each POSO variant's paired difference to
  its plain twin on new, regular and all users with 95 % intervals, and the comparison plot,
  on the parent run (``models.poso.experiment``).

Outputs live under the checkpoint root, one folder per DAG run, so a retried task resumes
from its last epoch.
"""

from __future__ import annotations

from thresher.config import Settings
from thresher.experiments import POSO
from thresher_tasks.experiments import experiment_dag

# environment only: no I/O at parse time
poso = experiment_dag(POSO, Settings.from_env(), doc_md=__doc__)
