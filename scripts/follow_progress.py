#!/usr/bin/env python3
"""Print the progress lines a DAG run's tasks have logged since the last call.

    follow_progress.py LOG_DIR STATE_FILE [SINCE]

Reads every task log (Airflow 3 writes JSON lines) under LOG_DIR last written at or after
SINCE (seconds since the epoch: a run cleared and run again keeps its earlier attempts' logs
beside the new ones), prints the events of the ``thresher.progress`` logger it has not
printed before (each job's start and end, Spark's progress with an estimate) and remembers how
far it read in STATE_FILE. ``run_dag.sh`` calls it while it waits, so ``make demo`` shows the
run as it goes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(log_dir: str, state_file: str, since: str = "0") -> None:
    state_path = Path(state_file)
    offsets = json.loads(state_path.read_text()) if state_path.exists() else {}
    for log in sorted(Path(log_dir).rglob("*.log")):
        key = str(log)
        if key not in offsets and log.stat().st_mtime < float(since):
            continue
        with log.open("rb") as handle:
            handle.seek(offsets.get(key, 0))
            for raw in handle:
                if not raw.endswith(b"\n"):  # a line still being written: read it next time
                    break
                offsets[key] = offsets.get(key, 0) + len(raw)
                try:
                    record = json.loads(raw)
                except ValueError:
                    continue
                if record.get("logger") == "thresher.progress":
                    stamp = str(record.get("timestamp", ""))[11:19]
                    print(f"{stamp} {record.get('event', '')}", flush=True)
    state_path.write_text(json.dumps(offsets))


if __name__ == "__main__":
    main(*sys.argv[1:4])
