"""Canary secrets planted everywhere a secret can come from must never reach any report format."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from doctor.redact import Redactor
from tests.conftest import Cli, member_text

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
    cli: Cli, planted: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, verbose: bool
) -> None:
    monkeypatch.setenv("PGPASSWORD", CANARIES["shell"])
    args = ["--format", fmt, "--log-file", "app.log", "--target-os", "macos", "--color", "never"]
    result = cli(*args, *(["-v"] if verbose else []), cwd=planted)
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


def test_output_file_is_redacted_too(cli: Cli, planted: Path) -> None:
    cli("--format", "markdown", "--log-file", "app.log", "-o", "report.md", cwd=planted)
    text = (planted / "report.md").read_text()
    assert "Unix-domain" in text
    assert not [v for v in CANARIES.values() if v in text]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("postgresql://u:pw1234@h/db", "postgresql://u:[redacted]@h/db", id="url"),
        pytest.param("host=/x password='a b c'", "host=/x password='[redacted]'", id="dsn-quoted"),
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
    files = sorted(examples.rglob("compose.yaml"))
    assert files, f"no example under {examples}"
    for path in files:
        values = re.findall(r"PASSWORD\w*\s*[:=]\s*(\S+)", path.read_text())
        assert all(value.startswith("${") for value in values), (path, values)


# --- issue 9: sixteen kinds of secret, every PostgreSQL password statement, names kept --------

import io  # noqa: E402
import json  # noqa: E402
import tarfile  # noqa: E402

KINDS = {
    "db-pw": "Kd9-DbPw-11",
    "redis-auth": "Kd9-Redis-12",
    "mysql-root-pw": "Kd9-Mysql-13",
    "sentry-dsn": "kd9sentryuser14",
    "build-arg": "Kd9-BuildArg-15",
    "command-flag": "Kd9-Flag-16",
    "basic-auth-label": "Kd9-Apr1-17",
    "url-slash": "Kd9/Slash-18",
    "url-at": "Kd9@At-19",
    "reference": "Kd9-Ref-20",
    "x-extension": "Kd9-Ext-21",
    "healthcheck": "Kd9-Health-22",
    "secret-content": "Kd9-Content-23",
    "env-file": "Kd9-EnvFile-24",
    "jdbc": "Kd9-Jdbc-25",
    "aws": "AKIAKD9ABCDEFGH12345",
    "log-db-pass": "Kd9-LogPass-26",
    "bearer": "Kd9BearerTokenZZ27",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJrZDkifQ.Kd9JwtSig28",
    "pem": "MIIEvKd9PemBody29",
}
# Every form PostgreSQL writes a password in a statement (and psql's \password).
PG_FORMS = {
    "create-role": ("STATEMENT:  CREATE ROLE reporting LOGIN PASSWORD '{}'", "Kd9-Pg-30"),
    "alter-user-with": ("LOG:  statement: ALTER USER postgres WITH PASSWORD '{}'", "Kd9-Pg-31"),
    "encrypted": ("LOG:  statement: CREATE USER app ENCRYPTED PASSWORD '{}'", "Kd9-Pg-32"),
    "unencrypted": (
        "ERROR: x\nSTATEMENT:  alter role app unencrypted password '{}' valid until 'infinity'",
        "Kd9-Pg-33",
    ),
    "escaped-quote": ("LOG:  statement: ALTER ROLE app PASSWORD '{}'", "Kd9''Pg-34"),
    "e-string": ("LOG:  statement: ALTER ROLE app PASSWORD E'{}'", "Kd9\\'Pg-35"),
    "dollar": ("LOG:  statement: ALTER ROLE app PASSWORD $${}$$", "Kd9-Pg-36"),
    "dollar-tag": ("LOG:  statement: ALTER ROLE app PASSWORD $pw${}$pw$", "Kd9-Pg-37"),
    "cut-short": ("LOG:  statement: CREATE ROLE x PASSWORD '{}", "Kd9-Pg-38"),
    "scram": ("LOG:  statement: ALTER ROLE app PASSWORD '{}'", "SCRAM-SHA-256$4096:Kd9salt=$Kd9key:Kd9srv"),
    "psql": ("postgres=# \\password app {}", "Kd9-Pg-39"),
}

PLANTED_COMPOSE = f"""name: shop-keys
x-common: &common
  API_SECRET: {KINDS["x-extension"]}
