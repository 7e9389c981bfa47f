"""The benchmark corpora: real Debian documentation pages, as text, at two sizes.

``small`` is the demo's pages (``scripts/fetch_debian_docs.sh``); ``large`` adds more
packages (installation guides for other architectures, LibreOffice and GIMP help in many
languages, API references) until it holds ``LARGE_MIN_DOCS`` documents. Pages become text
through the project's own extraction (``spark_jobs.extract``). Each corpus is written once
to ``bench/.work/dedup/corpus-<size>.parquet`` (doc_id, text, language, url) and reused.
"""

from __future__ import annotations

import hashlib
import logging
import random
import subprocess
import time
from multiprocessing import Pool
from pathlib import Path

import pandas as pd

from thresher.text import extract

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
WORK = REPO / "bench" / ".work"
PAGES = WORK / "pages"
DEBS = WORK / "debs"
OUT = WORK / "dedup"

SMALL_PACKAGES = (
    "debian-handbook",
    "installation-guide-amd64",
    "installation-guide-arm64",
    "gnome-user-docs",
)
# The same guide for other architectures: real near-duplicates of the small set's guides.
EXTRA_GUIDES = tuple(
    f"installation-guide-{arch}"
    for arch in ("armel", "armhf", "i386", "mips64el", "mipsel", "ppc64el", "s390x")
)
LIBREOFFICE_LANGS = (
    "ca",
    "cs",
    "da",
    "de",
    "dz",
    "el",
    "en-gb",
    "en-us",
    "es",
    "et",
    "eu",
    "fi",
    "fr",
    "gl",
    "hi",
    "hu",
    "id",
    "it",
    "ja",
    "km",
    "ko",
    "nl",
    "om",
    "pl",
    "pt",
    "pt-br",
    "ru",
    "sk",
    "sl",
    "sv",
    "tr",
    "vi",
    "zh-cn",
    "zh-tw",
)
GIMP_LANGS = (
    "ca",
    "cs",
    "da",
    "de",
    "el",
    "en",
    "en-gb",
    "es",
    "fa",
    "fi",
    "fr",
    "hr",
    "hu",
    "it",
    "ja",
    "ko",
    "lt",
    "nl",
    "nn",
    "pt",
    "pt-br",
    "ro",
    "ru",
    "sl",
    "sv",
    "uk",
    "zh-cn",
)
REFERENCE_PACKAGES = (
    "python3.11-doc",
    "postgresql-doc-15",
    "libstdc++-12-doc",
    "libboost1.74-doc",
    "openjdk-17-doc",
    "rust-doc",
    "fp-docs-3.2.2",
    "qtbase5-doc-html",
)
LARGE_PACKAGES = (
    EXTRA_GUIDES
    + tuple(f"libreoffice-help-{lang}" for lang in LIBREOFFICE_LANGS)
    + tuple(f"gimp-help-{lang}" for lang in GIMP_LANGS)
    + REFERENCE_PACKAGES
)
LARGE_MIN_DOCS = 200_000
# trafilatura costs ~80 ms a page here: the small set and the guides (which must be extracted
# like their small-set twins) use it; the large set's help and API pages use lxml's text.
TRAFILATURA_PACKAGES = frozenset(SMALL_PACKAGES + EXTRA_GUIDES)
PAGE_SUFFIXES = (".html", ".htm", ".page")
MIN_CHARS = 200
# Fallback only when packages are not enough: windows of this many paragraphs of real pages.
WINDOW_PARAGRAPHS = 8
WINDOW_SEED = 20240601


def corpus_path(size: str) -> Path:
    return OUT / f"corpus-{size}.parquet"


def unpack(package: str) -> Path | None:
    """Download and unpack one package's pages under ``PAGES``; None if apt cannot get it."""
    dest = PAGES / package
    if (dest / ".unpacked").exists():
        return dest
    DEBS.mkdir(parents=True, exist_ok=True)
    debs = sorted(DEBS.glob(f"{package}_*.deb"))
    if not debs:
        got = subprocess.run(["apt-get", "download", package], cwd=DEBS, capture_output=True)
        debs = sorted(DEBS.glob(f"{package}_*.deb"))
        if got.returncode != 0 or not debs:
            log.warning("apt-get download %s failed: %s", package, got.stderr.decode()[-300:])
            return None
    subprocess.run(["rm", "-rf", str(dest)], check=True)
    dest.mkdir(parents=True)
    subprocess.run(["dpkg", "-x", str(debs[-1]), str(dest)], check=True)
    for path in dest.rglob("*"):
        if path.is_file() and not path.name.endswith(PAGE_SUFFIXES):
            path.unlink()
    (dest / ".unpacked").touch()
    return dest


def lxml_text(markup: bytes) -> str:
    """Visible text of an HTML page (no scripts or styles): fast, keeps navigation text."""
    import lxml.html

    tree = lxml.html.document_fromstring(markup, parser=lxml.html.HTMLParser(encoding="utf-8"))
    for el in tree.xpath("//script|//style|//noscript"):
        el.drop_tree()
    body = tree.find("body")
    return (body if body is not None else tree).text_content()


