"""Spark jobs. Each module is one stage: pure DataFrame transforms plus a ``run_stage`` entry
point that the ``thresher`` CLI, an Airflow task, or ``spark-submit`` calls alike."""
