"""One system in its own process: ``python -m bench.dedup.systems NAME CORPUS WORK RESULT``.

Writes RESULT (JSON: the run's figures) and RESULT's sibling ``.flagged`` (one doc_id a line).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench.dedup.systems import load


def main(name: str, corpus: str, work: str, result: str) -> None:
    run = load(name).run(Path(corpus), Path(work))
    out = Path(result)
    out.with_suffix(".flagged").write_text("".join(f"{d}\n" for d in sorted(run.flagged)))
    figures = {
        "docs": run.docs,
        "wall_s": round(run.wall_s, 2),
        "processes": run.processes,
        "notes": run.notes,
        **run.extra,
    }
    out.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main(*sys.argv[1:5])
