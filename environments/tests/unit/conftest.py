"""Fixtures for the unit tests: known settings, fake Docker, loopback servers."""

import threading
import time
from collections.abc import Iterator

import pytest
from pytest_django import Settings

from environments.tests.unit.fakes import (
    PREFIX,
    CDPServer,
    FakeDockerClient,
    LoopbackServer,
    close_at_once,
    greet_and_wait,
)


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Fail a test that leaves a thread running (a server or a pool not stopped)."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 2
    started = [thread for thread in threading.enumerate() if thread not in before]
    for thread in started:
        thread.join(max(0.0, deadline - time.monotonic()))
    running = [thread.name for thread in started if thread.is_alive()]
    assert not running, f"threads left running: {running}"


@pytest.fixture(autouse=True)
def env_settings(settings: Settings) -> Settings:
    """Pin every setting the app reads, whatever the environment or .env says."""
    settings.DOCKER_HOST = ""
    settings.ENV_IMAGE_NAME = "auto-tester-env"
    settings.ENV_IMAGE_TAG = "latest"
    settings.ENV_BASE_IMAGE = "debian:trixie-slim"
    settings.ENV_CONTAINER_PREFIX = PREFIX
    settings.ENV_BIND_ADDRESS = "127.0.0.1"
    settings.ENV_SSH_USER = "root"
    settings.ENV_SSH_PASSWORD = ""
    settings.ENV_VNC_PASSWORD = ""
    settings.ENV_HEALTH_CHECK_TIMEOUT = "60"
    settings.ENV_HEALTH_CHECK_INTERVAL = "2"
    settings.ENV_SHM_SIZE = "1g"
    settings.ENV_MEMORY_LIMIT = "2g"
    settings.ENV_PIDS_LIMIT = "2048"
    return settings


@pytest.fixture
def fake_client() -> FakeDockerClient:
    return FakeDockerClient()


@pytest.fixture
def ssh_server() -> Iterator[LoopbackServer]:
    server = LoopbackServer(greet_and_wait(b"SSH-2.0-OpenSSH_10.0 Debian\r\n"))
    yield server
    server.stop()


@pytest.fixture
def rfb_server() -> Iterator[LoopbackServer]:
    server = LoopbackServer(greet_and_wait(b"RFB 003.008\n"))
    yield server
    server.stop()


@pytest.fixture
def silent_server() -> Iterator[LoopbackServer]:
    server = LoopbackServer(close_at_once)
    yield server
    server.stop()


@pytest.fixture
def cdp_server() -> Iterator[CDPServer]:
    server = CDPServer()
    yield server
    server.stop()
