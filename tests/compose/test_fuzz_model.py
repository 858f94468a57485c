"""Any YAML value in any place of a Compose file gives findings, never an exception."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checks import CHECKS
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
