"""MuBench-style aligned multilingual evaluation of causal LMs.

``items`` defines the aligned item format, ``sources`` builds it from the shared corpora,
``scoring`` gives each option its log-likelihood under a ``transformers`` causal LM,
``metrics`` turns predictions into accuracy, Multilingual Consistency and bits per byte, and
``evaluate`` is the entry point (``python -m models.mubench.evaluate``).
"""