services:
  database:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: ${{PG_PW}}
      DB_PW: {KINDS["db-pw"]}
      MYSQL_ROOT_PW: {KINDS["mysql-root-pw"]}
    healthcheck:
      test: ["CMD-SHELL", "PGPASSWORD={KINDS["healthcheck"]} pg_isready -h /var/run/postgresql"]
    volumes:
      - db_socket:/var/run/postgresql
  backend:
    image: registry.example.com/shop/backend:1.2
    env_file: [backend.env]
    build:
      context: .
      args:
        NPM_CONFIG: {KINDS["build-arg"]}
    command: ["serve", "--db-password", "{KINDS["command-flag"]}"]
    labels:
      traefik.http.middlewares.auth.basicauth.users: "admin:$$apr1$${KINDS["basic-auth-label"]}"
    environment:
      <<: *common
      DATABASE_URL: postgresql://app:${{APP_DB_PW}}@localhost/app?host=/var/run/postgresql
      SENTRY_DSN: https://{KINDS["sentry-dsn"]}@o1.ingest.sentry.io/42
      REDIS_AUTH: {KINDS["redis-auth"]}
      SLASH_URL: "postgresql://u:{KINDS["url-slash"]}@db/x"
      AT_URL: "postgresql://u:{KINDS["url-at"]}@db/x"
      JDBC_URL: "jdbc:postgresql://db/app?user=app&password={KINDS["jdbc"]}"
      AWS_ACCESS_KEY_ID: {KINDS["aws"]}
    volumes:
      - db_socket:/var/run/postgresql
volumes:
  db_socket:
    driver: local
secrets:
  db_key:
    content: "{KINDS["secret-content"]}"
