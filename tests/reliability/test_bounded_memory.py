"""Reading a hostile file holds a bounded amount of memory, whatever it expands to."""

from __future__ import annotations

import tracemalloc

from tests.reliability.inputs import gzip_bomb
from thresher.text.input_files import list_input_files
from thresher.text.input_records import Limits, Refused, file_records

MiB = 1 << 20


def read_all(path, limits: Limits) -> tuple[list, int]:
    """Every entry of the only file under ``path``, and the peak of Python allocations."""
    (file,) = list_input_files(str(path))
    tracemalloc.start()
    try:
        entries = list(file_records("test", file, limits))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return entries, peak


def test_a_gzip_bomb_is_read_up_to_the_file_cap_in_bounded_memory(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    gzip_bomb(folder / "bomb.jsonl.gz", 256 * MiB)  # ~250 kB on disk
    assert (folder / "bomb.jsonl.gz").stat().st_size < 1 * MiB

    entries, peak = read_all(folder, Limits(max_record_bytes=MiB, max_file_bytes=32 * MiB))

    assert [(e.location, e.reason) for e in entries] == [
        ("bomb.jsonl.gz#L1", "oversize"),  # one line of zeros, refused by its length
        ("bomb.jsonl.gz#rest", "oversize"),  # and the rest beyond the 32 MiB cap, not read
    ]
    assert entries[0].n_bytes == 32 * MiB and len(entries[0].excerpt) <= 2000
    assert peak < 8 * MiB, f"peak {peak / MiB:.1f} MiB"


def test_a_single_huge_line_is_never_held_whole(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    line = b'{"text": "' + b"a" * (32 * MiB) + b'"}\n{"text": "next"}\n'
    (folder / "one-line.jsonl").write_bytes(line)

    entries, peak = read_all(folder, Limits(max_record_bytes=MiB, max_file_bytes=1 << 30))

    refused, following = entries
    assert isinstance(refused, Refused) and refused.reason == "oversize"
    assert refused.n_bytes == 32 * MiB + 12
    assert following.location == "one-line.jsonl#L2"  # the next line is read as usual
    assert peak < 6 * MiB, f"peak {peak / MiB:.1f} MiB"


def test_an_oversize_page_is_refused_by_its_size_before_it_is_read(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "big.html").write_bytes(b"<p>" + b"x" * (16 * MiB))

    entries, peak = read_all(folder, Limits(max_record_bytes=MiB, max_file_bytes=1 << 30))

    assert [(e.location, e.reason) for e in entries] == [("big.html", "oversize")]
    assert peak < 1 * MiB, f"peak {peak / MiB:.1f} MiB"
