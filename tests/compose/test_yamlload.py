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
