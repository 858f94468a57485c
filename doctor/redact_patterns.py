"""Free-text secret patterns: what a secret looks like where nothing but its context says so
(logs, evidence lines, YAML lines quoted in messages, comments of a Compose file).

Every pattern here runs in time linear in its input. Python's ``re`` backtracks, so no pattern
starts with an unbounded repetition that could be retried at every position of a long run
(``[A-Za-z0-9_]*PASSWORD`` over 8 KiB of hex was quadratic): each one either starts at a literal,
or is anchored by a look-behind to the start of a run and bounded, and every value repetition
ends at the first character that cannot continue it.
"""

from __future__ import annotations

import re

# Words that make a name secret when a component of it contains them ("DB_PASSWORD", "apiToken")...
_SECRET_WORDS = ("PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "CREDENTIAL", "APIKEY", "PRIVATE")
# ...and short ones that count only as a whole component or its end ("DB_PW", "REDIS_AUTH", "PGPASS",
# "SENTRY_DSN", "TLS_CERT", "apiKey"), so that "AUTHOR", "KEYCLOAK" or "PWA" stay ordinary names.
_SECRET_ENDINGS = ("PASS", "PW", "PWD", "AUTH", "DSN", "KEY", "CERT", "SALT", "COOKIE", "SIGNATURE")
# A name that says its value is where the secret is kept, not the secret: "POSTGRES_PASSWORD_FILE".
_LOCATION_WORDS = (
    "FILE",
    "PATH",
    "DIR",
    "DIRECTORY",
    "SOCKET",
    "HOST",
    "PORT",
    "USER",
    "USERNAME",
    "METHOD",
    "ENCRYPTION",
    "ALGORITHM",
    "LENGTH",
    "POLICY",
    "TYPE",
)

_COMPONENTS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z0-9]+(?![a-z])")


def name_parts(name: str) -> list[str]:
    return [part.upper() for part in _COMPONENTS.findall(name)]


def is_secret_name(name: str) -> bool:
    """True for names whose value is a secret: PASSWORD, PASSWD, SECRET, TOKEN, CREDENTIAL,
    PRIVATE anywhere in a component; PASS, PW, PWD, AUTH, DSN, KEY, CERT, SALT as a component or
    its end. A name that ends in FILE, PATH, DIR, HOST, USER, … names where or who, not the secret."""
    parts = name_parts(name[:200])
    if not parts or parts[-1] in _LOCATION_WORDS:
        return False
    return any(any(word in part for word in _SECRET_WORDS) or part.endswith(_SECRET_ENDINGS) for part in parts)


_PATH = re.compile(r"(?:/|\./|\.\./|~/)[^\s]*")


def is_path(value: str) -> bool:
    """Paths are never masked: they are what the doctor's findings are about."""
    return bool(_PATH.fullmatch(value)) and "://" not in value


def is_path_at_secret(value: str) -> bool:
    """Under a secret-like name a path is kept only when it is clearly one (``/run/secrets/db``,
    ``./certs/key.pem``): a password such as ``/xK9!`` also starts with a slash."""
    return is_path(value) and value.count("/") >= 2


# --- the patterns -----------------------------------------------------------------------------
# Each has the secret in a group named "secret"; what surrounds it stays.

