"""The synthetic judged documents of tests/thresher/murating, for the rater's tests."""

from tests.thresher.murating.conftest import judged_docs, quality_cache  # noqa: F401