def page_document(job: tuple[str, str]) -> dict | None:
    """One page → a corpus row, or None when it has under ``MIN_CHARS`` characters of text."""
    package, relative = job
    path = PAGES / package / relative
    try:
        if relative.endswith(".page"):
            text = extract.extract_mallard(path.read_bytes().decode("utf-8"))[1]
        elif package in TRAFILATURA_PACKAGES:
            markup = path.read_bytes().decode("utf-8", errors="replace")
            text = extract.extract_html(markup, "trafilatura")[1]  # as the corpus was built
        else:
            text = lxml_text(path.read_bytes())
    except (extract.Rejected, ValueError, UnicodeDecodeError):
        return None
    text = extract.normalise_text(text or "")
    if len(text) < MIN_CHARS:
        return None
    url = f"{package}/{relative}"
    language, _ = extract.language_identifier()(text)
    return {"doc_id": doc_id(url), "text": text, "language": language, "url": url}


def doc_id(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]


def package_documents(packages: tuple[str, ...], pool: Pool) -> list[dict]:
    jobs = []
    for package in packages:
        root = unpack(package)
        if root is None:
            continue
        pages = sorted(p for p in root.rglob("*") if p.is_file() and p.name.endswith(PAGE_SUFFIXES))
        jobs += [(package, str(p.relative_to(root))) for p in pages]
    log.info("extracting %d pages of %d packages", len(jobs), len(packages))
    rows = []
    for done, row in enumerate(pool.imap(page_document, jobs, chunksize=32), start=1):
        if row is not None:
            rows.append(row)
        if done % 10_000 == 0:
            log.info("%d/%d pages, %d documents", done, len(jobs), len(rows))
    return rows


def paragraph_windows(rows: list[dict], needed: int) -> list[dict]:
    """Up to ``needed`` extra documents: from each of the pages, taken in a seeded random
    order, the window of ``WINDOW_PARAGRAPHS`` paragraphs in its middle. Only pages at least
    twice that long give one, so a window is a real part of a page, not a copy of it."""
    chunks: list[dict] = []
    for index in random.Random(WINDOW_SEED).sample(range(len(rows)), len(rows)):
        row = rows[index]
        paragraphs = [p for p in row["text"].split("\n") if p.strip()]
        if len(paragraphs) < 2 * WINDOW_PARAGRAPHS:
            continue
        start = (len(paragraphs) - WINDOW_PARAGRAPHS) // 2
        text = "\n".join(paragraphs[start : start + WINDOW_PARAGRAPHS])
        if len(text) >= MIN_CHARS:
            url = f"{row['url']}#paragraphs-{start}"
            chunks.append({**row, "doc_id": doc_id(url), "text": text, "url": url})
            if len(chunks) == needed:
                break
    return chunks


def build(size: str) -> pd.DataFrame:
    """The corpus of ``size`` ("small" or "large"), built once and cached."""
    path = corpus_path(size)
    if path.exists():
        return pd.read_parquet(path)
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if size == "small":
        subprocess.run([str(REPO / "scripts" / "fetch_debian_docs.sh"), str(PAGES)], check=True)
        with Pool(2) as pool:
            rows = package_documents(SMALL_PACKAGES, pool)
    elif size == "large":
        rows = build("small").to_dict("records")
        with Pool(2) as pool:
            rows += package_documents(LARGE_PACKAGES, pool)
        if len(rows) < LARGE_MIN_DOCS:
            rows += paragraph_windows(rows, LARGE_MIN_DOCS - len(rows))
    else:
        raise ValueError(f"unknown corpus size {size!r}; expected small or large")
    frame = pd.DataFrame(rows, columns=["doc_id", "text", "language", "url"])
    if frame["doc_id"].duplicated().any():
        raise RuntimeError(f"corpus {size}: duplicate doc_id values")
    frame.to_parquet(path, index=False)
    (OUT / f"corpus-{size}.build_s").write_text(f"{time.perf_counter() - started:.1f}\n")
    log.info("corpus %s: %d documents in %.0f s", size, len(frame), time.perf_counter() - started)
    return frame


def describe(frame: pd.DataFrame, size: str) -> dict:
    """The corpus facts that go into the results file."""
    build_s = OUT / f"corpus-{size}.build_s"
    packages = frame["url"].str.split("/", n=1).str[0]
    return {
        "name": size,
        "documents": len(frame),
        "languages": int(frame["language"].nunique()),
        "packages": int(packages.nunique()),
        "package_names": sorted(packages.unique().tolist()),
        "paragraph_window_docs": int(frame["url"].str.contains("#paragraphs-").sum()),
        "characters": int(frame["text"].str.len().sum()),
        "build_s": float(build_s.read_text()) if build_s.exists() else None,
    }


if __name__ == "__main__":
    import sys

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for name in sys.argv[1:] or ["small"]:
        build(name)
