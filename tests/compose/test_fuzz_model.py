"""Any YAML value in any place of a Compose file, any YAML-ish text and any interpolation string
gives findings, never an exception."""

from __future__ import annotations

import contextlib
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checks import CHECKS
from doctor.compose.interpolate import MAX_NESTING, InterpolationSyntaxError, interpolate
from doctor.compose.validate import FileInput, check_file
from doctor.compose.yamlload import YamlProblem, load_yaml
from doctor.context import Options, build_context
from doctor.models import Status
from doctor.runner import run_checks

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.sampled_from(["", "x", "/var/run/postgresql", "db_socket:/var/run/postgresql", "./s:/run/postgresql:ro",
                     "postgres:16", "${X:-/tmp}", "postgresql://u:p@localhost/d?host=/var/run/postgresql", "a:b:c:d"]),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["a", "b", "target", "source", "type"]), inner, max_size=4)
    ),
    max_leaves=12,
)
service = st.fixed_dictionaries(
    {},
    optional={
        "image": values,
        "command": values,
        "environment": values,
        "volumes": values,
        "env_file": values,
        "depends_on": values,
        "healthcheck": values,
    },
)
document = st.fixed_dictionaries(
    {},
    optional={
        "name": values,
        "services": st.dictionaries(st.sampled_from(["database", "backend", "worker"]), service | values, max_size=3)
        | values,
        "volumes": st.dictionaries(st.sampled_from(["db_socket", "db_data"]), values, max_size=2) | values,
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document)
def test_random_documents_never_crash_a_check(tmp_path: Path, doc: dict[str, object]) -> None:
    (tmp_path / "compose.yaml").write_text(yaml.safe_dump(doc))
    ctx = build_context(Options(project_directory=tmp_path, offline=True), environ={})
    findings = run_checks(ctx, CHECKS)
    crashed = [f.title for f in findings if f.status is Status.ERROR]
    assert crashed == []


# YAML-ish text from the pieces that broke the loader before: dates, tabs, duplicate keys,
# anchors and merge keys, tags, deep brackets, interpolation.
yaml_pieces = st.sampled_from(
    [
        "services", "volumes", "environment", "x-date", "image", "a", ":", ": ", "- ", "\n", "  ", "    ",
        "\t", "# c", "2001-02-30", "2001-02-03", "1:30", "yes", "0755", "0x", "~", "&a ", "*a", "<<: ",
        "!!int ", "!!timestamp ", "!!str ", "!reset ", "{", "}", "[", "]", ",", "'", '"', "---\n",
        "${A:-", "${A}", "$$", "}", "?", "|", ">",
    ]
)  # fmt: skip
yaml_texts = st.lists(yaml_pieces, max_size=60).map("".join)


@settings(max_examples=400, deadline=None)
@given(yaml_texts)
def test_yaml_ish_text_loads_or_gives_a_problem(text: str) -> None:
    try:
        loaded = load_yaml(text)
    except YamlProblem as problem:
        assert problem.message and "\n" not in problem.message.strip()
    else:
        check_file(FileInput("compose.yaml", loaded.data, loaded.lines, loaded.tags))


interpolation_pieces = st.sampled_from(
    ["${", "}", "$", "$$", "A", "B_1", ":-", "-", ":?", "?", ":+", "+", "x", " ", "{"]
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(interpolation_pieces, max_size=80).map("".join),
    st.dictionaries(st.sampled_from(["A", "B_1"]), st.text(max_size=3)),
)
def test_interpolation_strings_expand_or_give_a_syntax_error(text: str, env: dict[str, str]) -> None:
    with contextlib.suppress(InterpolationSyntaxError):
        interpolate(text, env)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5000))
def test_any_nesting_depth_expands_or_gives_a_syntax_error(depth: int) -> None:
    text = "${A:-" * depth + "x" + "}" * depth
    try:
        assert interpolate(text, {})[0] == "x"
    except InterpolationSyntaxError as exc:
        assert depth > MAX_NESTING and "nested" in str(exc)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(yaml_texts)
def test_yaml_ish_files_never_crash_a_check(tmp_path: Path, text: str) -> None:
    (tmp_path / "compose.yaml").write_text(text)
    ctx = build_context(Options(project_directory=tmp_path, offline=True), environ={})
    findings = run_checks(ctx, CHECKS)
    assert [f.title for f in findings if f.status is Status.ERROR] == []
