"""Canary secrets planted everywhere a secret can come from must never reach any report format."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from doctor.redact import Redactor

CANARIES = {
    "env": "Canary-Env-7f3a91",
    "url": "Canary-Url-c0ffee",
    "dotenv": "Canary-Dotenv-b4d5e6",
    "log": "Canary-Log-99aa11",
    "token": "Canary-Token-123abc",
    "dsn": "Canary-Dsn-feed42",
    "shell": "Canary-Shell-5e11",
}

COMPOSE = f"""
services:
  database:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: {CANARIES["env"]}
      API_TOKEN: ${{API_TOKEN}}
    volumes:
      - /Users/me/socket:/var/run/postgresql
  backend:
    image: app
    environment:
      DATABASE_URL: postgresql://app:{CANARIES["url"]}@localhost/app?host=/var/run/postgresql
      REPORT_DSN: host=/tmp dbname=app password={CANARIES["dsn"]}
      SECRET_KEY: ${{SECRET_KEY}}
    volumes:
      - /Users/me/other:/var/run/postgresql
"""

LOG = f"""2024-05-01 09:12:03.123 UTC [1] LOG:  could not set permissions of file "/var/run/postgresql/.s.PGSQL.5432": Invalid argument
2024-05-01 09:12:03.123 UTC [1] FATAL:  could not create any Unix-domain sockets
backend | connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: No such file or directory
backend | {{"level":"error","db_password":"{CANARIES["log"]}","err":"connection to server on socket \\"/x/.s.PGSQL.5432\\" failed: Connection refused"}}
backend | connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: Permission denied (dsn "host=/x password={CANARIES["log"]}")
2024-05-01 09:12:04.000 UTC [7] FATAL:  password authentication failed for user "app"
backend | Error: P1001: Can't reach database server at `postgresql://app:{CANARIES["url"]}@localhost`
backend | connection failed: socket, PGPASSWORD={CANARIES["shell"]} API_TOKEN={CANARIES["token"]}
"""


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    (tmp_path / ".env").write_text(f"API_TOKEN={CANARIES['token']}\nSECRET_KEY='{CANARIES['dotenv']}'\n")
    (tmp_path / "app.log").write_text(LOG)
    return tmp_path


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
@pytest.mark.parametrize("verbose", [True, False])
def test_no_canary_in_any_format(
    cli: object, planted: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, verbose: bool
) -> None:
    monkeypatch.setenv("PGPASSWORD", CANARIES["shell"])
    args = ["--format", fmt, "--log-file", "app.log", "--target-os", "macos", "--color", "never"]
    result = cli(*args, *(["-v"] if verbose else []), cwd=planted)  # type: ignore[operator]
    output = result.out + result.err
    assert "socket-host-path" in output  # the report is there...
    assert "log-backend-cannot-connect" in output
    if verbose or fmt != "text":
        assert "db_password" in output and "dsn" in output  # the canary lines are quoted as evidence
    leaked = [name for name, value in CANARIES.items() if value in output]
    assert leaked == []  # ...and no secret is in it


def test_ordinary_log_wording_survives_redaction() -> None:
    line = 'FATAL:  password authentication failed for user "app"'
    assert Redactor().text(line) == line


def test_output_file_is_redacted_too(cli: object, planted: Path) -> None:
    cli("--format", "markdown", "--log-file", "app.log", "-o", "report.md", cwd=planted)  # type: ignore[operator]
    text = (planted / "report.md").read_text()
    assert "Unix-domain" in text
    assert not [v for v in CANARIES.values() if v in text]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("postgresql://u:pw1234@h/db", "postgresql://u:[redacted]@h/db", id="url"),
        pytest.param("host=/x password='a b c'", "host=/x password=[redacted]", id="dsn-quoted"),
        pytest.param("DB_PASSWD=abc", "DB_PASSWD=[redacted]", id="passwd"),
        pytest.param('"AWS_SECRET_ACCESS_KEY": "abcd"', '"AWS_SECRET_ACCESS_KEY": "[redacted]"', id="json-style"),
        pytest.param("GITHUB_TOKEN: ghp_x", "GITHUB_TOKEN: [redacted]", id="yaml-style"),
        pytest.param("MY_CREDENTIALS=zzz", "MY_CREDENTIALS=[redacted]", id="credential"),
        pytest.param("POSTGRES_PASSWORD: ${DB_PASSWORD}", "POSTGRES_PASSWORD: ${DB_PASSWORD}", id="reference-kept"),
        pytest.param("image: postgres:16", "image: postgres:16", id="ordinary"),
    ],
)
def test_patterns(text: str, expected: str) -> None:
    assert Redactor().text(text) == expected


def test_known_values_are_masked_out_of_context() -> None:
    redactor = Redactor()
    redactor.add_named([("POSTGRES_PASSWORD", "hunter2-long"), ("POSTGRES_USER", "apiuser")])
    assert redactor.text("login hunter2-long by apiuser") == "login [redacted] by apiuser"


def test_examples_contain_no_real_secret() -> None:
    # The bundled examples must be safe to paste: their only password is a placeholder.
    examples = Path(__file__).resolve().parent.parent / "examples"
    for path in examples.rglob("compose.yaml"):
        assert "PASSWORD: ${" in path.read_text() or "PASSWORD" not in path.read_text()
    assert shutil.which("python3") is not None
