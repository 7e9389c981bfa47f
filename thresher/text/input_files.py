"""What is under an input path: every file, each either readable or counted with a reason.

``list_input_files`` walks a local folder without following symbolic links: a link is
counted (``symlink_duplicate`` when its target is inside the input, where the walk reads it
under its own name; ``symlink_outside_input``; ``broken_symlink``) and never read, so a link
loop cannot multiply a page and a link cannot pull in files from elsewhere. Every file
becomes one ``InputFile``: readable (a known format), or skipped with the reason it is not a
document (``empty_file``, ``hidden_file``, ``unsupported_extension``, …). Nothing under the
input is left out of the counts. Object-store inputs (``s3a://…``) are listed through
``pyarrow.fs`` with the same rules (they have no links).

Paths travel as bytes (``os.fsencode``), so a file name that is not UTF-8 is still read;
``location`` (the path below the input, shown in tables) is always valid text.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

# Why a file under the input is not read as documents (disposition "dropped").
EMPTY_FILE = "empty_file"
HIDDEN_FILE = "hidden_file"
UNSUPPORTED_EXTENSION = "unsupported_extension"
SYMLINK_DUPLICATE = "symlink_duplicate"
SYMLINK_OUTSIDE_INPUT = "symlink_outside_input"
BROKEN_SYMLINK = "broken_symlink"
NOT_A_REGULAR_FILE = "not_a_regular_file"
# A file or folder that cannot be opened (disposition "quarantined").
UNREADABLE_FILE = "unreadable_file"

# Longest suffix first; matched case-insensitively ("PAGE.HTML" is a page).
SUFFIX_FORMATS = (
    (".jsonl.gz", "jsonl"),
    (".jsonl", "jsonl"),
    (".warc.gz", "warc"),
    (".warc", "warc"),
    (".parquet", "parquet"),
    (".page", "mallard"),
    (".xhtml", "html"),
    (".html", "html"),
    (".htm", "html"),
)
OBJECT_STORE_SCHEMES = ("s3a", "s3", "gs", "abfs", "abfss", "hdfs")


class InputNotFound(FileNotFoundError):
    """The input path itself does not exist."""


@dataclass(frozen=True)
class InputFile:
    location: str  # the path below the input root (the file's name for a single-file input)
    path: bytes  # what to open: os.fsencode of a local path, or an object-store URI
    size: int
    source_format: str | None = None
    # Set when the file is not read: ("dropped" | "quarantined", reason, detail).
    disposition: str | None = None
    reason: str | None = None
    detail: str | None = None
    mtime_ns: int = 0


def source_format(name: str) -> str | None:
    lower = name.lower()
    return next((fmt for suffix, fmt in SUFFIX_FORMATS if lower.endswith(suffix)), None)


def _text(raw: str) -> str:
    """A file name as valid text: undecodable bytes shown as \\xNN escapes."""
    return os.fsencode(raw).decode("utf-8", errors="backslashreplace")


def _classify(location: str, path: bytes, size: int, mtime_ns: int = 0) -> InputFile:
    file = _classified(location, path, size)
    return dataclasses.replace(file, mtime_ns=mtime_ns) if mtime_ns else file


def _classified(location: str, path: bytes, size: int) -> InputFile:
    parts = PurePosixPath(location).parts
    if any(part.startswith((".", "_")) for part in parts):
        return InputFile(
            location, path, size, None, "dropped", HIDDEN_FILE, "name starts with . or _"
        )
    fmt = source_format(parts[-1] if parts else location)
    if fmt is None:
        return InputFile(location, path, size, None, "dropped", UNSUPPORTED_EXTENSION, "")
    if size == 0:
        return InputFile(location, path, size, fmt, "dropped", EMPTY_FILE, "0 bytes")
    return InputFile(location, path, size, fmt)


def _is_object_store(input_path: str) -> bool:
    scheme, sep, _ = input_path.partition("://")
    return bool(sep) and scheme.lower() in OBJECT_STORE_SCHEMES


def list_input_files(input_path: str) -> list[InputFile]:
    """Every file under ``input_path`` (a folder or one file), sorted by location."""
    if _is_object_store(input_path):
        return sorted(_list_object_store(input_path), key=lambda f: f.location)
    local = input_path.removeprefix("file://")
    if not os.path.lexists(local):
        raise InputNotFound(f"input path does not exist: {input_path}")
    root = os.path.realpath(local)  # the path the user named may itself be a link
    if not os.path.isdir(root):
        name, stat = os.path.basename(root), os.stat(root)
        return [_classify(_text(name), os.fsencode(root), stat.st_size, stat.st_mtime_ns)]
    return sorted(_walk(root, root, ""), key=lambda f: f.location)


def _walk(root: str, folder: str, prefix: str) -> Iterator[InputFile]:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        location = prefix.rstrip("/") or "."
        detail = f"folder: {type(exc).__name__}: {exc.strerror or exc}"
        yield InputFile(
            location, os.fsencode(folder), 0, None, "quarantined", UNREADABLE_FILE, detail
        )
        return
    for entry in entries:
        location = prefix + _text(entry.name)
        path = os.fsencode(entry.path)
        try:
            if entry.is_symlink():
                yield _symlink(root, entry.path, location, path)
            elif entry.is_dir(follow_symlinks=False):
                yield from _walk(root, entry.path, location + "/")
            elif entry.is_file(follow_symlinks=False):
                stat = entry.stat(follow_symlinks=False)
                yield _classify(location, path, stat.st_size, stat.st_mtime_ns)
            else:
                yield InputFile(location, path, 0, None, "dropped", NOT_A_REGULAR_FILE, "")
        except OSError as exc:
            detail = f"{type(exc).__name__}: {exc.strerror or exc}"
            yield InputFile(location, path, 0, None, "quarantined", UNREADABLE_FILE, detail)


def _symlink(root: str, link: str, location: str, path: bytes) -> InputFile:
    target = os.path.realpath(link)
    if not os.path.exists(target):
        return InputFile(
            location, path, 0, None, "dropped", BROKEN_SYMLINK, _text(os.readlink(link))
        )
    if os.path.commonpath([root, target]) != root:
        return InputFile(location, path, 0, None, "dropped", SYMLINK_OUTSIDE_INPUT, "")
    inside = _text(os.path.relpath(target, root))
    return InputFile(location, path, 0, None, "dropped", SYMLINK_DUPLICATE, f"read as {inside}")


def _list_object_store(input_path: str) -> Iterator[InputFile]:
    from pyarrow import fs

    filesystem, base = object_store(input_path)
    info = filesystem.get_file_info(base)
    if info.type == fs.FileType.NotFound:
        raise InputNotFound(f"input path does not exist: {input_path}")
    if info.type == fs.FileType.File:
        yield _classify(info.base_name, input_path.encode(), info.size)
        return
    scheme = input_path.split("://", 1)[0]
    for item in filesystem.get_file_info(fs.FileSelector(base, recursive=True)):
        if item.type == fs.FileType.File:
            location = item.path[len(base.rstrip("/")) + 1 :]
            uri = f"{scheme}://{item.path}".encode()
            yield _classify(location, uri, item.size, item.mtime_ns or 0)


def object_store(uri: str):
    """``(pyarrow filesystem, path)`` for an object-store URI. ``s3a://`` (Hadoop's name) is
    read as ``s3://``; the endpoint and credentials come from the environment
    (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, …), as for every other reader."""
    from pyarrow import fs

    scheme, _, rest = uri.partition("://")
    if scheme.lower() in ("s3a", "s3"):
        endpoint = os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL_S3")
        options = {}
        if endpoint:
            options["endpoint_override"] = endpoint
            options["scheme"] = endpoint.split("://", 1)[0] if "://" in endpoint else "https"
        return fs.S3FileSystem(**options), rest
    return fs.FileSystem.from_uri(uri)


def open_input(path: bytes, random_access: bool = False):
    """A binary file object for an ``InputFile.path`` (seekable when ``random_access``)."""
    text = path.decode("utf-8", errors="surrogateescape")
    if _is_object_store(text):
        filesystem, inner = object_store(text)
        return (
            filesystem.open_input_file(inner)
            if random_access
            else filesystem.open_input_stream(inner)
        )
    return open(os.fsdecode(path), "rb")
