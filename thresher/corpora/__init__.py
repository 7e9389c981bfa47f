"""The shared multilingual corpora (NTREX-128, SIB-200, XQuAD, XCOPA, Tatoeba, FLORES
sentences), read by path into aligned items: what evaluation, MuRating's parallel sources and
the classifiers' training data all read. Pure Python, no Spark, no torch."""
