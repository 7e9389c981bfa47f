"""What an encoder reads of a document: its first characters, cut at a word where one is near.

The E5 embeddings (Spark's ``spark_jobs.text_embeddings``, MuRating's
``thresher.murating.embeddings``), the domain student and MuRating's judge read a document
as its first ``max_chars`` characters; one cut makes the student read what its teacher read.
"""

from __future__ import annotations


def truncate(text: str, max_chars: int) -> str:
    """The first ``max_chars`` characters, cut back to a space when one is in the last tenth
    (text without spaces, such as Chinese, is cut at ``max_chars``)."""
    if len(text) <= max_chars:
        return text
    head = text[:max_chars]
    cut = head.rfind(" ", int(max_chars * 0.9))
    return head[:cut] if cut > 0 else head
