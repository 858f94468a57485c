from __future__ import annotations

import pytest

from doctor.compose.envfile import parse_env_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("A=1\n", {"A": "1"}, id="plain"),
        pytest.param("export A=1\n", {"A": "1"}, id="export"),
        pytest.param("# comment\n\nA=1 # trailing\n", {"A": "1"}, id="comments"),
        pytest.param("A='x # y'\n", {"A": "x # y"}, id="single-quotes-literal"),
        pytest.param('A="a\\nb"\n', {"A": "a\nb"}, id="double-quotes-escapes"),
        pytest.param('A="line1\nline2"\n', {"A": "line1\nline2"}, id="multiline"),
        pytest.param("A=/run\nB=${A}/postgresql\n", {"A": "/run", "B": "/run/postgresql"}, id="reference"),
        pytest.param("A='${B}'\n", {"A": "${B}"}, id="single-quotes-no-interpolation"),
        pytest.param("NOVALUE\nA = spaced \n", {"A": "spaced"}, id="no-equals-and-spaces"),
    ],
)
def test_parse(text: str, expected: dict[str, str]) -> None:
    assert parse_env_text(text) == expected
