"""Controlled selection runs: ``make bench-selection`` → ``bench/results/selection.json``.

One pool (``bench.selection_pool``: Debian packages of every quality, curated by the
curation pipeline), one quota (``THRESHER_PROXY_BUDGET_TOKENS``, split equally between the
eight languages), one tokenizer, one proxy size and step count; the arms of
``thresher.selection`` with every seed, each scored on the test half of the held-out text
(FLORES, UDHR, XCOPA premises, held-out Tatoeba). The steps are
``thresher.experiments.SELECTION_STUDY``, run by the benchmarks' executor
(``bench.experiments``) exactly as the ``selection_study`` DAG runs them.

``quadmix_searched`` uses the parameters ``make bench-mixsearch`` chose
(``bench/results/mixsearch.json``, ``--searched``), when they were searched on this pool.
``THRESHER_PROXY_*`` variables change the proxy (``scripts/mixture_study_gpu.sh``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import platform
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
log = logging.getLogger("bench.selection")


class LoadMonitor:
    """The machine's 1-minute load average, sampled every ``every`` seconds while it runs."""

    def __init__(self, every: float = 30.0) -> None:
        self.samples: list[float] = [os.getloadavg()[0]]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)

    def _run(self, every: float) -> None:
        while not self._stop.wait(every):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> LoadMonitor:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.samples.append(os.getloadavg()[0])

    def summary(self) -> dict:
        s = self.samples
        return {
            "load_1m_min": min(s),
            "load_1m_mean": round(sum(s) / len(s), 1),
            "load_1m_max": max(s),
            "samples": len(s),
            "cpus": os.cpu_count(),
        }


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "processor": platform.machine(),
    }


def changed_settings(settings) -> dict:
    """The experiment settings that differ from their defaults (a reduced run says so)."""
    import dataclasses

    changed = {}
    for section in ("proxy", "heldout", "mixture_search", "selection"):
        value = getattr(settings, section)
        default = type(value)()
        for field in dataclasses.fields(value):
            mine, theirs = getattr(value, field.name), getattr(default, field.name)
            if mine != theirs and field.name != "searched_params":
                changed[f"{section}.{field.name}"] = {"used": mine, "default": theirs}
    return changed


@dataclasses.dataclass
class PoolRun:
    """An experiment run on the benchmark pool, and what it cost."""

    settings: object
    pool: dict  # the curation's summary
    manifest: dict  # the fetched packages
    outputs: dict  # every step's result
    seconds: dict  # every step's wall time
    fetch_s: float
    curate_s: float
    started: float  # time.perf_counter() at the start
    load: LoadMonitor


def run_on_pool(experiment, work: Path, parallel: int, configure=None) -> PoolRun:
    """``experiment`` (``thresher.experiments``) run by the benchmarks' executor on the pool
    of ``bench.selection_pool``, fetched and curated first, under a load monitor;
    ``configure(settings, pool)`` may change the settings the experiment gets."""
    from bench import selection_pool
    from bench.experiments import run_experiment

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    started = time.perf_counter()
    with LoadMonitor() as load:
        manifest = selection_pool.fetch(work)
        fetched = time.perf_counter() - started
        settings = selection_pool.pool_settings(work)
        pool = selection_pool.curate(settings, work, manifest)
        curated = time.perf_counter() - started - fetched
        if configure is not None:
            settings = configure(settings, pool)
        outputs, seconds = run_experiment(experiment, settings, parallel=parallel)
    return PoolRun(settings, pool, manifest, outputs, seconds, fetched, curated, started, load)


def searched_params(path: Path, work: Path, pool_fingerprint: str) -> str:
    """The parameters a mixture search chose on this pool, as a file; empty when none."""
    if not path.is_file():
        log.warning("%s is missing: quadmix_searched will be skipped", path)
        return ""
    found = json.loads(path.read_text())
    if found.get("pool", {}).get("fingerprint") != pool_fingerprint:
        log.warning("%s was searched on another pool: quadmix_searched will be skipped", path)
        return ""
    target = work / "searched_params.json"
    target.write_text(json.dumps(found["choice"]["params"]))
    return str(target)


def main(argv: list[str] | None = None) -> int:
    from bench import selection_pool

    parser = argparse.ArgumentParser(prog="python -m bench.selection", description=__doc__)
    parser.add_argument("--work", type=Path, default=selection_pool.WORK)
    parser.add_argument("--parallel", type=int, default=2, help="arms trained at once")
    parser.add_argument("--searched", type=Path, default=RESULTS / "mixsearch.json")
    parser.add_argument("--output", type=Path, default=RESULTS / "selection.json")
    args = parser.parse_args(argv)

    from thresher.experiments import SELECTION_STUDY

    def with_searched(settings, pool: dict):
        selection = dataclasses.replace(
            settings.selection,
            searched_params=searched_params(args.searched, args.work, pool["fingerprint"]),
        )
        return dataclasses.replace(settings, selection=selection)

    run = run_on_pool(SELECTION_STUDY, args.work, args.parallel, with_searched)
    settings, pool, manifest = run.settings, run.pool, run.manifest
    results = run.outputs["summary"]
    random = results["arms"].get("random", {})
    goal = {
        arm: {
            "minus_random": results["arms"][arm].get("minus_random"),
            "beyond_intervals": results["arms"][arm].get("beyond_intervals"),
            "random_bpb": random.get("bpb_mean"),
            "bpb": results["arms"][arm].get("bpb_mean"),
        }
        for arm in ("quadmix_searched", "quality_only")
        if arm in results["arms"]
    }
    results = {
        **results,
        "goal": goal,
        "changed_settings": changed_settings(settings),
        "pool": {
            **results["pool"],
            "fingerprint": pool["fingerprint"],
            "packages": len(manifest),
            "curation": pool,
        },
        "wall_s": round(time.perf_counter() - run.started, 1),
        "stages_s": {
            "fetch": round(run.fetch_s, 1),
            "curate": round(run.curate_s, 1),
            **run.seconds,
        },
        "load": run.load.summary(),
        "machine": machine(),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    table = {
        a: (v.get("bpb_mean"), v.get("ci95"), v.get("skipped")) for a, v in results["arms"].items()
    }
    print(json.dumps({"wall_s": results["wall_s"], "arms": table, "goal": goal}, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