"""
PLANTED_LOG = "\n".join(
    [
        "2024-05-01 09:12:03.123 UTC [1] FATAL:  could not create any Unix-domain sockets",
        f'backend | connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: No such file or directory (DB_PASS={KINDS["log-db-pass"]})',
        f"backend | connection failed: socket; GET / Authorization: Bearer {KINDS['bearer']} token={KINDS['jwt']}",
        f"backend | connection failed: key -----BEGIN RSA PRIVATE KEY-----\n{KINDS['pem']}\n-----END RSA PRIVATE KEY-----",
        *[form.format(value) for form, value in PG_FORMS.values()],
    ]
)
SECRETS = [*KINDS.values(), *(value for _, value in PG_FORMS.values()), "Kd9-PgPw-40", "Kd9-AppPw-41"]
NAMES = ["shop-keys", "database", "backend", "db_socket", "db_key", "/var/run/postgresql", "backend.env",
         "registry.example.com/shop/backend:1.2", "shop-keys_db_socket"]  # fmt: skip


def _secret_parts(value: str) -> list[str]:
    # PostgreSQL's '' and \' escapes, and pieces of a SCRAM verifier, each must be gone.
    return [value.replace("''", "'"), value, *[p for p in re.split(r"[$:=]", value) if len(p) > 6]]


def _leaks(text: str) -> list[str]:
    return [value for value in SECRETS if any(part in text for part in _secret_parts(value))]


@pytest.fixture
def planted16(tmp_path: Path) -> Path:
    project = tmp_path / "shop-keys"
    project.mkdir()
    (project / "compose.yaml").write_text(PLANTED_COMPOSE)
    (project / ".env").write_text("PG_PW=Kd9-PgPw-40\nAPP_DB_PW=Kd9-AppPw-41\n")
    (project / "backend.env").write_text(f"SOME_PASSWORD={KINDS['env-file']}\n")
    (project / "app.log").write_text(PLANTED_LOG + "\n")
    return project


def _bundle_files(archive: Path) -> dict[str, str]:
    with tarfile.open(archive) as tar:
        return {m.name: member_text(tar, m) for m in tar.getmembers() if m.isfile()}


def test_sixteen_kinds_and_every_statement_form_reach_no_output(cli: Cli, planted16: Path) -> None:
    common = ["--project-directory", str(planted16), "--offline", "--log-file", str(planted16 / "app.log"),
              "--target-os", "macos", "--color", "never"]  # fmt: skip
    outputs: dict[str, str] = {}
    for fmt in ("text", "markdown", "json"):
        result = cli(*common, "--format", fmt, "-v")
        outputs[fmt] = result.out + result.err
        report = planted16.parent / f"report.{fmt}"
        cli(*common, "--format", fmt, "-o", str(report))
        outputs[f"-o {fmt}"] = report.read_text()
    archive = planted16.parent / "ticket.tar.gz"
    result = cli(*common, "--bundle", str(archive), "--format", "json")
    outputs["bundle run"] = result.out + result.err
    files = _bundle_files(archive)
    outputs.update(files)
    assert "log-socket-create-failed" in outputs["json"]  # the report is really there
    assert any(name.endswith("compose/compose.yaml") for name in files)
    for name, text in outputs.items():
        assert _leaks(text) == [], name
    compose_copy = next(text for name, text in files.items() if name.endswith("compose/compose.yaml"))
    for name in NAMES:
        assert name in compose_copy or name in files[next(n for n in files if n.endswith("effective-model.json"))], name
    # The copy is still the same YAML shape, with every key in place.
    import yaml

    loaded = yaml.safe_load(compose_copy)
    assert set(loaded["services"]) == {"database", "backend"}
    assert set(loaded["services"]["backend"]["environment"]) >= {"DATABASE_URL", "SENTRY_DSN", "AWS_ACCESS_KEY_ID"}
    assert "host=/var/run/postgresql" in loaded["services"]["backend"]["environment"]["DATABASE_URL"]


def test_reference_gets_the_token_of_its_value(cli: Cli, planted16: Path) -> None:
    archive = planted16.parent / "t.tar.gz"
    cli("--project-directory", str(planted16), "--offline", "--log-file", str(planted16 / "app.log"),
        "--bundle", str(archive))  # fmt: skip
    files = _bundle_files(archive)
    compose = next(text for name, text in files.items() if name.endswith("compose/compose.yaml"))
    model = json.loads(next(text for name, text in files.items() if name.endswith("effective-model.json")))
    written = re.search(r"postgresql://app:(\[secret-\d+\])@", compose)
    assert written is not None and "${APP_DB_PW}" not in compose
    assert model["services"]["backend"]["environment"]["DATABASE_URL"].startswith(
        f"postgresql://app:{written.group(1)}@"
    )
    redactions = json.loads(next(text for name, text in files.items() if name.endswith("redactions.json")))
    assert {"file", "kind", "token", "count", "locations"} == set(redactions[0])
    kinds = {r["kind"] for r in redactions}
    assert {"password in a URL", "postgresql PASSWORD '…' statement", "HTTP Authorization header"} <= kinds


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("DB_PW=abc1", "DB_PW=[redacted]", id="pw"),
        pytest.param("REDIS_AUTH: x9y8", "REDIS_AUTH: [redacted]", id="auth"),
        pytest.param("SENTRY_DSN=https://k@h/1", "SENTRY_DSN=[redacted]", id="dsn"),
        pytest.param("TLS_CERT=zzz9", "TLS_CERT=[redacted]", id="cert"),
        pytest.param("HASH_SALT=zzz9", "HASH_SALT=[redacted]", id="salt"),
        pytest.param("PGPASS=zzz9", "PGPASS=[redacted]", id="pass"),
        pytest.param("postgresql://u:pa/ss@h/db", "postgresql://u:[redacted]@h/db", id="url-slash"),
        pytest.param("postgresql://u:p@ss@h/db", "postgresql://u:[redacted]@h/db", id="url-raw-at"),
        pytest.param(
            "jdbc:postgresql://h/db?user=u&password=p1", "jdbc:postgresql://h/db?user=u&password=[redacted]", id="jdbc"
        ),
        pytest.param(
            "host=/x password='a b\\' c' dbname=d", "host=/x password='[redacted]' dbname=d", id="dsn-escaped"
        ),
        pytest.param("Authorization: Basic YWRtaW46cHc=", "Authorization: Basic [redacted]", id="basic"),
        pytest.param('"authorization":"Bearer abc.def"', '"authorization":"Bearer [redacted]"', id="json-header"),
        pytest.param("key AKIAABCDEFGHIJKLMNOP used", "key [redacted] used", id="aws"),
        pytest.param("monkey.yaml:12: bad", "monkey.yaml:12: bad", id="file-name-with-key-keeps-line"),
        pytest.param(
            "secrets:\n  db_password:\n    file: ./pw.txt",
            "secrets:\n  db_password:\n    file: ./pw.txt",
            id="secret-keys-kept",
        ),
        pytest.param(
            "POSTGRES_PASSWORD_FILE=/run/secrets/db", "POSTGRES_PASSWORD_FILE=/run/secrets/db", id="path-kept"
        ),
        pytest.param("AUTHOR=Jane KEYCLOAK_URL=http://kc", "AUTHOR=Jane KEYCLOAK_URL=http://kc", id="ordinary-names"),
        pytest.param("serve --db-password hunter2x --port 80", "serve --db-password [redacted] --port 80", id="flag"),
        pytest.param(
            "SET password_encryption = 'scram-sha-256'", "SET password_encryption = 'scram-sha-256'", id="pg-setting"
        ),
    ],
)
def test_free_text_patterns(text: str, expected: str) -> None:
    assert Redactor().text(text) == expected


@pytest.mark.parametrize(
    ("name", "statement", "value"), [pytest.param(k, f, v, id=k) for k, (f, v) in PG_FORMS.items()]
)
def test_every_postgresql_password_statement(name: str, statement: str, value: str) -> None:
    redacted = Redactor().text(statement.format(value))
    assert not any(part in redacted for part in _secret_parts(value)), redacted
    assert "[redacted]" in redacted


@pytest.mark.parametrize(
    ("password", "kept"),
    [
        pytest.param("postgresql", "/var/run/postgresql", id="word-in-path"),
        pytest.param("plex", "s-plex-cgnl", id="part-of-project-name"),
        pytest.param("database", "database", id="service-name"),
    ],
)
def test_weak_password_never_masks_names_and_is_reported(cli: Cli, tmp_path: Path, password: str, kept: str) -> None:
    (tmp_path / "compose.yaml").write_text(
        f"name: s-plex-cgnl\nservices:\n  database:\n    image: postgres:16\n    environment:\n"
        f"      POSTGRES_PASSWORD: {password}\n    volumes:\n      - /Users/me/socket:/var/run/postgresql\n"
    )
    result = cli("--project-directory", str(tmp_path), "--offline", "--format", "json", "--target-os", "macos")
    report = json.loads(result.out)
    assert report["target"]["project"] == "s-plex-cgnl"
    text = json.dumps(report)
    assert kept in text and "[redacted]" not in report["target"]["project"]
    assert "/var/run/[redacted]" not in text
    weak = [f for f in report["findings"] if f["id"] == "weak-secret"]
    assert weak and weak[0]["status"] == "info" and "POSTGRES_PASSWORD" in weak[0]["title"]
    # The finding never says which name: that would give the password away.
    assert not weak[0]["title"].endswith(kept) and f"name {kept}" not in weak[0]["title"]
    assert f"POSTGRES_PASSWORD: {password}" not in text  # still masked at its own position
    diff = next(f for f in report["findings"] if f["id"] == "socket-host-path")["remedy"]["diff"]
    assert "/var/run/postgresql" in diff


def test_strong_password_is_no_weak_secret(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n  database:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: Xq7-rT9-Lm2\n"
    )
    result = cli("--project-directory", str(tmp_path), "--offline", "--format", "json")
    ids = {f["id"]: f["status"] for f in json.loads(result.out)["findings"]}
    assert "weak-secret" not in ids and ids["secret-values"] == "ok"


def test_redaction_output_is_valid_json_text() -> None:
    assert json.loads(json.dumps(Redactor(tokens=True).tree({"DB_PW": "x1y2", "n": [1, "ok"]}))) == {
        "DB_PW": "[secret-1]", "n": [1, "ok"]}  # fmt: skip
    assert io  # imported for the property tests' buffers


STRUCTURE = """name: shop
x-pw: &pw Anchor-Secret-1
x-env: &env
  SHARED_TOKEN: !!str Tagged-Secret-2
