"""Fixtures for tests against a real Docker engine.

Every test here is marked `integration`. Without an engine they are skipped
with a reason that says how to get one, except in CI (`CI=true`), where a
missing engine fails the run instead. Containers are created under a test
prefix, and everything carrying it is removed at the end of the session even
when tests fail.
"""

import os
from collections.abc import Iterator

import pytest
from django.conf import settings
from docker import DockerClient

from environments.exceptions import DockerEngineUnavailableError
from environments.services import (
    close_docker_client,
    ensure_image,
    get_docker_client,
    list_containers,
    provision_environment,
    remove_container,
    teardown_environment,
)
from environments.types import ContainerInfo

TEST_PREFIX = "auto-tester-test"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/integration/" in str(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session", autouse=True)
def _test_prefix() -> Iterator[None]:
    # Session-wide: module fixtures provision environments too, and the
    # per-test `settings` fixture cannot reach them.
    original = settings.ENV_CONTAINER_PREFIX
    settings.ENV_CONTAINER_PREFIX = TEST_PREFIX
    yield
    settings.ENV_CONTAINER_PREFIX = original


@pytest.fixture(scope="session")
def docker_client(_test_prefix: None) -> Iterator[DockerClient]:
    try:
        client = get_docker_client()
    except DockerEngineUnavailableError as error:
        message = (
            f"No Docker engine: {error} The README's test command starts one "
            "(scripts/test)."
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"integration tests need an engine in CI. {message}")
        pytest.skip(message)

    ensure_image(client)
    yield client

    for info in list_containers(client):
        remove_container(client, info.container_id)
    close_docker_client(client)


@pytest.fixture(scope="module")
def environment(docker_client: DockerClient) -> Iterator[ContainerInfo]:
    """One environment shared by the read-only tests of a module."""
    info = provision_environment(docker_client, f"shared-{os.getpid()}")
    yield info
    teardown_environment(docker_client, info.container_id)
