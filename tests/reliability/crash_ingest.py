"""An ingest that kills itself with SIGKILL right after its N-th Delta commit (a test child).

python -m tests.reliability.crash_ingest HOME DATE INPUT SOURCE N

The three tables an ingest writes (bronze, quarantine, stage counts) are three commits; this
stands in for a machine dying between any two of them. Nothing in the ingest code knows it.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
from pathlib import Path


def main() -> None:
    home, day, input_path, source, commits = sys.argv[1:]
    from spark_jobs import delta_io, ingest, stage_stats
    from spark_jobs.session import get_spark
    from tests.conftest import make_settings

    done = 0
    real_replace = delta_io.replace_rows

    def replace_then_maybe_die(*args, **kwargs):
        nonlocal done
        real_replace(*args, **kwargs)
        done += 1
        if done == int(commits):
            os.kill(os.getpid(), signal.SIGKILL)

    ingest.replace_rows = stage_stats.replace_rows = replace_then_maybe_die
    settings = make_settings(Path(home))
    spark = get_spark(settings, "crash-ingest")
    ingest.run(spark, settings, dt.date.fromisoformat(day), input_path, source)


if __name__ == "__main__":
    main()
