"""Lab fixtures: two private engines (dockerd, and Debian's Podman serving its Docker API) and
the lab image on each, for the session, and deployments that are always torn down. Every test
that deploys a scenario runs on both engines, with Compose v2 against each engine's API.
Without Docker, Podman, FUSE or root the lab tests skip with what to install; in CI (CI=true)
that is a failure."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator

import pytest

from lab import lab_dir, requirements
from lab.engine import Engine, default_engine, teardown
from lab.image import ensure_image
from lab.podman import PodmanEngine, default_podman
from lab.podman import ensure_image as ensure_podman_image
from lab.scenarios import Deployment, LabEngine, up
from tests.conftest import require

ENGINES = ("dockerd", "podman")


@pytest.fixture(scope="session")
def lab_engine() -> Iterator[Engine]:
    problem = requirements.why_unavailable()
    require(problem is None, f"{problem}; `sudo lab/lab install` installs the packages")
    engine = default_engine()
    engine.start()
    # DOCKER_HOST is deliberately not exported: tests name the lab engine explicitly, so no
    # other test can reach it by accident.
    yield engine
    teardown(lab_dir())


@pytest.fixture(scope="session")
def lab_image(lab_engine: Engine) -> str:
    return ensure_image(lab_engine.host)


@pytest.fixture(scope="session")
def podman_engine(lab_engine: Engine) -> Iterator[PodmanEngine]:
    require(shutil.which("podman") is not None, "the Podman lab needs podman (apt-get install podman)")
    engine = default_podman()
    engine.start()
    yield engine
    engine.stop()


@pytest.fixture(scope="session")
def podman_image(podman_engine: PodmanEngine) -> str:
    return ensure_podman_image(podman_engine)


@pytest.fixture(params=ENGINES)
def engine_and_image(request: pytest.FixtureRequest) -> tuple[LabEngine, str]:
    if request.param == "podman":
        return request.getfixturevalue("podman_engine"), request.getfixturevalue("podman_image")
    return request.getfixturevalue("lab_engine"), request.getfixturevalue("lab_image")


@pytest.fixture
def deploy(engine_and_image: tuple[LabEngine, str]) -> Iterator[Callable[[str], Deployment]]:
    engine, image = engine_and_image
    deployments: list[Deployment] = []

    def bring_up(name: str) -> Deployment:
        deployment = up(engine, name, image)
        deployments.append(deployment)
        return deployment

    yield bring_up
    for deployment in deployments:
        deployment.down()
