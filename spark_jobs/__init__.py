"""Spark jobs: one module per job (pure DataFrame transforms plus its writes). Their entry
points (``spark_jobs.stages``) are what ``thresher.jobs`` declares and what the executors —
the curation DAG's tasks, the ``thresher`` CLI (``spark_jobs.cli``), ``spark-submit``
(``spark_jobs.submit``) and the benchmarks — run through ``spark_jobs.pipeline``."""
