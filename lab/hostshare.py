"""A FUSE passthrough filesystem that behaves like a macOS folder shared into a Linux VM.

Finch runs containers in a Lima VM; host folders reach the VM over virtiofs, 9p or
reverse-sshfs. On those shares ``chmod`` of a Unix socket fails with EINVAL (virtiofs, 9p)
and ``chown`` may fail with EPERM (reverse-sshfs). PostgreSQL chmods its socket right after
binding it, so a socket directory on such a share kills the server with the guide's three
lines. This module reproduces exactly that on Linux, so the failure is produced by a real
server instead of being pasted into a fixture.

Run as a program: ``python -m lab.hostshare SOURCE MOUNTPOINT [--refuse-chown]``;
it stays in the foreground until unmounted (``fusermount3 -u MOUNTPOINT``).
"""

from __future__ import annotations

import argparse
import errno
import os
import stat
from typing import Any

import mfusepy as fuse


class HostShare(fuse.Operations):  # type: ignore[misc]
    """Passthrough to ``root`` with the socket and ownership limits of a VM host share."""

    use_ns = True

    def __init__(self, root: str, *, refuse_chown: bool = False) -> None:
        self.root = os.path.realpath(root)
        self.refuse_chown = refuse_chown

    def _real(self, path: str) -> str:
        return os.path.join(self.root, path.lstrip("/"))

    def _give_to_caller(self, real: str) -> None:
        # The server runs as root; files belong to whoever created them through the mount,
        # as they would on a share that maps ownership.
        uid, gid, _pid = fuse.fuse_get_context()
        os.lchown(real, uid, gid)

    def getattr(self, path: str, fh: Any = None) -> dict[str, Any]:
        try:
            st = os.lstat(self._real(path))
        except OSError as exc:
            raise fuse.FuseOSError(exc.errno) from None
        keys = ("st_mode", "st_nlink", "st_uid", "st_gid", "st_size", "st_ino", "st_dev")
        attrs: dict[str, Any] = {key: getattr(st, key) for key in keys}
        for key in ("st_atime_ns", "st_mtime_ns", "st_ctime_ns"):
            attrs[key.replace("_ns", "")] = getattr(st, key)
        return attrs

    def access(self, path: str, amode: int) -> int:
        if not os.path.lexists(self._real(path)):
            raise fuse.FuseOSError(errno.ENOENT)
        return 0

    def readdir(self, path: str, fh: Any) -> list[str]:
        return [".", "..", *os.listdir(self._real(path))]

    def readlink(self, path: str) -> str:
        return os.readlink(self._real(path))

    def mknod(self, path: str, mode: int, dev: int) -> int:
        real = self._real(path)
        try:
            os.mknod(real, mode, dev)
        except OSError as exc:
            raise fuse.FuseOSError(exc.errno) from None
        self._give_to_caller(real)
        return 0

    def mkdir(self, path: str, mode: int) -> int:
        real = self._real(path)
        os.mkdir(real, mode)
        self._give_to_caller(real)
        return 0

    def rmdir(self, path: str) -> int:
        os.rmdir(self._real(path))
        return 0

    def unlink(self, path: str) -> int:
        try:
            os.unlink(self._real(path))
        except OSError as exc:
            raise fuse.FuseOSError(exc.errno) from None
        return 0

    def symlink(self, target: str, source: str) -> int:
        os.symlink(source, self._real(target))
        return 0

    def rename(self, old: str, new: str) -> int:
        os.rename(self._real(old), self._real(new))
        return 0

    def link(self, target: str, source: str) -> int:
        os.link(self._real(source), self._real(target))
        return 0

    def chmod(self, path: str, mode: int) -> int:
        real = self._real(path)
        if stat.S_ISSOCK(os.lstat(real).st_mode):
            # virtiofs and 9p on macOS answer chmod of a socket with EINVAL.
            raise fuse.FuseOSError(errno.EINVAL)
        os.chmod(real, mode)
        return 0

    def chown(self, path: str, uid: int, gid: int) -> int:
        if self.refuse_chown:
            # reverse-sshfs runs as the unprivileged macOS user and cannot chown.
            raise fuse.FuseOSError(errno.EPERM)
        os.lchown(self._real(path), uid, gid)
        return 0

    def truncate(self, path: str, length: int, fh: Any = None) -> int:
        os.truncate(self._real(path), length)
        return 0

    def utimens(self, path: str, times: Any = None) -> int:
        os.utime(self._real(path), ns=times)
        return 0

    def statfs(self, path: str) -> dict[str, int]:
        st = os.statvfs(self._real(path))
        keys = (
            "f_bavail",
            "f_bfree",
            "f_blocks",
            "f_bsize",
            "f_favail",
            "f_ffree",
            "f_files",
            "f_flag",
            "f_frsize",
            "f_namemax",
        )
        return {key: getattr(st, key) for key in keys}

    def open(self, path: str, flags: int) -> int:
        return os.open(self._real(path), flags)

    def create(self, path: str, mode: int, fi: Any = None) -> int:
        real = self._real(path)
        fd = os.open(real, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        self._give_to_caller(real)
        return fd

    def read(self, path: str, size: int, offset: int, fh: int) -> bytes:
        return os.pread(fh, size, offset)

    def write(self, path: str, data: bytes, offset: int, fh: int) -> int:
        return os.pwrite(fh, data, offset)

    def flush(self, path: str, fh: int) -> int:
        return 0

    def release(self, path: str, fh: int) -> int:
        os.close(fh)
        return 0

    def fsync(self, path: str, datasync: int, fh: int) -> int:
        os.fsync(fh)
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("mountpoint")
    parser.add_argument("--refuse-chown", action="store_true")
    args = parser.parse_args()
    share = HostShare(args.source, refuse_chown=args.refuse_chown)
    fuse.FUSE(share, args.mountpoint, foreground=True, allow_other=True, nothreads=False)


if __name__ == "__main__":
    main()
