"""MuRating's pure parts (PAPERS.md): English raters, Bradley–Terry aggregation, parallel
units, judgment documents and training pairs. Spark jobs and model tasks both import them;
the rater model itself (torch) lives in ``models.murating``."""
