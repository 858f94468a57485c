"""Lab fixtures: one private engine and one image for the session, and deployments that are
always torn down. Without Docker, FUSE or root the lab tests skip with what to install; in CI
(CI=true) that is a failure."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from lab import lab_dir, requirements
from lab.engine import Engine, default_engine, teardown
from lab.image import ensure_image
from lab.scenarios import Deployment, up
from tests.conftest import require


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


@pytest.fixture
def deploy(lab_engine: Engine, lab_image: str) -> Iterator[Callable[[str], Deployment]]:
    deployments: list[Deployment] = []

    def bring_up(name: str) -> Deployment:
        deployment = up(lab_engine, name, lab_image)
        deployments.append(deployment)
        return deployment

    yield bring_up
    for deployment in deployments:
        deployment.down()
