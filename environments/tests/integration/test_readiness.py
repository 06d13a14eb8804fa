"""Readiness is decided per protocol, on a real engine."""

import socket
import time

import pytest
from docker import DockerClient

from environments.exceptions import ContainerExitedError, EnvironmentNotReadyError
from environments.services import wait_for_container_ready
from environments.services.health import probe_ssh
from environments.tests.integration.helpers import host_port, image_container
from environments.types import ContainerPorts

# A fake SSH server that starts listening only after a delay: Docker's port
# proxy accepts connections on the published port long before that.
LATE_SSH = (
    "sleep 4; exec socat TCP-LISTEN:22,reuseaddr,fork "
    "SYSTEM:'echo SSH-2.0-LateServer; sleep 1'"
)


def test_late_service_is_not_ready_until_it_really_answers(
    docker_client: DockerClient,
) -> None:
    with image_container(docker_client, LATE_SSH) as container:
        port = host_port(container, "22/tcp")
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            tcp_connect_works_early = True
        early = probe_ssh("127.0.0.1", port, timeout=1)

        deadline = time.monotonic() + 20
        late = early
        while late and time.monotonic() < deadline:
            time.sleep(0.1)
            late = probe_ssh("127.0.0.1", port, timeout=1)

    assert tcp_connect_works_early
    assert early, "the SSH probe passed before the server listened"
    assert late == ""


def test_wait_fails_at_once_with_the_log_tail_when_the_container_exits(
    docker_client: DockerClient,
) -> None:
    command = "echo 'supervisor: fatal start-up error'; sleep 1; exit 3"
    with image_container(
        docker_client, command, ports=("22/tcp", "5900/tcp", "9222/tcp")
    ) as container:
        ports = ContainerPorts(
            ssh=host_port(container, "22/tcp"),
            vnc=host_port(container, "5900/tcp"),
            playwright_cdp=host_port(container, "9222/tcp"),
        )
        started = time.monotonic()
        with pytest.raises(ContainerExitedError) as caught:
            wait_for_container_ready(
                ports,
                timeout=60,
                interval=0.5,
                client=docker_client,
                container_id=container.id or "",
            )
        waited = time.monotonic() - started

    assert waited < 10
    assert "fatal start-up error" in caught.value.log_tail
    assert "exit code 3" in str(caught.value)
    assert isinstance(caught.value, EnvironmentNotReadyError)