services:
  db:
    image: postgres:16
    environment:
      <<: *env
      POSTGRES_PASSWORD: *pw
      POSTGRES_PASSWORD_FILE: /run/secrets/db_password
      PGDATA: /var/lib/postgresql/data
      SLASHED_PW: /xK9-Slash-3
      NOTE: |
        Block-Secret-4
        more
      FLOW: {inner: Flow-Secret-5}
    command: postgres -c unix_socket_directories=/var/run/postgresql --auth-token Cmd-Secret-6
    healthcheck:
      test: [CMD, redis-cli, -a, Health-Secret-7, ping]
    labels: [traefik.basicauth.users=admin:Label-Secret-8]
  # OLD_PASSWORD: Comment-Secret-9
secrets:
  db_password:
    content: Content-Secret-10
"""


def test_compose_copy_is_masked_by_position_and_stays_the_same_yaml() -> None:
    import yaml

    from doctor.redact_compose import compose_text

    copy = compose_text(Redactor(tokens=True), STRUCTURE, "compose.yaml", frozenset({"db"}))
    assert not re.findall(r"Secret-\d+", copy), copy
    before, after = yaml.safe_load(STRUCTURE), yaml.safe_load(copy)
    assert after["name"] == "shop" and set(after["services"]) == {"db"} and set(after["secrets"]) == {"db_password"}
    env = after["services"]["db"]["environment"]
    assert set(env) == set(before["services"]["db"]["environment"])
    assert env["POSTGRES_PASSWORD"] == after["x-pw"]  # the anchor survives, so the alias still resolves
    assert env["POSTGRES_PASSWORD_FILE"] == "/run/secrets/db_password" and env["PGDATA"] == "/var/lib/postgresql/data"
    assert "unix_socket_directories=/var/run/postgresql" in after["services"]["db"]["command"]
    lines = STRUCTURE.splitlines()
    assert [n for n, line in enumerate(copy.splitlines()) if "OLD_PASSWORD" in line] == [
        n for n, line in enumerate(lines) if "OLD_PASSWORD" in line
    ]  # line numbers survive, after a multi-line block scalar too


SECRET_NAMES_COMPOSE = """services:
  db:
    image: postgres
    secrets: [db_password, {source: api_key, target: /run/secrets/k}]
    build:
      context: .
      secrets: [npm_token]
