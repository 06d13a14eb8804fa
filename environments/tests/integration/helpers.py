"""Helpers for integration tests that need containers beyond provisioning."""

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from docker import DockerClient
from docker.errors import NotFound
from docker.models.containers import Container

from environments.config import load_config
from environments.services._docker import LABEL_MANAGED, LABEL_PREFIX

# Per test run, so that two runs on one engine never clean up each other's.
TEST_PREFIX = f"auto-tester-test{os.getpid()}"


def containers_of_this_run(client: DockerClient) -> list[str]:
    """Names of every container, ours or not, under this run's prefix."""
    return sorted(
        c.name or ""
        for c in client.containers.list(all=True, ignore_removed=True)
        if (c.name or "").startswith(TEST_PREFIX)
    )


@contextmanager
def image_container(
    client: DockerClient,
    command: str,
    *,
    labels: dict[str, str] | None = None,
    ports: tuple[str, ...] = ("22/tcp",),
    name: str | None = None,
) -> Iterator[Container]:
    """Run the environment image with a shell `command` instead of its services.

    The container is removed on exit, whatever happened.
    """
    config = load_config()
    published: dict[str, Any] = {port: ("127.0.0.1",) for port in ports}
    container = client.containers.run(
        config.image_ref,
        entrypoint=["/bin/sh", "-c", command],
        labels=labels or {},
        ports=published,
        name=name,
        detach=True,
    )
    try:
        yield container
    finally:
        with suppress(NotFound):  # the test may have removed it already
            container.remove(force=True)


def our_labels(**extra: str) -> dict[str, str]:
    """Labels that make a container count as this app's, under the test prefix."""
    return {
        LABEL_MANAGED: "true",
        LABEL_PREFIX: load_config().container_prefix,
        **extra,
    }


def host_port(container: Container, port: str) -> int:
    container.reload()
    return int(container.attrs["NetworkSettings"]["Ports"][port][0]["HostPort"])
