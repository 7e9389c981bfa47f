"""Typed settings split by concern: ``platform`` (Spark, tracking, Airflow, Kubernetes),
``curation`` (one section per curation stage) and ``experiments`` (mixture search, language
mix, POSO, MuRating). ``thresher.config.Settings`` composes them and loads them."""