secrets:
  db_password: {file: ./pw.txt}
  api_key: {environment: API_KEY}
  npm_token:
    file: ./t
x-app: {DB_PASSWORD: Flow-Secret-1, n: 1}
"""


def test_names_of_secrets_are_never_masked_in_any_style() -> None:
    from doctor.redact_compose import compose_text

    copy = compose_text(Redactor(tokens=True), SECRET_NAMES_COMPOSE, "compose.yaml", frozenset({"db"}))
    assert copy == SECRET_NAMES_COMPOSE.replace("Flow-Secret-1", '"[secret-1]"')


@pytest.mark.parametrize(
    "line",
    [
        "POSTGRES_PASSWORD: ${DB_PASSWORD:-hunter2-long}",
        "POSTGRES_PASSWORD=${DB_PASSWORD:-hunter2-long}",
        "  -      POSTGRES_PASSWORD: ${DB_PASSWORD:-hunter2-long}",
    ],
)
def test_a_default_at_a_secret_position_keeps_its_one_token(line: str) -> None:
    """The known-value pass masks the default first; the assignment rule must not give that
    token a token of its own, or one secret has two names in one bundle."""
    redactor = Redactor(tokens=True)
    redactor.add(["hunter2-long"])
    masked = redactor.text(line)
    assert "hunter2-long" not in masked
    assert re.findall(r"\[secret-\d+\]", masked) == ["[secret-1]"], masked
