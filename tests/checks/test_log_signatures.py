"""The log classifier, fed by logs that real PostgreSQL servers and real libpq produced in these
tests, plus the texts quoted in the fact sheet for versions and tools we cannot run here."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from doctor.logs import iter_lines
from doctor.logscan import (
    CANNOT_CONNECT,
    DATA_DIR,
    NOT_READY,
    SOCKET_FAILED,
    LogScan,
    classify_line,
    findings_for,
    scan_lines,
    scan_stream,
    timestamp_of,
)
from doctor.models import Status
from tests.conftest import Cli, HostShare, PgFactory, PgServer

GUIDE_LINES = [
    'LOG:  could not set permissions of file "{dir}/.s.PGSQL.5432": Invalid argument',
    'WARNING:  could not create Unix-domain socket in directory "{dir}"',
    "FATAL:  could not create any Unix-domain sockets",
]


def strip_prefix(line: str) -> str:
    return re.sub(r"^\S+ \S+ \S+ \[\d+\] ", "", line)


@pytest.mark.postgres
@pytest.mark.fuse
def test_real_server_on_a_host_share_prints_the_guide_lines(
    pg_factory: PgFactory, hostshare: HostShare, cli: Cli
) -> None:
    share = hostshare()
    socket_dir = share.mountpoint / "sock"
    socket_dir.mkdir()
    server = pg_factory(socket_dir=socket_dir)
    server.start(wait=False)
    assert server.wait_exit() != 0
    lines = [strip_prefix(line) for line in server.log_text().splitlines()]
    expected = [line.format(dir=socket_dir) for line in GUIDE_LINES]
    start = lines.index(expected[0])
    assert lines[start : start + 3] == expected

    scan = scan_lines(server.log_text().splitlines(), "postgres.log")
    hits = scan.hits[SOCKET_FAILED]
    assert hits.main_cause() == "unsupported-fs"
    assert hits.count == 3
    assert hits.first is not None

    result = cli("--log-file", str(server.log), "--format", "json")
    assert result.code == 1
    report = json.loads(result.out)
    finding = next(f for f in report["findings"] if f["id"] == "log-socket-create-failed")
    assert finding["status"] == "fail"
    assert "cannot hold sockets" in finding["title"]
    assert finding["detail"].startswith("Cause (unsupported-fs):")
    assert any("Invalid argument" in e["text"] for e in finding["evidence"])
    assert all(re.match(r"postgres\.log:\d+$", e["source"]) for e in finding["evidence"])


@pytest.mark.postgres
def test_real_too_long_socket_path(pg_factory: PgFactory, shared_tmp: Path) -> None:
    root = shared_tmp
    deep = root / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    for path in (root / ("d" * 60), deep):
        path.chmod(0o777)
    server = pg_factory(socket_dir=deep)
    server.start(wait=False)
    assert server.wait_exit() != 0
    assert "is too long (maximum 107 bytes)" in server.log_text()
    scan = scan_lines(server.log_text().splitlines(), "postgres.log")
    assert scan.hits[SOCKET_FAILED].main_cause() == "too-long"


@pytest.mark.postgres
def test_real_stale_lock_from_a_second_server(pg_factory: PgFactory) -> None:
    first = pg_factory().start()
    second = pg_factory(socket_dir=first.socket_dir)
    second.start(wait=False)
    assert second.wait_exit() != 0
    assert '.s.PGSQL.5432.lock" already exists' in second.log_text()
    scan = scan_lines(second.log_text().splitlines(), "postgres.log")
    assert scan.hits[SOCKET_FAILED].main_cause() == "in-use"


@pytest.mark.postgres
def test_real_data_directory_with_wrong_permissions(pg_factory: PgFactory) -> None:
    server = pg_factory()
    server.data.chmod(0o777)
    server.start(wait=False)
    assert server.wait_exit() != 0
    scan = scan_lines(server.log_text().splitlines(), "postgres.log")
    assert scan.hits[DATA_DIR].main_cause() == "mode"


@pytest.mark.postgres
def test_real_libpq_errors_are_classified(pg_factory: PgFactory) -> None:
    server = pg_factory().start()
    server.kill()
    messages = []
    for directory in (server.socket_dir, server.root / "nowhere"):
        with pytest.raises(psycopg.OperationalError) as caught:
            psycopg.connect(host=str(directory), port=5432, user="postgres", dbname="postgres", connect_timeout=2)
        messages.append(str(caught.value))
    causes = [scan_lines(m.splitlines(), "backend.log").hits[CANNOT_CONNECT].main_cause() for m in messages]
    assert causes == ["econnrefused", "enoent"]


def connect_error(server: PgServer) -> str | None:
    """libpq's own words when a connection over the server's socket fails, None when it works."""
    try:
        psycopg.connect(
            host=str(server.socket_dir),
            port=5432,
            user="postgres",
            dbname="postgres",
            connect_timeout=2,
        ).close()
    except psycopg.OperationalError as exc:
        return str(exc)
    return None


def refusal(server: PgServer, wanted: str, within: float = 15) -> str:
    """Connect until the server answers with ``wanted``; the whole libpq message."""
    deadline = time.monotonic() + within
    seen: list[str | None] = []
    while time.monotonic() < deadline:
        message = connect_error(server)
        if message is not None and wanted in message:
            return message
        seen.append(message)
        time.sleep(0.01)
    raise AssertionError(f"the server never answered {wanted!r}: {seen[-3:]}")


def starting_up(pg_factory: PgFactory) -> tuple[PgServer, str]:
    # Archive recovery whose restore_command takes its time: the startup process holds the server
    # in PM_STARTUP for seconds, and every connection meanwhile gets "starting up".
    server = pg_factory(extra=["-c", "restore_command=sleep 1; false"])
    (server.data / "recovery.signal").write_text("")
    server.start(wait=False)
    message = refusal(server, "the database system is starting up")
    server.wait_ready(30)
    return server, message


def shutting_down(pg_factory: PgFactory) -> tuple[PgServer, str]:
    # A smart shutdown waits for the open session; new connections are refused meanwhile.
    server = pg_factory().start()
    held = psycopg.connect(host=str(server.socket_dir), port=5432, user="postgres", dbname="postgres")
    try:
        os.kill(server.postmaster_pid(), signal.SIGTERM)
        message = refusal(server, "the database system is shutting down")
    finally:
        held.close()
    server.wait_exit()
    return server, message


def in_recovery(pg_factory: PgFactory) -> tuple[PgServer, str]:
    # A backend killed with SIGKILL makes the postmaster reset every process and run crash
    # recovery; connections meanwhile get "in recovery mode".
    # A second backend, stopped, cannot exit on the postmaster's SIGQUIT: that holds the window
    # open (up to the postmaster's 5 s before SIGKILL) long enough to connect into it.
    server = pg_factory().start()
    sessions = [
        psycopg.connect(host=str(server.socket_dir), port=5432, user="postgres", dbname="postgres") for _ in range(2)
    ]
    rows = [session.execute("SELECT pg_backend_pid()").fetchone() for session in sessions]
    assert rows[0] is not None and rows[1] is not None
    victim, held = rows[0][0], rows[1][0]
    os.kill(held, signal.SIGSTOP)
    try:
        os.kill(victim, signal.SIGKILL)
        message = refusal(server, "the database system is in recovery mode", within=4)
    finally:
        os.kill(held, signal.SIGCONT)
        for session in sessions:
            session.close()
    deadline = time.monotonic() + 30
    while connect_error(server) is not None and time.monotonic() < deadline:  # recovered and accepting again
        time.sleep(0.1)
    return server, message


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("make", "wording"),
    [
        pytest.param(starting_up, "FATAL:  the database system is starting up", id="starting-up"),
        pytest.param(shutting_down, "FATAL:  the database system is shutting down", id="shutting-down"),
        pytest.param(in_recovery, "FATAL:  the database system is in recovery mode", id="in-recovery"),
    ],
)
def test_real_server_not_ready_is_transient_not_a_socket_failure(
    pg_factory: PgFactory, make: Callable[[PgFactory], tuple[PgServer, str]], wording: str
) -> None:
    server, message = make(pg_factory)
    assert wording in message and "on socket" in message  # libpq's text, over the socket
    assert wording in server.log_text()  # and the server's own line
    for source, lines in (("backend.log", message.splitlines()), ("postgres.log", server.log_text().splitlines())):
        scan = scan_lines(lines, source)
        assert set(scan.hits) == {NOT_READY}, (source, scan.hits)
        produced = list(findings_for(scan))
        assert [(f.id, f.status) for f in produced] == [(NOT_READY, Status.INFO)]
        assert produced[0].detail.startswith("Cause (not-ready)")


@pytest.mark.postgres
def test_not_ready_lines_pass_the_run_while_a_socket_failure_fails_it(
    pg_factory: PgFactory, tmp_path: Path, cli: Cli
) -> None:
    server, message = starting_up(pg_factory)
    transient = tmp_path / "backend.log"
    transient.write_text(f"{message}\nconnected: PostgreSQL 15\n")
    result = cli("--log-file", str(transient), "--log-file", str(server.log), "--format", "json")
    report = json.loads(result.out)
    assert result.code == 0, report
    assert {f["id"] for f in report["findings"] if f["status"] == "info"} == {NOT_READY}
    server.stop()
    failing = tmp_path / "failing.log"
    failing.write_text(f"{message}\n{connect_error(server)}\n")  # the stopped server: no socket file
    result = cli("--log-file", str(failing), "--format", "json")
    assert result.code == 1
    assert "log-backend-cannot-connect" in {f["id"] for f in json.loads(result.out)["findings"]}


QUOTED = [
    pytest.param(
        'LOG:  could not bind Unix address "/x/.s.PGSQL.5432": Operation not permitted',
        SOCKET_FAILED,
        "reverse-sshfs",
        id="lima-eperm",
    ),
    pytest.param(
        'LOG:  could not bind Unix address "/var/run/postgresql/.s.PGSQL.5432": Invalid argument',
        SOCKET_FAILED,
        "unsupported-fs",
        id="bind-einval",
    ),
    pytest.param(
        'LOG:  could not bind Unix address "/s/.s.PGSQL.5432": No such device or address',
        SOCKET_FAILED,
        "unsupported-fs",
        id="enxio",
    ),
    pytest.param(
        'LOG:  could not bind Unix address "/s/.s.PGSQL.5432": Permission denied',
        SOCKET_FAILED,
        "permission",
        id="apparmor",
    ),
    pytest.param(
        'LOG:  could not bind Unix address "/s/.s.PGSQL.5432": Address already in use',
        SOCKET_FAILED,
        "in-use",
        id="in-use",
    ),
    pytest.param("FATAL:  could not create any Unix-domain sockets", SOCKET_FAILED, "anchor", id="fatal-alone"),
    pytest.param(
        'FATAL:  data directory "/var/lib/postgresql/data" has wrong ownership', DATA_DIR, "ownership", id="wrong-owner"
    ),
    pytest.param("chown: /var/lib/postgresql/data: Permission denied", DATA_DIR, "chown", id="finch-chown"),
    pytest.param(
        "/usr/bin/chown: changing ownership of '/var/lib/postgresql/data': Operation not permitted",
        DATA_DIR,
        "chown",
        id="podman-chown",
    ),
    pytest.param(
        "chown: changing ownership of '/var/run/postgresql-data/base': Permission denied",
        DATA_DIR,
        "chown",
        id="data-under-run-postgresql-like-name",
    ),
    pytest.param("chmod: /var/lib/postgresql/data: Operation not permitted", DATA_DIR, "chmod", id="apple-chmod"),
    pytest.param(
        'initdb: error: could not change permissions of directory "/var/lib/postgresql/data": Operation not permitted',
        DATA_DIR,
        "chmod",
        id="initdb",
    ),
    pytest.param(
        "Error: P1001: Can't reach database server at `/var/run/postgresql`:`5432`",
        CANNOT_CONNECT,
        "prisma",
        id="prisma",
    ),
    pytest.param("could not connect to server: No such file or directory", CANNOT_CONNECT, "enoent", id="libpq-13"),
    pytest.param(
        'connection to server on socket "/tmp/.s.PGSQL.5432" failed: Permission denied',
        CANNOT_CONNECT,
        "eacces",
        id="eacces",
    ),
    pytest.param(
        '{"err":"connection to server on socket \\"/s/.s.PGSQL.5432\\" failed: Connection refused"}',
        CANNOT_CONNECT,
        "econnrefused",
        id="json-escaped",
    ),
]


@pytest.mark.parametrize(("line", "finding", "cause"), QUOTED)
def test_quoted_lines_are_classified(line: str, finding: str, cause: str) -> None:
    match = classify_line(line)
    assert match is not None
    assert (match.finding, match.cause) == (finding, cause)


@pytest.mark.parametrize(
    "line",
    [
        pytest.param('LOG:  listening on Unix socket "/var/run/postgresql/.s.PGSQL.5432"', id="success"),
        pytest.param("LOG:  database system is ready to accept connections", id="ready"),
        pytest.param("[ERROR] something [bold]unrelated[/bold]", id="markup-like"),
        pytest.param("", id="empty"),
        # The refused chown of the socket directory on reverse-sshfs is not a data-directory problem.
        pytest.param("chown: changing ownership of '/var/run/postgresql': Permission denied", id="socket-dir-chown"),
        pytest.param("chown: /run/postgresql/x: Operation not permitted", id="socket-dir-chown-short"),
    ],
)
def test_ordinary_lines_are_not_signatures(line: str) -> None:
    assert classify_line(line) is None


@pytest.mark.parametrize(
    ("line", "stamp"),
    [
        pytest.param("2024-05-01 09:12:03.123 UTC [1] LOG:  x", "2024-05-01 09:12:03.123 UTC", id="postgres"),
        pytest.param("2024-05-01T09:12:03.123456789Z FATAL: x", "2024-05-01T09:12:03.123456789Z", id="docker"),
        pytest.param(
            "database-1  | 2024-05-01 09:12:03.123 UTC [1] LOG: x", "2024-05-01 09:12:03.123 UTC", id="compose-prefix"
        ),
        pytest.param("FATAL:  x", None, id="none"),
    ],
)
def test_timestamps(line: str, stamp: str | None) -> None:
    assert timestamp_of(line) == stamp


def test_bad_utf8_and_overlong_lines_are_survived(tmp_path: Path) -> None:
    log = tmp_path / "mixed.log"
    log.write_bytes(
        b"\xff\xfe not utf-8 \x80\n" + b"x" * 3_000_000 + b"\nFATAL:  could not create any Unix-domain sockets\n"
    )
    with log.open("rb") as stream:
        scan = scan_stream(stream, "mixed.log")
    assert scan.lines == 3
    assert scan.hits[SOCKET_FAILED].examples[0].source == "mixed.log:3"


def test_overlong_line_keeps_its_head_and_counts_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import doctor.logs

    monkeypatch.setattr(doctor.logs, "CHUNK_BYTES", 1000)
    head = "FATAL:  could not create any Unix-domain sockets "
    data = (head + "y" * 50_000 + " P1001 hidden in the tail\nlast line: chown: /d: Permission denied\n").encode()
    scan = scan_stream(io.BytesIO(data), "long")
    assert scan.lines == 2
    assert set(scan.hits) == {SOCKET_FAILED, DATA_DIR}
    assert scan.hits[DATA_DIR].examples[0].source == "long:2"
    assert len(scan.hits[SOCKET_FAILED].examples[0].text) <= doctor.logs.MAX_LINE_BYTES


def test_counts_and_time_span_over_repeated_failures() -> None:
    lines = [
        f"2024-05-01 09:{minute:02d}:00.000 UTC [1] FATAL:  could not create any Unix-domain sockets"
        for minute in range(12, 26)
    ]
    scan = scan_lines(lines, "db")
    finding = next(findings_for(scan))
    assert "14 events" in finding.title
    assert "2024-05-01 09:12:00.000 UTC to 2024-05-01 09:25:00.000 UTC" in finding.title
    assert len(finding.evidence) == 4


START_FAILURE = [
    '{t} [1] LOG:  could not set permissions of file "/var/run/postgresql/.s.PGSQL.5432": Invalid argument',
    '{t} [1] WARNING:  could not create Unix-domain socket in directory "/var/run/postgresql"',
    "{t} [1] FATAL:  could not create any Unix-domain sockets",
]


@pytest.mark.parametrize(
    ("lines", "events", "line_count"),
    [
        pytest.param([x.format(t="2026-03-02 09:12:03.484 UTC") for x in START_FAILURE], 1, 3, id="log-warning-fatal-is-one"),
        pytest.param(
            [x.format(t=t) for t in ("2026-03-02 09:12:03.484 UTC", "2026-03-02 09:12:09.001 UTC") for x in START_FAILURE],
            2, 6, id="two-start-ups",
        ),
        pytest.param(
            [x.format(t="2026-03-02 09:12:03.484 UTC") for x in START_FAILURE[2:]] * 2, 2, 2, id="fatal-ends-its-event"
        ),
        pytest.param([x.format(t="").strip() for x in START_FAILURE], 1, 3, id="no-timestamps-consecutive"),
    ],
)  # fmt: skip
def test_counts_events_not_lines(lines: list[str], events: int, line_count: int) -> None:
    finding = next(findings_for(scan_lines(lines, "db")))
    assert f"({events} event{'' if events == 1 else 's'} in db" in finding.title
    assert f"Seen in {line_count} log line(s)." in finding.detail


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_classifier_never_raises_on_any_text(line: str) -> None:
    classify_line(line)
    timestamp_of(line)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_scanner_never_raises_on_any_bytes(data: bytes) -> None:
    scan = scan_stream(io.BytesIO(data), "fuzz")
    list(findings_for(scan))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "ordinary line",
                "FATAL:  could not create any Unix-domain sockets",
                'connection to server on socket "/s/.s.PGSQL.5432" failed: Connection refused',
                "chown: /data: Permission denied",
                "x" * 40,
                "",
            ]
        ),
        max_size=60,
    ),
    st.integers(min_value=1, max_value=64),
)
def test_streaming_scan_agrees_with_line_scan(lines: list[str], chunk: int) -> None:
    import doctor.logs

    data = "\n".join(lines).encode()
    original = doctor.logs.CHUNK_BYTES
    doctor.logs.CHUNK_BYTES = chunk  # tiny chunks put line ends on every boundary
    try:
        streamed = scan_stream(io.BytesIO(data), "s")
    finally:
        doctor.logs.CHUNK_BYTES = original
    by_line = scan_lines(iter_lines(io.BytesIO(data)), "s")
    assert streamed.lines == by_line.lines

    def summary(scan: LogScan) -> dict[str, tuple[int, list[str]]]:
        return {k: (v.count, [e.source for e in v.examples]) for k, v in scan.hits.items()}

    assert summary(streamed) == summary(by_line)
