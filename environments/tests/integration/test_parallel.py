"""Several environments at once, on a real engine."""

from typing import Any
from unittest import mock

import pytest
from docker import DockerClient

from environments.exceptions import ContainerExitedError, ProvisioningError
from environments.services import (
    check_container_health,
    list_containers,
    provision_environments,
    teardown_environment,
    wait_for_container_ready,
)
from environments.tests.integration.helpers import TEST_PREFIX
from environments.types import HealthCheckResult


def test_four_environments_start_together_with_distinct_ports(
    docker_client: DockerClient,
) -> None:
    suffixes = [f"par-{n}" for n in range(4)]

    infos = provision_environments(docker_client, suffixes, max_parallel=4)
    try:
        health = [check_container_health(info.ports) for info in infos]
        ports = [
            p for i in infos for p in (i.ports.ssh, i.ports.vnc, i.ports.playwright_cdp)
        ]
        names = [info.name for info in infos]
    finally:
        for info in infos:
            teardown_environment(docker_client, info.container_id)

    assert names == [f"{TEST_PREFIX}-{suffix}" for suffix in suffixes]
    assert all(result.all_ok for result in health)
    assert len(set(ports)) == len(ports) == 12


def test_one_failure_removes_all_the_others_and_names_the_failed_one(
    docker_client: DockerClient,
) -> None:
    def wait_but_fail_one(*args: Any, **kwargs: Any) -> HealthCheckResult:
        result = wait_for_container_ready(*args, **kwargs)
        if kwargs.get("container_id") == _id_of(docker_client, "fail-2"):
            raise ContainerExitedError(("ssh",), 0.0, "", headline="simulated crash")
        return result

    with (
        mock.patch(
            "environments.services.orchestration.wait_for_container_ready",
            wait_but_fail_one,
        ),
        pytest.raises(ProvisioningError) as caught,
    ):
        provision_environments(
            docker_client, [f"fail-{n}" for n in range(4)], max_parallel=4
        )

    assert caught.value.name_suffix == "fail-2"
    assert "simulated crash" in str(caught.value)
    assert not [c for c in list_containers(docker_client) if "-fail-" in c.name]


def _id_of(client: DockerClient, suffix: str) -> str:
    matches = client.containers.list(
        all=True, ignore_removed=True, filters={"name": f"{TEST_PREFIX}-{suffix}"}
    )
    return (matches[0].id or "") if matches else ""
