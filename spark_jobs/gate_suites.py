"""The expectation suites of the curation gates: what each stage's output must satisfy.

One function per gate, each given the facts it checks against (settings, the partition's
document count). Suites are built inside the shared ephemeral GX context
(``gx_context``); their results live in ``ops.gate_results`` and MLflow.
"""

from __future__ import annotations

import logging
import os

from thresher.config import Settings
from thresher.tables import BRONZE_DOCUMENTS

DOC_ID_LENGTH = 32


def import_great_expectations():
    """Import GX quietly (a job's task does it in a thread while the job runs)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    # GX logs two hundred "Skipping registering function ..." lines as it imports: they
    # would be two thirds of a gate's task log. Its warnings and errors still show.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations

    return great_expectations


def gx_context():
    """One ephemeral GX context per process: suites and results live in our tables and MLflow."""
    context = import_great_expectations().get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    return context


def _new_suite(name: str):
    gx_context()  # GX builds suites only inside an active context
    import great_expectations as gx

    return gx.ExpectationSuite(name=name)


def _not_null(suite, columns) -> None:
    from great_expectations import expectations as gxe

    for column in columns:
        suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column))


def bronze_suite(name: str, settings: Settings):
    """Ingested documents: the declared columns, well-formed ids, configured languages."""
    from great_expectations import expectations as gxe

    suite = _new_suite(name)
    columns = BRONZE_DOCUMENTS.schema.fieldNames()
    suite.add_expectation(gxe.ExpectTableColumnsToMatchSet(column_set=columns, exact_match=True))
    suite.add_expectation(gxe.ExpectTableRowCountToBeBetween(min_value=1))
    _not_null(suite, [f.name for f in BRONZE_DOCUMENTS.schema.fields if not f.nullable])
    suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column="doc_id"))
    suite.add_expectation(gxe.ExpectColumnValueLengthsToEqual(column="doc_id", value=DOC_ID_LENGTH))
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeInSet(column="language", value_set=list(settings.languages))
    )
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(
            column="n_chars",
            min_value=settings.ingest.min_text_chars,
            max_value=settings.ingest.max_text_chars,
        )
    )
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(
            column="language_score", min_value=settings.ingest.min_language_score, max_value=1.0
        )
    )
    return suite


def dedup_suite(name: str, documents: int):
    """Every bronze document of the partition has exactly one well-formed decision."""
    from great_expectations import expectations as gxe

    suite = _new_suite(name)
    suite.add_expectation(gxe.ExpectTableRowCountToEqual(value=documents))
    suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column="doc_id"))
    _not_null(suite, ("doc_id", "cluster_id"))
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeInSet(column="method", value_set=["exact", "near"])
    )
    return suite


def quality_suite(name: str, criteria: list[str], documents: int):
    """A score in [0, 1] on every criterion for each of the ``documents`` dedup kept."""
    from great_expectations import expectations as gxe

    suite = _new_suite(name)
    suite.add_expectation(gxe.ExpectTableRowCountToEqual(value=documents * len(criteria)))
    _not_null(suite, ("doc_id", "criterion", "version", "score", "passed", "tokens"))
    suite.add_expectation(
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["doc_id", "criterion", "version"])
    )
    suite.add_expectation(gxe.ExpectColumnValuesToBeInSet(column="criterion", value_set=criteria))
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(column="score", min_value=0, max_value=1)
    )
    suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="tokens", min_value=0))
    return suite


def domains_suite(name: str, documents: int):
    """A domain with a confidence in [0, 1] for every document dedup kept."""
    from great_expectations import expectations as gxe

    suite = _new_suite(name)
    suite.add_expectation(gxe.ExpectTableRowCountToEqual(value=documents))
    suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column="doc_id"))
    _not_null(suite, ("doc_id", "domain", "confidence", "model_version", "method"))
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(column="confidence", min_value=0, max_value=1)
    )
    return suite


def mixture_suite(name: str, budget_tokens: int, largest_document: int):
    """Selected documents with ≥ 1 copy, ranks in [0, 1], and the quota met: the mixture's
    tokens (× copies) within one document's tokens (the pool's largest) of the budget."""
    from great_expectations import expectations as gxe

    suite = _new_suite(name)
    suite.add_expectation(gxe.ExpectTableRowCountToBeBetween(min_value=1))
    _not_null(suite, ("doc_id", "domain", "copies", "params_version", "source_versions"))
    suite.add_expectation(
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["ingest_date", "doc_id"])
    )
    suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="copies", min_value=1))
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(column="rank", min_value=0, max_value=1)
    )
    if budget_tokens:
        # mixture_tokens = tokens × copies: what a training run would read.
        suite.add_expectation(
            gxe.ExpectColumnSumToBeBetween(
                column="mixture_tokens",
                min_value=max(0, budget_tokens - largest_document),
                max_value=budget_tokens + largest_document,
            )
        )
    return suite
