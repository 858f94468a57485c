"""Properties: random secrets planted at random positions of Compose files, `.env`, env_files and
logs never reach any report format, `-o` file, `--fix --dry-run` output or bundle file; no
structural name is ever masked; and no input to the CLI produces a traceback or an internal error."""

from __future__ import annotations

import json
import os
import tarfile
import tempfile
from pathlib import Path
from typing import TypedDict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from doctor.cli import main
from doctor.redact import Redactor
from tests.conftest import member_text

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_!%+"
secrets_ = (
    st.text(ALPHABET, min_size=10, max_size=24).map(lambda s: "Q7" + s).filter(lambda s: Redactor().weakness(s) is None)
)
SECRET_NAMES = ["POSTGRES_PASSWORD", "DB_PW", "REDIS_AUTH", "API_TOKEN", "MYSQL_ROOT_PW", "APP_SECRET_KEY",
                "JWT_SALT", "TLS_CERT", "PGPASSWORD"]  # fmt: skip
OTHER_NAMES = ["FEATURE_FLAGS", "GREETING", "LOG_FORMAT", "MODE"]
LOG_FORMS = [
    "backend | connection failed: {name}={secret}",
    "STATEMENT:  ALTER ROLE app WITH PASSWORD '{secret}'",
    "backend | P1001: Can't reach database server at postgresql://app:{secret}@db/app",
    "backend | connection failed: Authorization: Bearer {secret}",
    'backend | {{"level":"error","{name}":"{secret}","msg":"connection failed"}}',
]


class Planting(TypedDict):
    """Where one example plants its secrets: (name, secret) pairs, (log form, name, secret)."""

    service: str
    client: str
    project: str
    env: list[tuple[str, str]]
    dotenv: tuple[str, str]
    env_file: tuple[str, str]
    url: str
    logs: list[tuple[str, str, str]]
    list_form: bool


@st.composite
def plantings(draw: st.DrawFn) -> Planting:
    return {
        "service": draw(st.sampled_from(["database", "db", "pg"])),
        "client": draw(st.sampled_from(["backend", "api", "worker"])),
        "project": draw(st.sampled_from(["shop", "s-plex-cgnl", "keys-and-tokens"])),
        "env": draw(st.lists(st.tuples(st.sampled_from(SECRET_NAMES + OTHER_NAMES), secrets_), min_size=1, max_size=4)),
        "dotenv": draw(st.tuples(st.sampled_from(SECRET_NAMES), secrets_)),
        "env_file": draw(st.tuples(st.sampled_from(SECRET_NAMES + OTHER_NAMES), secrets_)),
        "url": draw(secrets_),
        "logs": draw(
            st.lists(
                st.tuples(st.sampled_from(LOG_FORMS), st.sampled_from(SECRET_NAMES), secrets_), min_size=1, max_size=4
            )
        ),
        "list_form": draw(st.booleans()),
    }


def _write(directory: Path, p: Planting) -> list[str]:
    env = dict(p["env"])
    dot_name, dot_secret = p["dotenv"]
    file_name, file_secret = p["env_file"]
    lines = [f"{k}: {json.dumps(v)}" for k, v in env.items()] + [f"REF_VALUE: ${{{dot_name}}}"]
    if p["list_form"]:
        lines = [f"- {json.dumps(f'{k}={v}')}" for k, v in env.items()] + [f"- REF_VALUE=${{{dot_name}}}"]
    body = "\n      ".join(lines)
    (directory / "compose.yaml").write_text(
        f"name: {p['project']}\nservices:\n  {p['service']}:\n    image: postgres:16\n    environment:\n      {body}\n"
        f"    volumes:\n      - /Users/me/socket:/var/run/postgresql\n"
        f"  {p['client']}:\n    image: app\n    env_file: [app.env]\n    environment:\n"
        f"      DATABASE_URL: postgresql://app:{p['url']}@localhost/app?host=/var/run/postgresql\n"
        f"    volumes:\n      - /Users/me/other:/var/run/postgresql\n"
    )
    (directory / ".env").write_text(f"{dot_name}={dot_secret}\n")
    (directory / "app.env").write_text(f"{file_name}={file_secret}\n")
    log = ["2024-05-01 09:12:03 UTC [1] FATAL:  could not create any Unix-domain sockets"]
    log += [form.format(name=name, secret=secret) for form, name, secret in p["logs"]]
    (directory / "app.log").write_text("\n".join(log) + "\n")
    secrets = [*env.values(), dot_secret, file_secret, p["url"], *(s for _, _, s in p["logs"])]
    return [str(s) for s in secrets]


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["doctor", *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plantings())
def test_no_planted_secret_reaches_any_output(capsys: pytest.CaptureFixture[str], p: Planting) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary) / "project"
        directory.mkdir()
        secrets = _write(directory, p)
        base = ["--project-directory", str(directory), "--offline", "--target-os", "macos",
                "--log-file", str(directory / "app.log"), "--color", "never"]  # fmt: skip
        outputs: dict[str, str] = {}
        for fmt in ("text", "markdown", "json"):
            outputs[fmt] = _run(capsys, *base, "--format", fmt, "-v")[1]
        _run(capsys, *base, "--format", "markdown", "-o", str(Path(temporary) / "report.md"))
        outputs["-o"] = (Path(temporary) / "report.md").read_text()
        outputs["--fix --dry-run"] = _run(capsys, *base, "--fix", "--dry-run", "--format", "json")[1]
        archive = Path(temporary) / "bundle.tar.gz"
        outputs["bundle run"] = _run(capsys, *base, "--bundle", str(archive))[1]
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                if member.isfile():
                    outputs[member.name] = member_text(tar, member)
        for where, text in outputs.items():
            leaked = [s for s in secrets if s in text]
            assert leaked == [], where
        report = json.loads(outputs["json"])
        assert report["target"]["project"] == p["project"]
        names = {p["service"], p["client"], "/var/run/postgresql", "/Users/me/socket"}
        assert all(str(name) in outputs["json"] for name in names)
        model = next(text for name, text in outputs.items() if name.endswith("effective-model.json"))
        assert set(json.loads(model)["services"]) == {p["service"], p["client"]}


