"""The aligned item format: validation, JSONL round trip, alignment checks, selection."""

from __future__ import annotations

import json

import pytest

from thresher.corpora.items import Item, ItemsError, check_aligned, read_items, select, write_items


def item(item_id="1", language="en", answer=0, options=(" a", " b"), task="t", kind="choice"):
    return Item(task, item_id, language, "ctx", tuple(options), answer, kind)


def aligned_set():
    return [item(i, lang, answer=int(i) % 2) for lang in ("en", "de") for i in ("1", "2", "3")]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"answer": 2}, "answer must index options"),
        ({"answer": True}, "answer must index options"),
        ({"options": (" only",)}, "at least two options"),
        ({"options": (" a", "")}, "non-empty strings"),
        ({"kind": "perplexity"}, "exactly one text"),
        ({"kind": "generate"}, "kind must be one of"),
        ({"language": ""}, "language must be a non-empty string"),
    ],
)
def test_invalid_items_are_refused(fields, message):
    with pytest.raises(ItemsError, match=message):
        item(**fields)


def test_jsonl_round_trip_and_integer_keys(tmp_path):
    items = [item("7", "tr"), Item("ppl", "doc", "en", "", ("some text",), 0, "perplexity")]
    path = tmp_path / "items.jsonl"
    assert write_items(items, path) == 2
    assert read_items(path) == items
    # Upstream integer keys are read as strings; "kind" defaults to "choice".
    line = {"task": "t", "item_id": 7, "language": "tr", "context": "ctx", "options": [" a", " b"]}
    path.write_text(json.dumps({**line, "answer": 0}) + "\n\n", encoding="utf-8")
    assert read_items(path) == [item("7", "tr")]


def test_a_folder_is_read_in_path_order(tmp_path):
    write_items([item("1", "de")], tmp_path / "b.jsonl")
    (tmp_path / "sub").mkdir()
    write_items([item("1", "en")], tmp_path / "sub" / "a.jsonl")
    assert [i.language for i in read_items(tmp_path)] == ["de", "en"]


def test_read_errors_name_the_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(item().to_json()) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(ItemsError, match=r"bad.jsonl:2"):
        read_items(path)
    path.write_text(json.dumps({"task": "t"}) + "\n", encoding="utf-8")
    with pytest.raises(ItemsError, match=r"bad.jsonl:1: missing field\(s\): item_id, language"):
        read_items(path)
    with pytest.raises(ItemsError, match="does not exist"):
        read_items(tmp_path / "absent.jsonl")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ItemsError, match="no \\*.jsonl files"):
        read_items(tmp_path / "empty")


def test_aligned_set_passes():
    check_aligned(aligned_set())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s[:-1], r"t/de: 1 item_id\(s\) that other languages have are missing \('3'\)"),
        (lambda s: [*s, item("2", "de", answer=0)], r"t/de: item_id '2' twice"),
        (lambda s: [*s[:-1], item("3", "de", answer=0)], r"t/3: \(kind, options, answer\) differ"),
        (
            lambda s: [*s[:-1], item("3", "de", answer=1, options=(" a", " b", " c"))],
            r"de=\('choice', 3, 1\), en=\('choice', 2, 1\)",
        ),
    ],
)
def test_misaligned_sets_are_refused(change, message):
    with pytest.raises(ItemsError, match=message):
        check_aligned(change(aligned_set()))


def test_tasks_are_aligned_separately():
    # Another task may cover other languages and keys.
    check_aligned([*aligned_set(), item("x", "zh", task="other")])


def test_select_languages_and_limit_keep_the_same_keys():
    items = aligned_set() + [item(i, "zh", answer=int(i) % 2) for i in ("1", "2", "3")]
    chosen = select(items, languages=["de", "zh"], limit=2)
    assert sorted((i.language, i.item_id) for i in chosen) == [
        ("de", "1"),
        ("de", "2"),
        ("zh", "1"),
        ("zh", "2"),
    ]
    check_aligned(chosen)
    with pytest.raises(ItemsError, match="unknown language\\(s\\) fr; the items have de, en, zh"):
        select(items, languages=["fr", "de"])
    with pytest.raises(ItemsError, match="limit must be at least 1"):
        select(items, limit=0)
