"""The command line's grammar: the parser, its subcommands and flags, and the argument types
that turn a bad value into one sentence (argparse prints it; exit 2) instead of a traceback."""

from __future__ import annotations

import argparse
from typing import NoReturn

from doctor import __version__
from doctor.exitcodes import EXIT_USAGE
from doctor.render import FORMATS


class Parser(argparse.ArgumentParser):
    """argparse with one-sentence errors: no usage dump, a "did you mean" for a mistyped flag."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="cultivate", description="Cultivate deployment tools.")
    parser.add_argument("--version", action="version", version=f"cultivate doctor {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    doctor = commands.add_parser(
        "doctor",
        help="find why PostgreSQL and its backend cannot talk over the Unix socket",
        description="Find why PostgreSQL and its backend cannot talk over the Unix socket, and say what to change.",
    )
    doctor.add_argument("--version", action="version", version=f"cultivate doctor {__version__}")
    add_doctor_arguments(doctor)
    explain = commands.add_parser(
        "explain",
        help="print a finding's page: what it means, the rule, the remedy, how to verify, look-alikes",
        description="Print the page of a finding id (the same text as docs/findings/ID.md).",
    )
    explain.add_argument("finding_id", metavar="ID", nargs="?", help="a finding id, as in a report; none lists them")
    diff = commands.add_parser(
        "diff",
        help="what changed between two runs (bundles or JSON reports)",
        description="Print findings that appeared, disappeared or changed status between two runs, each a "
        "bundle (.tar.gz) or a JSON report, and changed mounts (bundles). Exit 0 when nothing changed, 1 when "
        "something did, 2 when an input cannot be read.",
    )
    diff.add_argument("before", metavar="A", type=_path)
    diff.add_argument("after", metavar="B", type=_path)
    completion = commands.add_parser(
        "completion",
        help="print a shell completion script (bash or zsh)",
        description="Print a completion script generated from this parser. "
        "bash: `source <(cultivate completion bash)`; zsh: `source <(cultivate completion zsh)`.",
    )
    completion.add_argument("shell", choices=("bash", "zsh"))
    return parser


def doctor_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found: argparse.ArgumentParser = action.choices["doctor"]
            return found
    raise LookupError("doctor")


def add_doctor_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checks", nargs="*", metavar="CHECK", help="run only these checks (see --list)")
    parser.add_argument("--list", action="store_true", help="list the checks and exit")
    parser.add_argument("--schema", action="store_true", help="print the JSON Schema of --format json and exit")
    compose = parser.add_argument_group("Compose input (read as docker compose reads it)")
    compose.add_argument(
        "-f", "--file", action="append", default=[], metavar="FILE", type=_path, help="Compose file; repeatable"
    )
    compose.add_argument(
        "--project-directory",
        metavar="DIR",
        type=_path,
        help="project directory (default: the first Compose file's folder)",
    )
    compose.add_argument("-p", "--project-name", metavar="NAME", help="project name")
    compose.add_argument("--env-file", metavar="FILE", type=_path, help="interpolation variables (default: DIR/.env)")
    compose.add_argument(
        "--profile", action="append", default=[], metavar="NAME", help="activate a Compose profile; repeatable"
    )
    compose.add_argument(
        "--stack", metavar="NAME", help="judge the files as the Swarm stack NAME (docker stack deploy)"
    )
    compose.add_argument(
        "--target-os",
        choices=("auto", "linux", "macos"),
        default="auto",
        help="where the containers run (default: auto, this machine's OS)",
    )
    other = parser.add_argument_group("other evidence")
    other.add_argument(
        "--log-file",
        action="append",
        default=[],
        metavar="FILE",
        type=_path,
        help="PostgreSQL or backend log to analyse ('-' for stdin); repeatable",
    )
    other.add_argument(
        "--socket-dir", metavar="DIR", type=_path, help="socket directory to probe with a real connection"
    )
    other.add_argument("--port", type=_port, default=5432, help="PostgreSQL port of the socket (default 5432)")
    other.add_argument("--db-user", metavar="USER", help="role for the probe (default: from DATABASE_URL, PGUSER)")
    other.add_argument("--db-name", metavar="NAME", help="database for the probe (default: from DATABASE_URL)")
    engine = parser.add_argument_group("the container engine")
    engine.add_argument(
        "--docker-host", metavar="URL", help="engine endpoint (default: DOCKER_HOST, the CLI context, known sockets)"
    )
    engine.add_argument(
        "--node-engine",
        action="append",
        default=[],
        metavar="NODE=URL",
        help="a Swarm node's own engine, to look inside its task containers; repeatable",
    )
    engine.add_argument("--offline", action="store_true", help="do not contact the container engine")
    engine.add_argument("--read-only", action="store_true", help="no exec in containers and no probe container")
    engine.add_argument(
        "--probe-container",
        choices=("auto", "always", "never"),
        default="auto",
        help="the probe container: auto (when this machine cannot reach the socket), always, never",
    )
    engine.add_argument(
        "--log-lines",
        type=_positive,
        default=5000,
        metavar="N",
        help="last N lines of each container's log (default 5000)",
    )
    engine.add_argument(
        "--since", type=_since, metavar="WHEN", help="container logs since WHEN: epoch seconds, or 10m, 2h, 1d ago"
    )
    engine.add_argument("--timeout", type=_seconds, default=5.0, help="seconds for each external call (default 5)")
    engine.add_argument(
        "--deadline",
        type=_seconds,
        default=60.0,
        help="seconds for the whole run; checks not started by then are skipped (default 60)",
    )
    fixing = parser.add_argument_group("fixing and support")
    fixing.add_argument(
        "--fix", action="store_true", help="rewrite the Compose files to the guide's strategy (asks first)"
    )
    fixing.add_argument("--yes", action="store_true", help="with --fix: apply without asking")
    fixing.add_argument("--dry-run", action="store_true", help="with --fix: show the diff, change nothing")
    fixing.add_argument("--bundle", metavar="FILE.tar.gz", type=_path, help="write a redacted support bundle")
    fixing.add_argument(
        "--from-bundle",
        metavar="FILE.tar.gz",
        type=_path,
        help="re-read a bundle: re-run the checks its files allow, take the rest as recorded",
    )
    output = parser.add_argument_group("output")
    output.add_argument("--format", choices=FORMATS, default="text", help="report format (default text)")
    output.add_argument("-o", "--output", metavar="FILE", type=_path, help="write the report to FILE (atomically)")
    output.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="colour (default auto)")
    output.add_argument("-v", "--verbose", action="store_true", help="show evidence and each check's duration")
    output.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    # Here, away from --bundle's line, only so parallel edits of that line merge cleanly.
    output.add_argument("--force", action="store_true", help="with --bundle: replace an existing archive")


MAX_LOG_LINES = 10_000_000  # far above any use; keeps the engine's `tail` a sane integer
MAX_SINCE_SECONDS = 100 * 365 * 86400  # a century back


def _path(text: str) -> str:
    # The operating system cannot name a file with a NUL byte; say so here, not in a traceback.
    if "\0" in text:
        raise argparse.ArgumentTypeError(f"a file name cannot contain a NUL byte: {text!r}")
    return text


def _integer(text: str, what: str) -> int:
    # int() accepts any length of digits; a bounded, plain form keeps overflow out of later code.
    stripped = text.strip()
    if not stripped.lstrip("+-").isdigit() or len(stripped) > 19:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}")
    return int(stripped)


def _port(text: str) -> int:
    try:
        value = _integer(text, "port")
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port {value} is outside 1-65535")
    return value


def _positive(text: str) -> int:
    value = _integer(text, "count")
    if not 1 <= value <= MAX_LOG_LINES:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_LOG_LINES:,}")
    return value


def _since(text: str) -> int:
    """Epoch seconds (Finch parses `since` as an integer), from '1700000000' or '10m', '2h', '1d'.

    Every form is checked against a range before it becomes an int: '1e400m' is infinity as a
    float and 'nanm' is not a number, and int() of either raises an error argparse does not catch."""
    import math
    import time

    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    problem = f"not a time: {text!r} (use epoch seconds, or 10m, 2h, 1d ago, up to 100 years)"
    now = time.time()
    try:
        if text[-1:] in units:
            amount = float(text[:-1])
            if not math.isfinite(amount) or not 0 <= amount * units[text[-1]] <= MAX_SINCE_SECONDS:
                raise argparse.ArgumentTypeError(problem)
            return int(now - amount * units[text[-1]])
        value = _integer(text, "time")
    except (ValueError, argparse.ArgumentTypeError):
        raise argparse.ArgumentTypeError(problem) from None
    if not now - MAX_SINCE_SECONDS <= value <= now + 86400:
        raise argparse.ArgumentTypeError(problem)
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value <= 600:  # also false for NaN
        raise argparse.ArgumentTypeError("the timeout must be between 0 and 600 seconds")
    return value