# PostgreSQL's CREATE/ALTER ROLE|USER … [ENCRYPTED|UNENCRYPTED] PASSWORD '…', as statements are
# logged ("STATEMENT:", "LOG:  statement:"): a standard string with '' escapes, an E'' string with
# backslash escapes, a dollar-quoted string, or (a log line cut short) an unterminated one.
PG_PASSWORD = re.compile(
    r"\bPASSWORD[ \t\r\n]{1,20}(?P<secret>"
    r"[Ee]'(?:[^'\\\n]|\\.|'')*'"
    r"|'(?:[^'\n]|'')*'"
    r"|\$(?P<tag>[A-Za-z_]{0,20})\$.*?\$(?P=tag)\$"
    r"|'[^\n]*)",
    re.IGNORECASE | re.DOTALL,
)
# psql's \password takes a role and prompts; anything typed after the role on the line is a secret.
PSQL_PASSWORD = re.compile(r"\\password[ \t]+\S+[ \t]+(?P<secret>\S+)")
# scheme://user:password@host: the password may hold "/", ":" or a raw "@", so it runs to the last
# "@" before whitespace or a quote (an "@" later in the URL is over-masked, never under-masked).
URL_PASSWORD = re.compile(
    r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,30}://[^\s:/@\"'<>]{0,256}:(?P<secret>[^\s\"'<>]*)@"
)
# ?password=… &pwd=… ;password=… in URL queries and JDBC URLs.
QUERY_PASSWORD = re.compile(
    r"[?&;](?:password|passwd|pwd|pass|sslpassword|secret|token|access_token|api_key|apikey)="
    r"(?P<secret>[^&;#\s\"'<>]*)",
    re.IGNORECASE,
)
# key=value DSNs: password=… (libpq, also quoted with backslash escapes).
DSN_PASSWORD = re.compile(
    r"(?<![A-Za-z0-9_.-])(?:password|passwd|pwd|sslpassword)[ \t]*=[ \t]*"
    r"(?P<secret>'(?:[^'\\\n]|\\.)*'|'[^\s]*|[^\s'\"&;]+)",
    re.IGNORECASE,
)
# HTTP Authorization (and Proxy-Authorization): the credentials after the scheme, to line's end.
AUTHORIZATION = re.compile(
    r"\bauthorization\\?[\"']?[ \t]{0,4}[:=][ \t]{0,4}\\?[\"']?"
    r"(?:(?:bearer|basic|token|digest|negotiate|ntlm|aws4-hmac-sha256|apikey)[ \t]+)?"
    r"(?P<secret>[^\s\"'\\][^\n\"'\\]*)",
    re.IGNORECASE,
)
BEARER = re.compile(r"\b(?:bearer|basic)[ \t]+(?P<secret>[A-Za-z0-9._~+/=-]{8,})", re.IGNORECASE)
AWS_ACCESS_KEY = re.compile(
    r"(?<![A-Z0-9])(?P<secret>(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16})(?![A-Z0-9])"
)
JWT = re.compile(r"(?<![A-Za-z0-9_-])(?P<secret>eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*)")
# A PEM private key, header to footer; base64 and line breaks hold no "-", so the body is one
# greedy run. Without a footer (a cut log) the rest of the body goes too.
PEM_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----(?P<secret>[^-]*)(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----)?"
)

# NAME=value and NAME: value. The name is found first, from the start of a run of name
# characters and bounded, then judged by is_secret_name; only then is the value read.
ASSIGNMENT_NAME = re.compile(
    r"(?<![A-Za-z0-9_.-])[A-Za-z0-9_.-]{0,64}?(?:PASS|PW|SECRET|TOKEN|CREDENTIAL|AUTH|DSN|KEY|PRIVATE|CERT|SALT|COOKIE|SIGNATURE)"
    r"[A-Za-z0-9_.-]{0,64}(?P<sep>\\?[\"']?[ \t]{0,8}(?:=|:(?=[ \t\"'\\])|:(?<=[\"']:))[ \t]{0,8})",
    re.IGNORECASE,
)
# A command-line flag and its value as the next word: --db-password s3cret.
FLAG_NAME = re.compile(r"(?<![A-Za-z0-9_.-])--?[A-Za-z][A-Za-z0-9_.-]{0,64}(?P<sep>[ \t]+)(?=[^\s-])")
ASSIGNMENT_VALUE = re.compile(
    r"(?:[&!][^\s]{0,60}[ \t]+){0,2}"  # a YAML anchor (&pw) or tag (!!str, !!python/str) before the value
    r"(?P<secret>\\\"(?:[^\"\\\n]|\\[^\"])*\\\""
    r"|\"(?:[^\"\\\n]|\\.)*\""
    r"|'[^'\n]*'"
    r"|[\"'][^\s]*"
    r"|[^\s\"'`]+)"
)

# The free-text patterns in the order they are applied, with the rule name redactions.json shows.
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("postgresql PASSWORD '…' statement", PG_PASSWORD),
    ("psql \\password", PSQL_PASSWORD),
    ("password in a URL", URL_PASSWORD),
    ("password in a URL query", QUERY_PASSWORD),
    ("password in a key=value DSN", DSN_PASSWORD),
    ("HTTP Authorization header", AUTHORIZATION),
    ("bearer or basic credentials", BEARER),
    ("AWS access key", AWS_ACCESS_KEY),
    ("JSON Web Token", JWT),
)
