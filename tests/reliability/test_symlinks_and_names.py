"""Listing an input: links are counted and never followed, any file name is readable, and
every file under the input appears exactly once."""

from __future__ import annotations

import os

import pytest

from thresher import names
from thresher.text.input_files import InputNotFound, list_input_files


def listing(path) -> dict[str, tuple[str | None, str | None]]:
    return {f.location: (f.disposition, f.reason) for f in list_input_files(str(path))}


def test_a_link_loop_reads_each_page_once(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "page.html").write_text("<p>x</p>")
    (tmp_path / "a" / "again").symlink_to(".")
    (tmp_path / "a" / "up").symlink_to("..")
    found = listing(tmp_path)
    assert found == {
        "a/again": ("dropped", "symlink_duplicate"),
        "a/page.html": (None, None),
        "a/up": ("dropped", "symlink_duplicate"),
    }


def test_a_link_out_of_the_input_is_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "private.html").write_text("<p>private</p>")
    root = tmp_path / "in"
    root.mkdir()
    (root / "escape").symlink_to(outside)
    (root / "file-escape.html").symlink_to(outside / "private.html")
    (root / "dangling.html").symlink_to(tmp_path / "nowhere")
    found = listing(root)
    assert found == {
        "dangling.html": ("dropped", "broken_symlink"),
        "escape": ("dropped", "symlink_outside_input"),
        "file-escape.html": ("dropped", "symlink_outside_input"),
    }


def test_an_input_given_through_a_link_is_read(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "p.html").write_text("<p>x</p>")
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    assert listing(tmp_path / "alias") == {"p.html": (None, None)}


def test_odd_file_names_are_listed_with_readable_locations(tmp_path):
    root = tmp_path / "crawl [v2]"  # glob characters in the input folder
    (root / "sub dir").mkdir(parents=True)
    for name in ("crawl 12:30.html", "PAGE.HTML", "notes.TXT", "q?*.htm", ".DS_Store", "_SUCCESS"):
        (root / "sub dir" / name).write_text("<p>x</p>")
    (root / os.fsdecode(b"caf\xe9.html")).write_text("<p>x</p>")  # not UTF-8
    (root / "empty.jsonl").write_bytes(b"")
    found = listing(root)
    assert found == {
        "caf\\xe9.html": (None, None),
        "empty.jsonl": ("dropped", "empty_file"),
        "sub dir/.DS_Store": ("dropped", "hidden_file"),
        "sub dir/PAGE.HTML": (None, None),
        "sub dir/_SUCCESS": ("dropped", "hidden_file"),
        "sub dir/crawl 12:30.html": (None, None),
        "sub dir/notes.TXT": ("dropped", "unsupported_extension"),
        "sub dir/q?*.htm": (None, None),
    }
    (latin1,) = [f for f in list_input_files(str(root)) if f.location.startswith("caf")]
    assert os.path.exists(os.fsdecode(latin1.path))  # the real name is kept for reading
    assert names.source_from_folder(root.name) == "crawl_v2_"


def test_a_missing_input_is_one_clear_error(tmp_path):
    with pytest.raises(InputNotFound, match="does not exist"):
        list_input_files(str(tmp_path / "nowhere"))
