"""Run the CLI in a forked child: as the unprivileged ``nobody`` user (root passes every
permission check, so a read-only folder only shows for an ordinary user) and with a file-size
limit (the kernel then fails a write with EFBIG: a real write failure at a chosen point)."""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import pickle
import pkgutil
import pwd
import resource
import shutil
from pathlib import Path

import checks
import doctor
from doctor.cli import main


def _import_everything() -> None:
    """The CLI imports most modules lazily; the unprivileged child may not be able to read the
    installed package (CI installs it in a root-only temporary folder), so import them here."""
    for package in (doctor, checks):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if not module.name.endswith(".__main__"):  # running it would run the CLI
                importlib.import_module(module.name)


_import_everything()


def nobody_ids() -> tuple[int, int]:
    entry = pwd.getpwnam("nobody")
    return entry.pw_uid, entry.pw_gid


def give_to_nobody(path: Path) -> None:
    """Make ``path`` (recursively) the unprivileged user's, when the tests run as root."""
    if os.geteuid() != 0:
        return
    uid, gid = nobody_ids()
    for item in [path, *path.rglob("*")]:
        os.lchown(item, uid, gid)


def cli_in_child(
    argv: list[str], *, as_nobody: bool = False, max_file_bytes: int | None = None
) -> tuple[int, str, str]:
    """``cultivate doctor ARGV`` in a child process: (exit code, stdout, stderr)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            os.close(read_end)
            if max_file_bytes is not None:
                resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))
            if as_nobody and os.geteuid() == 0:
                uid, gid = nobody_ids()
                os.setgroups([])
                os.setgid(gid)
                os.setuid(uid)
            out, err = io.StringIO(), io.StringIO()
            try:
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    code = main(["doctor", *argv])
            except BaseException as exc:  # the parent reports it; the child must always answer
                code, err = 99, io.StringIO(f"{type(exc).__name__}: {exc}")
            with os.fdopen(write_end, "wb") as stream:
                stream.write(pickle.dumps((code, out.getvalue(), err.getvalue())))
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as stream:
        data = stream.read()
    os.waitpid(pid, 0)
    code, out, err = pickle.loads(data)
    return code, out, err


def copy_tree(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target
