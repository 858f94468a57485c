"""The vendored Compose schema and the small JSON Schema interpreter that reads it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from doctor.compose.schema import compose_schema, unsupported_keywords, validate
from lab import composev2
from tests.conftest import require


def test_the_interpreter_knows_every_keyword_of_the_vendored_schema() -> None:
    assert unsupported_keywords(compose_schema()) == set()


def test_an_unknown_keyword_is_noticed() -> None:
    assert unsupported_keywords({"properties": {"allOf": {"not": {}}}}) == {"not"}


def test_the_vendored_schema_is_the_one_compose_v2_embeds() -> None:
    """The copy in the package is byte for byte the schema inside the Compose binary in use."""
    found = composev2.binary()
    require(found is not None, composev2.why_unavailable() or "")
    assert found is not None
    data = found.read_bytes()
    start = data.find(b'"$id": "compose_spec.json"')
    assert start > 0, "no Compose schema inside the binary"
    opening = data.rfind(b"{", 0, start)
    embedded, _ = json.JSONDecoder().raw_decode(data[opening : opening + 400_000].decode("utf-8", "replace"))
    assert embedded == compose_schema()


SMALL: dict[str, Any] = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": ["a", "b"]},
        "size": {"type": "integer", "minimum": 0, "maximum": 9},
        "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        "either": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "ref": {"$ref": "#/definitions/named"},
    },
    "patternProperties": {"^x-": {}},
    "required": ["kind"],
    "additionalProperties": False,
    "definitions": {"named": {"type": "string", "pattern": "^[a-z]+$"}},
}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param(
            {"kind": "a", "size": 3, "tags": ["p", "q"], "either": ["s"], "ref": "ok", "x-any": [1]},
            None,
            id="conforms",
        ),
        pytest.param({"kind": "c"}, "kind must be one of 'a', 'b', not 'c'", id="enum"),
        pytest.param({"kind": "a", "size": True}, "size must be an integer, not a boolean", id="bool-is-not-a-number"),
        pytest.param({"kind": "a", "size": 10}, "size must be at most 9, not 10", id="maximum"),
        pytest.param({"kind": "a", "size": -1}, "size must be at least 0, not -1", id="minimum"),
        pytest.param({"kind": "a", "tags": ["p", "p"]}, "tags lists the same entry twice ([0] and [1])", id="unique"),
        pytest.param({"kind": "a", "either": 5}, "either must be a string or a list, not a number", id="one-of-no-fit"),
        pytest.param(
            {"kind": "a", "either": [5]}, "either[0] must be a string, not a number", id="one-of-the-fitting-form"
        ),
        pytest.param({"kind": "a", "ref": "NO"}, "ref 'NO' does not match the pattern ^[a-z]+$", id="ref-and-pattern"),
        pytest.param({"kind": "a", "other": 1}, "the top level does not allow the key 'other'", id="additional"),
        pytest.param({}, "the file needs the key 'kind'", id="required"),
        pytest.param([], "the file must be a mapping, not a list", id="type"),
    ],
)
def test_the_interpreter(value: Any, message: str | None) -> None:
    errors = validate(value, SMALL)
    assert [e.message for e in errors] == ([] if message is None else [message])


def test_every_message_is_one_sentence_naming_the_place() -> None:
    errors = validate({"services": {"db": {"image": 5, "volumes": "x", "nope": 1}}})
    assert {e.message for e in errors} == {
        "services.db.image must be a string, not a number",
        "services.db.volumes must be a list, not a string",
        "services.db does not allow the key 'nope'",
    }
    assert all(re.fullmatch(r"[^\n]+", e.message) for e in errors)
