"""Fixtures for tests against a real Docker engine.

Every test here is marked `integration`. Without an engine they are skipped
with a reason that says how to get one, except in CI (`CI=true`), where a
missing engine fails the run instead. Containers are created under a test
prefix, and everything carrying it is removed at the end of the session even
when tests fail.
"""

import os
from collections.abc import Iterator

import paramiko
import pytest
from django.conf import settings
from docker import DockerClient

from environments.exceptions import DockerEngineUnavailableError
from environments.services import (
    close_docker_client,
    close_ssh_connection,
    create_ssh_connection,
    ensure_image,
    get_docker_client,
    list_containers,
    provision_environment,
    remove_container,
    teardown_environment,
)
from environments.tests.integration.helpers import TEST_PREFIX
from environments.types import ContainerInfo


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/integration/" in str(item.path):
            item.add_marker(pytest.mark.integration)


# The tests assert the documented defaults, whatever a local .env says.
TEST_SETTINGS = {
    "ENV_CONTAINER_PREFIX": TEST_PREFIX,
    "ENV_BIND_ADDRESS": "127.0.0.1",
    "ENV_SSH_USER": "root",
    "ENV_SSH_PASSWORD": "",
    "ENV_VNC_PASSWORD": "",
    "ENV_HEALTH_CHECK_TIMEOUT": "60",
    "ENV_HEALTH_CHECK_INTERVAL": "2",
    "ENV_SHM_SIZE": "1g",
    "ENV_MEMORY_LIMIT": "2g",
    "ENV_PIDS_LIMIT": "2048",
}


@pytest.fixture(scope="package", autouse=True)
def _test_settings() -> Iterator[None]:
    # Package-wide: module fixtures provision environments too, and the
    # per-test `settings` fixture cannot reach them.
    originals = {name: getattr(settings, name) for name in TEST_SETTINGS}
    for name, value in TEST_SETTINGS.items():
        setattr(settings, name, value)
    yield
    for name, value in originals.items():
        setattr(settings, name, value)


@pytest.fixture(scope="package")
def docker_client(_test_settings: None) -> Iterator[DockerClient]:
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


@pytest.fixture
def ssh(environment: ContainerInfo) -> Iterator[paramiko.SSHClient]:
    """An SSH connection to the module's shared environment."""
    connection = create_ssh_connection(
        environment.ports, credentials=environment.credentials
    )
    yield connection
    close_ssh_connection(connection)
