"""The study pool of ``make bench-selection`` and ``make bench-mixsearch``: real multilingual
text from Debian packages whose quality differs, curated by the curation pipeline.

1. ``fetch``: ``apt-get download`` the packages of ``PACKAGES`` into ``<work>/debs`` (kept, so
   a re-run downloads nothing), unpack each with ``dpkg -x`` into a temporary folder, read its
   text by kind (``thresher.corpora.debian_packages``) in the study's locales and write
   ``<work>/input/<package>.jsonl``; ``<work>/input/manifest.json`` records every package's
   version, licences (from its copyright file), records and bytes per kind and locale.
2. ``curate``: the curation jobs of ``thresher.jobs.CURATION`` (``spark_jobs.pipeline``, as
   ``thresher curate`` runs them): ingest (fastText decides each document's language), dedup,
   the reference classifier and quality scores, the domain classifier and domains, and the
   Spark QuaDMix mixture under the quota. Skipped when ``<work>/home/pool.json`` records the
   same input and settings.

    python -m bench.selection_pool [--work DIR]          # fetch and curate, print the summary
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import logging
import re
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

from thresher.config import Settings

log = logging.getLogger("bench.selection_pool")
REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench" / ".work" / "selection"
POOL_DATE = dt.date(2026, 11, 1)
LANGUAGES = ("en", "de", "fr", "es", "it", "ru", "ja", "zh")
_LOCALES = ("de", "fr", "es", "it", "ja", "ru", "zh-cn")
PACKAGES = {
    # documentation prose: the demo's packages and Debian's own guides
    **{
        p: "docs"
        for p in (
            "debian-handbook",
            "installation-guide-amd64",
            "gnome-user-docs",
            "maint-guide",
            "debian-faq",
            "debian-faq-de",
            "debian-faq-fr",
            "debian-faq-zh-cn",
            "debian-reference-en",
        )
    },
    **{f"maint-guide-{loc}": "docs" for loc in _LOCALES},
    **{f"debian-reference-{loc}": "docs" for loc in _LOCALES if loc != "ru"},
    # manual pages
    "manpages": "man",
    **{f"manpages-{loc}": "man" for loc in ("de", "fr", "es", "it", "ja", "ru", "zh")},
    # fortune cookies
    "fortunes": "fortune",
    **{f"fortunes-{loc}": "fortune" for loc in ("de", "es", "it", "ru")},
    # translated message catalogues
    **{
        p: "catalogue"
        for p in (
            "coreutils",
            "tar",
            "apt",
            "dpkg",
            "wget",
            "grep",
            "findutils",
            "sed",
            "diffutils",
            "aptitude-common",
            "debconf-i18n",
        )
    },
    # generated API reference
    "libglib2.0-doc": "api",
    "libxml2-doc": "api",
}


def _licences(unpacked: Path, package: str) -> list[str]:
    path = unpacked / "usr/share/doc" / package / "copyright"
    if not path.is_file():
        return []
    found = re.findall(r"^License:\s*(\S.*)$", path.read_text(errors="replace"), re.MULTILINE)
    return sorted(set(found))[:6]


def fetch(work: Path = WORK, languages=LANGUAGES) -> dict:
    """Download, unpack and convert every package (idempotent); the manifest."""
    from thresher.corpora.debian_packages import package_records

    debs, inputs = work / "debs", work / "input"
    debs.mkdir(parents=True, exist_ok=True)
    inputs.mkdir(parents=True, exist_ok=True)
    missing = [p for p in PACKAGES if not list(debs.glob(f"{p}_*.deb"))]
    if missing:
        log.info("apt-get download %d packages", len(missing))
        subprocess.run(
            ["apt-get", "download", *missing], cwd=debs, check=True, stdout=subprocess.DEVNULL
        )
    manifest_path = inputs / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    for package, kind in PACKAGES.items():
        deb = sorted(debs.glob(f"{package}_*.deb"))[-1]
        target = inputs / f"{package}.jsonl"
        if target.is_file() and manifest.get(package, {}).get("deb") == deb.name:
            continue
        with tempfile.TemporaryDirectory(dir=work) as folder:
            subprocess.run(["dpkg", "-x", str(deb), folder], check=True)
            records = list(package_records(package, kind, Path(folder), languages))
            licences = _licences(Path(folder), package)
        with target.open("w", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
        size = Counter()
        for record in records:
            size[f"{record['kind']}/{record['locale']}"] += len(record["text"].encode("utf-8"))
        manifest[package] = {
            "deb": deb.name,
            "version": deb.name.split("_")[1],
            "kind": kind,
            "records": len(records),
            "licences": licences,
            "bytes": dict(sorted(size.items())),
        }
        manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True))
        log.info("%s: %d records", package, len(records))
    return manifest


# Settings a benchmark takes from the environment (the GPU script sets THRESHER_PROXY_*).
EXPERIMENT_VARIABLES = (
    "THRESHER_PROXY_",
    "THRESHER_SELECTION_",
    "THRESHER_MIXTURE_",
    "THRESHER_HELDOUT_",
    "THRESHER_TRACKING_TRACKING_URI",
)


def pool_settings(work: Path = WORK) -> Settings:
    """The pool's settings: its own home, the study's languages, Spark on local[2], the demo's
    domain classifier (200 SIB-200 items per language and split), equal language shares and
    the proxies' quota for the Spark mixture too; ``THRESHER_PROXY_*``, ``_SELECTION_*``,
    ``_MIXTURE_*`` and ``_HELDOUT_*`` variables of the environment apply over them."""
    import dataclasses
    import os

    from thresher.config import DomainSettings, SparkSettings

    env = {k: v for k, v in os.environ.items() if k.startswith(EXPERIMENT_VARIABLES)}
    env.setdefault("THRESHER_MIXTURE_LANGUAGE_POLICY", "uniform")
    env["THRESHER_HOME"] = str(work / "home")
    base = Settings.from_env(env)
    if "THRESHER_MIXTURE_BUDGET_TOKENS" not in env:
        base = dataclasses.replace(
            base, mixture=dataclasses.replace(base.mixture, budget_tokens=base.proxy.budget_tokens)
        )
    spark = SparkSettings(
        master="local[2]",
        shuffle_partitions=4,
        driver_memory="3g",
        conf={"spark.ui.enabled": "false"},
    )
    return dataclasses.replace(
        base,
        languages=tuple(LANGUAGES),
        spark=spark,
        domain=DomainSettings(labels_per_language=200),
    )


def _fingerprint(manifest: dict, settings: Settings) -> str:
    body = {
        "manifest": manifest,
        "languages": list(settings.languages),
        "models": [settings.quality.classifier_version, settings.domain.model_version],
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def curate(settings: Settings, work: Path = WORK, manifest: dict | None = None) -> dict:
    """The curation jobs over ``<work>/input`` into the pool's lake (skipped when up to date).

    Each job that finished (its gate passed) is recorded in ``<home>/pool_progress.json`` with
    its summary: a run stopped part-way resumes at the first unfinished job of the same input.
    """
    from spark_jobs import pipeline
    from thresher import tracking
    from thresher.jobs import CURATION, JobContext

    manifest = manifest if manifest is not None else fetch(work, settings.languages)
    record = Path(settings.home) / "pool.json"
    progress_path = Path(settings.home) / "pool_progress.json"
    fingerprint = _fingerprint(manifest, settings)
    if record.is_file() and json.loads(record.read_text()).get("fingerprint") == fingerprint:
        return {**json.loads(record.read_text()), "cached": True}
    progress = json.loads(progress_path.read_text()) if progress_path.is_file() else {}
    if progress.get("fingerprint") != fingerprint:
        progress = {"fingerprint": fingerprint, "done": {}}
        if Path(settings.storage_root).exists():
            shutil.rmtree(settings.storage_root)  # a pool of other inputs: start over
    done: dict = progress["done"]
    run_id = tracking.open_run(
        settings, f"bench/selection_pool/{fingerprint}", "selection pool", {"thresher.via": "bench"}
    )
    ctx = JobContext(
        settings,
        POOL_DATE,
        run_id,
        {"input_path": str(work / "input"), "source": "debian-packages"},
    )
    for job in CURATION.jobs:
        if job.name in done:
            continue
        started = time.perf_counter()
        summary = pipeline.run_job(job, ctx)
        seconds = round(time.perf_counter() - started, 1)
        pipeline.run_gate(job, ctx)  # raises when the gate fails: the job is not recorded
        numbers = {k: v for k, v in summary.items() if isinstance(v, int | float | str)}
        done[job.name] = {"seconds": seconds, "summary": numbers}
        progress_path.write_text(json.dumps(progress, indent=2, default=str))
    summary = {
        "fingerprint": fingerprint,
        "packages": len(manifest),
        "seconds": {name: job["seconds"] for name, job in done.items()},
        "ingest": {
            k: v for k, v in done["ingest"]["summary"].items() if isinstance(v, int | float)
        },
        "mixture": {
            k: v for k, v in done["mixture"]["summary"].items() if k.startswith("mixture.")
        },
    }
    record.write_text(json.dumps(summary, indent=2, default=str))
    return {**summary, "cached": False}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.selection_pool", description=__doc__)
    parser.add_argument("--work", type=Path, default=WORK)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    started = time.perf_counter()
    manifest = fetch(args.work)
    summary = curate(pool_settings(args.work), args.work, manifest)
    print(json.dumps({**summary, "wall_s": round(time.perf_counter() - started, 1)}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
