"""Hostile and malformed input: every case ends in a YamlProblem, quickly and in bounded memory."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from doctor.compose.yamlload import YamlProblem, load_yaml, read_text

BILLION_LAUGHS = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join('*' + chr(97 + i) for _ in range(9))}]\n" for i in range(8)
)
MERGE_BOMB = "a: &a {k0: 1, k1: 1}\n" + "".join(
    f"l{i}: &l{i} {{<<: [{', '.join(['*' + ('a' if i == 0 else f'l{i - 1}')] * 9)}], n{i}: 1}}\n" for i in range(9)
)


def test_lines_are_kept_for_every_value() -> None:
    loaded = load_yaml("services:\n  db:\n    volumes:\n      - a:/b\n      - c:/d\n")
    assert loaded.lines[("services", "db", "volumes", 1)] == 5


def test_merge_keys_and_anchors() -> None:
    loaded = load_yaml("x: &base {image: postgres, a: 1}\ny:\n  <<: *base\n  a: 2\n")
    assert loaded.data["y"] == {"image": "postgres", "a": 2}


def test_compose_tags_are_recorded() -> None:
    loaded = load_yaml("services:\n  db:\n    volumes: !reset []\n")
    assert loaded.tags[("services", "db", "volumes")] == "!reset"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(BILLION_LAUGHS, "billion laughs", id="alias-bomb"),
        pytest.param(MERGE_BOMB, "billion laughs", id="merge-key-bomb"),
        pytest.param("[" * 5000 + "]" * 5000, "nested", id="deep-nesting"),
        pytest.param("a: [1, 2\n", "YAML syntax error", id="syntax"),
        pytest.param("a: *missing\n", "YAML syntax error", id="unknown-alias"),
        pytest.param("? [a, b]\n: 1\n", "", id="complex-key"),
    ],
)
def test_hostile_yaml(text: str, message: str) -> None:
    try:
        load_yaml(text)
    except YamlProblem as problem:
        assert message in problem.message
    else:
        assert message == "", "expected a YamlProblem"


def test_syntax_error_has_line_and_column() -> None:
    with pytest.raises(YamlProblem) as caught:
        load_yaml("services:\n  db:\n    image: [postgres\n")
    assert (caught.value.line, caught.value.column) == (4, 1)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"services: {}\x00\x01\x02", "binary", id="binary"),
        pytest.param(b"services:\n  db: \xff\xfe\n", "not UTF-8", id="latin1"),
    ],
)
def test_unreadable_content(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "compose.yaml"
    path.write_bytes(content)
    with pytest.raises(YamlProblem, match=message):
        read_text(path)


def test_huge_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    with path.open("wb") as stream:
        stream.truncate(50 * 1024 * 1024)
    with pytest.raises(YamlProblem, match=r"50\.0 MiB"):
        read_text(path)


def test_directory_instead_of_a_file(tmp_path: Path) -> None:
    with pytest.raises(YamlProblem, match="cannot read"):
        read_text(tmp_path)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_text_loads_or_gives_a_problem(text: str) -> None:
    with contextlib.suppress(YamlProblem):
        load_yaml(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("a: yes\nb: on\nc: no\n", {"a": "yes", "b": "on", "c": "no"}, id="yaml-1.1-booleans-are-text"),
        pytest.param("a: true\nb: False\n", {"a": True, "b": False}, id="yaml-1.2-booleans"),
        pytest.param("a: 80:80\nb: 1:30\n", {"a": "80:80", "b": "1:30"}, id="no-sexagesimal"),
        pytest.param("a: 2001-02-30\nb: 2001-02-03\n", {"a": "2001-02-30", "b": "2001-02-03"}, id="dates-are-text"),
        pytest.param(
            "a: 0755\nb: 0o17\nc: 0x1F\nd: 1_000\n", {"a": 493, "b": 15, "c": 31, "d": 1000}, id="go-integers"
        ),
        pytest.param("a: 1e3\nb: .5\nc: ~\nd:\n", {"a": 1000.0, "b": 0.5, "c": None, "d": None}, id="floats-and-nulls"),
        pytest.param("a: !!str 5\nb: '5'\nc: !!float 1\n", {"a": "5", "b": "5", "c": 1.0}, id="explicit-tags"),
        pytest.param(
            "a: x\t# comment\nb:\ty\nc: {d: 1,\te: 2}\n",
            {"a": "x", "b": "y", "c": {"d": 1, "e": 2}},
            id="tabs-between-tokens",
        ),
        pytest.param("a: 1\n---\nb: 2\n", {"a": 1, "b": 2}, id="documents-merge"),
    ],
)
def test_values_are_read_as_compose_reads_them(text: str, expected: object) -> None:
    assert load_yaml(text).data == expected


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        pytest.param(
            "volumes:\n  a: {}\nservices: {}\nvolumes:\n  b: {}\n",
            'mapping key "volumes" already defined at line 1',
            4,
            id="duplicate-top-level-key",
        ),
        pytest.param(
            "s:\n  db:\n    image: a\n    image: b\n",
            'mapping key "image" already defined at line 3',
            4,
            id="duplicate-nested-key",
        ),
        pytest.param(
            "x: &a {k: 1}\ny: &b {l: 1}\nz:\n  <<: *a\n  <<: *b\n",
            'mapping key "<<" already defined at line 4',
            5,
            id="duplicate-merge-key",
        ),
        pytest.param("a: !!int abc\n", "cannot be read as !!int", 1, id="bad-explicit-int"),
        pytest.param("a: !!timestamp 2001-02-30\n", "cannot be read as !!timestamp", 1, id="bad-explicit-date"),
        pytest.param("a:\n\tb: 1\n", "YAML syntax error", 2, id="tab-indentation"),
        pytest.param("- \tx\n", "YAML syntax error", 1, id="tab-after-dash"),
        pytest.param("a: 1\n---\n- b\n", "every YAML document", 3, id="document-not-a-mapping"),
    ],
)
def test_what_compose_refuses_the_loader_refuses(text: str, message: str, line: int) -> None:
    with pytest.raises(YamlProblem) as caught:
        load_yaml(text)
    assert message in caught.value.message
    assert caught.value.line == line
