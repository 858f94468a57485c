"""A real reverse-sshfs share: a host folder mounted the way Lima mounts it for Finch with
``vmType: qemu``.

Lima's reverse-sshfs runs ``sshfs -o passive`` inside the VM and OpenSSH's ``sftp-server`` on the
Mac, as the Mac user, and connects the two through its SSH session. Here the two real programs
(Debian's ``sshfs`` and ``openssh-sftp-server``) are joined by a socketpair instead: no sshd and
no network, but the same SFTP conversation, so the share refuses what a reverse-sshfs share
refuses. ``bind()`` of a Unix socket fails with EPERM (sshfs creates only regular files), and
``chown`` fails with EACCES because sftp-server runs unprivileged, as the folder's owner.

Run as a program: ``python -m lab.sshfs SOURCE MOUNTPOINT [--user NAME]``; it stays in the
foreground and unmounts on Ctrl-C, SIGTERM, or when ``fusermount3 -u MOUNTPOINT`` is run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO

SFTP_SERVER = "/usr/lib/openssh/sftp-server"
# What the share needs: a program (or absolute path) -> the Debian package that provides it.
NEEDED = {"sshfs": "sshfs", SFTP_SERVER: "openssh-sftp-server", "fusermount3": "fuse3"}
MOUNT_TIMEOUT = 15.0
UNMOUNT_TIMEOUT = 10.0


class ShareError(Exception):
    """The share could not be mounted; the message is one sentence for a person."""


def why_unavailable() -> str | None:
    """None when the tests can mount a share here, else what is missing, in one sentence."""
    problem = _why_cannot_mount()
    if problem is None and os.geteuid() != 0:
        return "the reverse-sshfs share runs sftp-server as another, unprivileged user, which needs root"
    return problem


def _why_cannot_mount() -> str | None:
    absent = {name: package for name, package in NEEDED.items() if shutil.which(name) is None}
    if absent:
        packages = " ".join(sorted(set(absent.values())))
        return f"the reverse-sshfs share needs {', '.join(sorted(absent))} (apt-get install {packages})"
    if not Path("/dev/fuse").exists():
        return "/dev/fuse is missing, so sshfs cannot mount"
    return None


def is_mounted(path: Path) -> bool:
    """Whether ``path`` is a mount point, read from the mount table: a stat through a hung FUSE
    mount could block, the mount table never does."""
    target = os.path.realpath(path)
    with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as table:
        for line in table:
            fields = line.split(" ")
            if len(fields) > 4 and _unescape(fields[4]) == target:
                return True
    return False


def _unescape(field: str) -> str:
    # The mount table writes space, tab, newline and backslash as octal escapes.
    for code in ("\\040", "\\011", "\\012", "\\134"):
        field = field.replace(code, chr(int(code[1:], 8)))
    return field


def _unprivileged_user(source: Path, user: str | None) -> pwd.struct_passwd | None:
    """The user sftp-server runs as: ``user``, else the owner of ``source``. None when the lab
    does not run as root and sftp-server simply runs as the caller, who is unprivileged."""
    if os.geteuid() != 0:
        if user is not None and user != pwd.getpwuid(os.geteuid()).pw_name:
            raise ShareError("only root can run sftp-server as another user; leave out --user")
        return None
    try:
        entry = pwd.getpwnam(user) if user is not None else pwd.getpwuid(source.stat().st_uid)
    except KeyError:
        raise ShareError(f"there is no user {user or source.stat().st_uid} to run sftp-server as") from None
    if entry.pw_uid == 0:
        # As root sftp-server could chown, and the share would not refuse what a Mac refuses.
        why = f"{source} belongs to root" if user is None else f"--user {user} is root"
        raise ShareError(
            f"{why}; sftp-server must run as an unprivileged user who owns the source, as on a Mac "
            f"(chown nobody: {source}, or pass --user)"
        )
    return entry


@dataclass
class SshfsShare:
    """A mounted reverse-sshfs share and the two processes that serve it."""

    source: Path
    mountpoint: Path
    user: str
    sshfs: subprocess.Popen[bytes]
    sftp_server: subprocess.Popen[bytes]
    stderr: IO[bytes]

    @classmethod
    def mount(
        cls, source: Path, mountpoint: Path, *, user: str | None = None, timeout: float = MOUNT_TIMEOUT
    ) -> SshfsShare:
        """Mount ``source`` at ``mountpoint``; on any failure nothing stays mounted or running."""
        source, mountpoint = Path(os.path.realpath(source)), Path(os.path.realpath(mountpoint))
        problem = _why_cannot_mount()
        if problem is not None:
            raise ShareError(problem)
        for path, what in ((source, "the source"), (mountpoint, "the mount point")):
            if not path.is_dir():
                raise ShareError(f"{what} {path} is not a directory")
        if is_mounted(mountpoint):
            raise ShareError(f"{mountpoint} is already a mount point")
        entry = _unprivileged_user(source, user)
        # One end of the pair is sftp-server's stdin and stdout, the other is sshfs's: the SFTP
        # conversation Lima carries over its SSH session.
        server_end, client_end = socket.socketpair()
        stderr = tempfile.TemporaryFile()  # noqa: SIM115 - the share holds it until unmount()
        sftp_server = sshfs = None
        try:
            # Own sessions: a Ctrl-C at the terminal reaches this process, which unmounts in order,
            # rather than killing sshfs under a mount still in use.
            sftp_server = subprocess.Popen(
                [SFTP_SERVER, "-e", "-l", "ERROR"],
                stdin=server_end.fileno(), stdout=server_end.fileno(), stderr=stderr,
                cwd="/", start_new_session=True, user=entry.pw_uid if entry else None,
                group=entry.pw_gid if entry else None, extra_groups=[] if entry else None,
            )  # fmt: skip
            sshfs = subprocess.Popen(
                ["sshfs", "-f", "-o", "passive,allow_other", f":{source}", str(mountpoint)],
                stdin=client_end.fileno(), stdout=client_end.fileno(), stderr=stderr,
                start_new_session=True,
            )  # fmt: skip
        except OSError as exc:
            for started in (sftp_server, sshfs):
                if started is not None:
                    started.kill()
                    started.wait(UNMOUNT_TIMEOUT)
            stderr.close()
            raise ShareError(f"cannot start the share's processes: {exc}") from None
        finally:
            # Only the children hold the pair now, so each sees end-of-file when the other exits.
            server_end.close()
            client_end.close()
        share = cls(source, mountpoint, entry.pw_name if entry else _me(), sshfs, sftp_server, stderr)
        deadline = time.monotonic() + timeout
        try:
            while not is_mounted(mountpoint):
                if sshfs.poll() is not None or time.monotonic() > deadline:
                    said = share.messages()
                    what = "could not mount" if sshfs.poll() is not None else f"did not mount within {timeout:g} s"
                    raise ShareError(f"sshfs {what} {source} at {mountpoint}" + (f": {said}" if said else ""))
                time.sleep(0.02)
            # The kernel lists the mount before sshfs has asked sftp-server for the source; reading
            # the root proves the conversation works (in a child, so a hang is bounded too).
            listed = subprocess.run(["ls", "-a", str(mountpoint)], check=False, capture_output=True,
                                    text=True, timeout=timeout)  # fmt: skip
            if listed.returncode != 0 or sshfs.poll() is not None:
                said = share.messages() or " ".join(listed.stderr.split())
                raise ShareError(f"sshfs mounted {mountpoint} but cannot read {source}" + (f": {said}" if said else ""))
        except BaseException:  # a failure or a Ctrl-C while waiting: leave nothing behind
            share.unmount()
            raise
        return share

    def messages(self) -> str:
        """What sshfs and sftp-server wrote on stderr, on one line."""
        if self.stderr.closed:
            return ""
        self.stderr.seek(0)
        return " ".join(self.stderr.read(4096).decode(errors="replace").split())

    def pids(self) -> tuple[int, int]:
        return self.sshfs.pid, self.sftp_server.pid

    def unmount(self, timeout: float = UNMOUNT_TIMEOUT) -> None:
        """Unmount and end both processes, whatever state they are in; bounded by ``timeout``
        per step, and safe to call twice."""
        if is_mounted(self.mountpoint):
            # -z: a file still open on the mount must not make the unmount fail; sshfs then
            # lingers until that file is closed, and is ended below.
            with contextlib.suppress(subprocess.TimeoutExpired):
                subprocess.run(["fusermount3", "-u", "-z", str(self.mountpoint)],
                               check=False, capture_output=True, timeout=timeout)  # fmt: skip
        # sshfs exits once unmounted; sftp-server then reads end-of-file and exits too.
        for process in (self.sshfs, self.sftp_server):
            _end(process, timeout)
        if is_mounted(self.mountpoint):  # sshfs was killed before it could unmount
            with contextlib.suppress(subprocess.TimeoutExpired):
                subprocess.run(
                    ["umount", "-l", str(self.mountpoint)], check=False, capture_output=True, timeout=timeout
                )
        self.stderr.close()

    def __enter__(self) -> SshfsShare:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.unmount()


def _me() -> str:
    return pwd.getpwuid(os.geteuid()).pw_name


def _end(process: subprocess.Popen[bytes], timeout: float) -> None:
    try:
        process.wait(timeout)
        return
    except subprocess.TimeoutExpired:
        process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)


def _interrupted(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.sshfs", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("mountpoint", type=Path)
    parser.add_argument("--user", help="run sftp-server as this user (default: the owner of SOURCE; never root)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        share = SshfsShare.mount(args.source, args.mountpoint, user=args.user)
    except ShareError as exc:
        print(f"lab.sshfs: {exc}", file=sys.stderr)
        return 2
    try:
        print(
            f"{share.source} is mounted at {share.mountpoint} over reverse-sshfs (sftp-server as {share.user}, "
            f"pid {share.sftp_server.pid}; sshfs pid {share.sshfs.pid}). Ctrl-C or `fusermount3 -u "
            f"{share.mountpoint}` unmounts it.",
            flush=True,
        )
        while share.sshfs.poll() is None:
            time.sleep(0.2)
        if share.sshfs.returncode != 0:
            print(
                f"lab.sshfs: sshfs ended with exit code {share.sshfs.returncode}: {share.messages()}", file=sys.stderr
            )
            return 1
    except KeyboardInterrupt:
        pass
    finally:
        share.unmount()
    return 0


if __name__ == "__main__":
    sys.exit(main())
