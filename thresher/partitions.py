"""A run's partition: the calendar date of its data interval, never the wall clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping


def parse_partition(value: str | dt.date) -> dt.date:
    # A plain date, never a subclass (pendulum's Date is one, and PySpark refuses it).
    if isinstance(value, dt.date):
        return dt.date(value.year, value.month, value.day)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"partition must be a date as YYYY-MM-DD, got {value!r}") from None


def partition_from_context(context: Mapping) -> dt.date:
    """The Airflow run's partition: the start of its data interval (UTC).

    A manually triggered run without a logical date has no data interval; it owns the
    partition of the moment it was queued to run (``run_after``).
    """
    start = context.get("data_interval_start")
    if start is None:
        start = context["dag_run"].run_after
    return parse_partition(start.in_timezone("UTC") if hasattr(start, "in_timezone") else start)
