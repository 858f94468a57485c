"""The lab's PostgreSQL image, built from Debian packages with mmdebstrap and imported into the
private engine. The root filesystem tarball is cached per machine, keyed by what goes into it."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

from lab import ROOT, cache_dir

SUITE = "bookworm"
PACKAGES = ("postgresql-15", "python3-psycopg2", "util-linux")
MMDEBSTRAP_OPTIONS = (
    "--variant=apt",
    '--aptopt=APT::Install-Recommends "false"',
    "--dpkgopt=path-exclude=/usr/share/doc/*",
    "--dpkgopt=path-exclude=/usr/share/man/*",
    "--dpkgopt=path-exclude=/usr/share/locale/*",
    "--dpkgopt=path-exclude=/usr/share/info/*",
)
IMAGE = "cultivate-lab/postgres"


def recipe_key() -> str:
    recipe = json.dumps({"suite": SUITE, "packages": PACKAGES, "options": MMDEBSTRAP_OPTIONS})
    return hashlib.sha256(recipe.encode()).hexdigest()[:12]


def files_key() -> str:
    digest = hashlib.sha256()
    for name in ("Dockerfile", "entrypoint.sh", "backend.py"):
        digest.update((ROOT / "image" / name).read_bytes())
    return digest.hexdigest()[:12]


def image_tag() -> str:
    return f"{IMAGE}:{recipe_key()}-{files_key()}"


def rootfs_tarball() -> Path:
    """Build the root filesystem with mmdebstrap (about a minute) unless it is cached."""
    target = cache_dir() / f"rootfs-{SUITE}-{recipe_key()}.tar"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial.tar")
    command = [
        "mmdebstrap",
        "--format=tar",
        *MMDEBSTRAP_OPTIONS,
        f"--include={','.join(PACKAGES)}",
        SUITE,
        str(partial),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1200, check=False)
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"mmdebstrap failed:\n{done.stderr[-3000:]}")
    os.replace(partial, target)
    return target


def ensure_image(docker_host: str) -> str:
    """Import the cached root filesystem and add the lab's scripts; returns the image tag."""
    import docker

    client = docker.DockerClient(base_url=docker_host, version="auto", timeout=600)
    try:
        tag = image_tag()
        try:
            client.images.get(tag)
            return tag
        except docker.errors.ImageNotFound:
            pass
        base = f"{IMAGE}-base:{recipe_key()}"
        try:
            client.images.get(base)
        except docker.errors.ImageNotFound:
            # docker-py's streaming import fails on large tarballs ("header line too long"); the CLI does not.
            subprocess.run(
                ["docker", "import", str(rootfs_tarball()), base],
                env={**os.environ, "DOCKER_HOST": docker_host},
                check=True,
                capture_output=True,
                timeout=600,
            )
        client.images.build(path=str(ROOT / "image"), tag=tag, buildargs={"BASE": base}, rm=True, network_mode="none")
        return tag
    finally:
        client.close()