FLAGS = st.sampled_from(
    ["--since", "--timeout", "--port", "--log-lines", "--format", "--target-os", "--env-file", "-f",
     "--log-file", "--socket-dir", "-p", "--probe-container", "--color", "--bundle", "-o"]
)  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(["1e400m", "nanm", "-5m", "inf", "nan", "0", "-1", "99999999999999999999999", "1e309", "10m",
                     "\0", "/dev/zero", "/dev/null", "fifo", "compose.yaml", "x.tar.gz", "", "-", "json", "."]),
    st.text(max_size=12),
)  # fmt: skip
COMPOSE = st.sampled_from(
    [
        'services:\n  db:\n    image: postgres\n    env_file: ["\\0"]\n',
        "services:\n  db:\n    image: postgres\n    env_file: fifo\n",
        "services:\n  db:\n    image: postgres\n    env_file: /dev/zero\n",
        "services:\n  db:\n    image: postgres\n    volumes:\n      - ./fifo:/etc/postgresql/postgresql.conf\n"
        "    command: postgres -c config_file=/etc/postgresql/postgresql.conf\n",
        "x-date: 2001-02-30\nservices: {}\n",
        "services:\n  db:\n    environment:\n      A: !!binary Zm9v\n",
        "\0\1\2",
        "services: [",
    ]
)


def _inside(directory: Path, flag: str, value: str) -> str:
    """Outputs go only inside the test's own folder: a run as root with `-o /dev/zero` once
    replaced the device node with a regular file (the output-writing issue), and a relative name
    would land in the working tree. Inputs may point anywhere, devices included."""
    if flag in ("-o", "--bundle"):
        return str(directory / "out" / value.replace("/", "_")) if value else value
    return str(directory / "fifo") if value == "fifo" else value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(COMPOSE, st.lists(st.tuples(FLAGS, VALUES), max_size=4))
def test_no_input_gives_a_traceback_or_internal_error(
    capsys: pytest.CaptureFixture[str], compose: str, flags: list[tuple[str, str]]
) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        (directory / "compose.yaml").write_text(compose)
        os.mkfifo(directory / "fifo")
        (directory / "out").mkdir()
        argv = ["--project-directory", str(directory), "--offline"]
        for flag, value in flags:
            argv += [flag, _inside(directory, flag, value)]
        try:
            code, output = _run(capsys, *argv)
        except SystemExit as exc:  # argparse's own exit for a bad flag value
            code, output = int(exc.code or 0), capsys.readouterr().err
        assert code in (0, 1, 2), output
        assert "internal error" not in output and "Traceback" not in output


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(["shop", "s-plex-cgnl", "pg-keys"]),
    st.sampled_from(["database", "db", "postgres"]),
    st.sampled_from(
        ["postgresql", "plex", "shop", "database", "db_socket", "run", "keys", "changeme", "socket", "var"]
    ),
)
def test_a_weak_password_never_masks_a_name_or_path(
    capsys: pytest.CaptureFixture[str], project: str, service: str, password: str
) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        (directory / "compose.yaml").write_text(
            f"name: {project}\nservices:\n  {service}:\n    image: postgres:16\n    environment:\n"
            f"      POSTGRES_PASSWORD: {password}\n    volumes:\n      - db_socket:/var/run/postgresql\n"
            f"  backend:\n    image: app\n    environment:\n"
            f"      DATABASE_URL: postgresql://app:{password}@/app?host=/var/run/postgresql\n"
            f"    volumes:\n      - db_socket:/var/run/postgresql\nvolumes:\n  db_socket:\n    driver: local\n"
        )
        archive = directory / "b.tar.gz"
        code, output = _run(capsys, "--project-directory", str(directory), "--offline", "--format", "json",
                            "--bundle", str(archive))  # fmt: skip
        assert code == 0, output  # a named volume shared by both: nothing fails
        report, _ = json.JSONDecoder().raw_decode(output)  # stderr (where the bundle went) follows
        assert report["target"]["project"] == project
        assert [v["engine_name"] for v in report["target"]["volumes"]] == [f"{project}_db_socket"]
        with tarfile.open(archive) as tar:
            files = {m.name: member_text(tar, m) for m in tar.getmembers() if m.isfile()}
        copy = next(text for name, text in files.items() if name.endswith("compose/compose.yaml"))
        for text in (output, copy):
            assert f"POSTGRES_PASSWORD: {password}\n" not in text and f"app:{password}@" not in text
        for name in (f"name: {project}", f"  {service}:", "db_socket:/var/run/postgresql", "host=/var/run/postgresql"):
            assert name in copy, name
        model = json.loads(next(text for name, text in files.items() if name.endswith("effective-model.json")))
        assert set(model["services"]) == {service, "backend"} and model["project"] == project
        assert model["services"][service]["volumes"][0]["target"] == "/var/run/postgresql"
        assert model["volumes"]["db_socket"]["engine_name"] == f"{project}_db_socket"
        assert any(f["id"] == "weak-secret" for f in report["findings"])
