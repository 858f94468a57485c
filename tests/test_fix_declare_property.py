"""A property of the editor's top-level ``volumes:`` merge: for generated Compose files, in
every form that key takes (absent, block, flow, empty, null; 2 or 4 spaces; LF or CRLF; with
comments, a trailing comma, no final newline, another key after it), declaring volumes gives a
file that loads with exactly one ``volumes:`` holding the old entries plus the new ones, every
other top-level key unchanged, and the file's line endings kept."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from doctor.compose.edit import ComposeEditor
from doctor.compose.model import ComposeProject
from doctor.fixwrite import strict_problem

NEW = ("db_socket", "db_data")


@st.composite
def compose_files(draw: st.DrawFn) -> tuple[str, dict[str, Any], list[str]]:
    step = " " * draw(st.sampled_from([2, 4]))
    names = draw(st.lists(st.sampled_from(["cache", "db_socket", "logs"]), unique=True, max_size=3))
    old: dict[str, Any] = {}
    form = draw(st.sampled_from(["absent", "block", "flow", "empty", "null"]))
    if form == "block" and not names:
        form = "empty"
    if form == "flow":
        entries = []
        for name in names:
            value = draw(st.sampled_from(["{}", "{driver: local}", ""]))
            entries.append(f"{name}: {value}".rstrip())
            old[name] = {"driver": "local"} if "driver" in value else ({} if value else None)
        comma = "," if bool(entries) and draw(st.booleans()) else ""
        space = draw(st.sampled_from(["", " "]))
        volumes = [f"volumes: {{{space}{', '.join(entries)}{comma}{space}}}"]
    elif form == "block":
        volumes = ["volumes:" + draw(st.sampled_from(["", "  # ours"]))]
        for name in names:
            if draw(st.booleans()):
                volumes.append(f"{step}# about {name}")
            if draw(st.booleans()):
                volumes += [f"{step}{name}:", f"{step}{step}driver: local"]
                old[name] = {"driver": "local"}
            else:
                volumes.append(f"{step}{name}:")
                old[name] = None
        if draw(st.booleans()):
            volumes.append("")
    elif form == "empty":
        volumes = ["volumes:" + draw(st.sampled_from(["", "  # later"]))]
    elif form == "null":
        volumes = ["volumes: " + draw(st.sampled_from(["~", "null", "~  # none"]))]
    else:
        volumes = []
    services = ["services:", f"{step}db:", f"{step}{step}image: postgres:16"]
    after = draw(st.sampled_from([[], ["x-note: kept"], ["networks:", f"{step}default: {{}}"]]))
    body = services + volumes + after if draw(st.booleans()) else volumes + services + after
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(["# generated", *body]) + (newline if draw(st.booleans()) else "")
    wanted = [name for name in NEW if name not in old]
    return text, old, wanted


@settings(max_examples=300, deadline=None)
@given(compose_files())
def test_declaring_merges_into_the_one_volumes_key(case: tuple[str, dict[str, Any], list[str]]) -> None:
    text, old, wanted = case
    before = yaml.safe_load(text)
    project = ComposeProject("p", "test", "/nowhere", ["compose.yaml"], texts={"compose.yaml": text})
    editor = ComposeEditor(project)
    assert all(editor.declare_volume("compose.yaml", name) for name in wanted)
    result = editor.result()["compose.yaml"]
    assert strict_problem(result) is None, result
    after = yaml.safe_load(result)
    assert (after.get("volumes") or {}) == {**old, **{name: {"driver": "local"} for name in wanted}}
    assert {k: v for k, v in after.items() if k != "volumes"} == {k: v for k, v in before.items() if k != "volumes"}
    assert sum(1 for line in result.splitlines() if line.startswith("volumes:")) == 1  # db_data is always new
    if "\r\n" in text:
        assert result.count("\n") == result.count("\r\n"), repr(result)
    else:
        assert "\r" not in result
