"""The exit codes of ``cultivate``, as the README's "Exit codes" documents them. Declared once,
below every layer: the report decides between OK and PROBLEMS, the argument parser and the CLI
end a usage error with USAGE."""

from __future__ import annotations

EXIT_OK = 0  # nothing failed
EXIT_PROBLEMS = 1  # a finding fails or could not be examined (with --strict, also one that warns)
EXIT_USAGE = 2  # the run could not start as asked: one sentence on stderr
