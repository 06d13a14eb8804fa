"""Creating, inspecting, listing and removing environment containers.

Every container we create carries our labels (`_docker.LABEL_*`); listing and
removal act only on containers that have them, so a container that merely
shares the name prefix is never touched. Passwords are copied into the
container before it starts (never into the image), and the entry point
applies and deletes them (see `credentials`).
"""

import logging
import secrets
import time
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from docker import DockerClient
from docker.errors import APIError, NotFound
from docker.models.containers import Container

from environments.config import (
    EnvironmentConfig,
    load_config,
    validate_credentials,
    validate_name_suffix,
)
from environments.exceptions import (
    ContainerExitedError,
    ContainerNameConflictError,
    ContainerNotFoundError,
    EnvironmentNotReadyError,
    InvalidValueError,
    NotManagedError,
)
from environments.interrupts import interrupts_deferred
from environments.services._docker import (
    LABEL_CREATE_REQUEST,
    LABEL_CREATED,
    LABEL_MANAGED,
    LABEL_NAME_SUFFIX,
    LABEL_PREFIX,
    describe_stop,
    docker_errors,
    is_managed,
    log_tail,
)
from environments.services.credentials import (
    CREDENTIALS_DIR,
    credentials_archive,
    forget_credentials,
    generate_credentials,
    remember_credentials,
)
from environments.services.ports import (
    CONTAINER_PORTS,
    PortBindings,
    parse_port_mapping,
    unmapped_ports,
    wait_for_port_mapping,
)
from environments.types import ContainerInfo, Credentials

logger = logging.getLogger(__name__)

PORT_MAPPING_TIMEOUT = 10.0


def create_container(
    client: DockerClient,
    name_suffix: str,
    *,
    credentials: Credentials | None = None,
    extra_labels: dict[str, str] | None = None,
    timings: dict[str, float] | None = None,
) -> ContainerInfo:
    """Create and start an environment container and read its published ports.

    `timings`, when given, receives `time.monotonic()` stamps of the
    milestones "created", "started" and "ports".

    If anything fails after the container was created, it is removed before
    the error propagates.

    Raises:
        InvalidValueError: the name suffix, the credentials or a setting is
            invalid.
        ContainerNameConflictError: the name is used by a container we may
            not replace.
        ContainerExitedError: the container stopped before its ports appeared.
        EnvironmentNotReadyError: the ports were not published in time.
        DockerEngineUnavailableError, DockerOperationError.
    """
    config = load_config()
    name = validate_name_suffix(name_suffix, config.container_prefix)
    credentials = credentials or generate_credentials(config)
    validate_credentials(
        credentials.ssh_user, credentials.ssh_password, credentials.vnc_password
    )
    created_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    labels = {
        **(extra_labels or {}),  # first, so they cannot override ours
        LABEL_MANAGED: "true",
        LABEL_PREFIX: config.container_prefix,
        LABEL_NAME_SUFFIX: name_suffix,
        LABEL_CREATED: created_at,
        # Identifies this very call's container, so that an interrupt during
        # the create request removes it and never another caller's.
        LABEL_CREATE_REQUEST: secrets.token_hex(8),
    }

    stamps = timings if timings is not None else {}
    try:
        container = _create_replacing_stale(client, config, name, labels)
    except BaseException:
        _remove_by_token(client, labels[LABEL_CREATE_REQUEST])
        raise
    try:
        stamps["created"] = time.monotonic()
        logger.info("created container %s (%s)", name, container.short_id)
        with docker_errors("Starting the container", config.docker_host):
            container.put_archive(CREDENTIALS_DIR, credentials_archive(credentials))
            container.start()
        stamps["started"] = time.monotonic()
        ports = wait_for_port_mapping(
            lambda: _running_port_bindings(container),
            bind_address=config.bind_address,
            connect_host=config.connect_host,
            timeout=PORT_MAPPING_TIMEOUT,
        )
        if ports is None:
            raise EnvironmentNotReadyError(
                ("ports",),
                PORT_MAPPING_TIMEOUT,
                "Docker did not publish all of " + ", ".join(CONTAINER_PORTS),
                log_tail(container),
            )
        stamps["ports"] = time.monotonic()
    except BaseException:
        # Also on KeyboardInterrupt: a half-started container must not stay.
        _remove_quietly(container)
        raise

    remember_credentials(container.id or "", ports, credentials)
    return ContainerInfo(
        container_id=container.id or "",
        name=name,
        ports=ports,
        status="running",
        credentials=credentials,
        name_suffix=name_suffix,
        created_at=created_at,
    )


def get_container_info(client: DockerClient, container_id: str) -> ContainerInfo:
    """Describe a container by id or name.

    Raises:
        ContainerNotFoundError: no such container.
        DockerEngineUnavailableError, DockerOperationError.
    """
    config = load_config()
    with docker_errors("Inspecting the container", config.docker_host):
        try:
            container = client.containers.get(container_id)
        except NotFound:
            raise ContainerNotFoundError(container_id) from None
    return _info_from(container, config)


def list_containers(client: DockerClient) -> list[ContainerInfo]:
    """List this app's containers under the configured prefix, running or not.

    Raises:
        InvalidValueError, DockerEngineUnavailableError, DockerOperationError.
    """
    config = load_config()
    with docker_errors("Listing containers", config.docker_host):
        containers = client.containers.list(
            all=True,
            ignore_removed=True,  # another caller may remove one meanwhile
            filters={
                "label": [
                    f"{LABEL_MANAGED}=true",
                    f"{LABEL_PREFIX}={config.container_prefix}",
                ]
            },
        )
    return [
        _info_from(c, config)
        for c in containers
        if is_managed(c.labels, config.container_prefix)
    ]


def remove_container(client: DockerClient, container_id: str) -> None:
    """Force-remove one of our containers; a missing container is success.

    Raises:
        NotManagedError: the container exists but is not one of ours.
        DockerEngineUnavailableError, DockerOperationError.
    """
    config = load_config()
    if not container_id:
        raise InvalidValueError("container_id", "a container id or name")
    with docker_errors("Removing the container", config.docker_host):
        try:
            container = client.containers.get(container_id)
        except NotFound:
            return
        if not is_managed(container.labels, config.container_prefix):
            raise NotManagedError(
                container.name or container_id, config.container_prefix
            )
        forget_credentials(container.id or "")
        with interrupts_deferred():
            _force_remove(container)
    logger.info("removed container %s", container.name)


def _force_remove(container: Container) -> None:
    """Remove at once; gone already or going already is success."""
    try:
        # force kills at once: there is nothing inside worth a stop grace.
        container.remove(force=True, v=True)
    except NotFound:
        return
    except APIError as error:
        # 409: an earlier (perhaps interrupted) request is removing it.
        if error.status_code != 409 or "in progress" not in str(error.explanation):
            raise


def _create_replacing_stale(
    client: DockerClient, config: EnvironmentConfig, name: str, labels: dict[str, str]
) -> Container:
    with docker_errors("Creating the container", config.docker_host):
        try:
            return _create(client, config, name, labels)
        except APIError as error:
            if error.status_code != 409:  # 409: the name is taken
                raise

    _replace_or_refuse(client, config, name)

    with docker_errors("Creating the container", config.docker_host):
        try:
            return _create(client, config, name, labels)
        except APIError as error:
            if error.status_code != 409:
                raise
    # Someone else took the name between our removal and our create.
    _replace_or_refuse(client, config, name, replace=False)
    raise AssertionError("_replace_or_refuse raises when the name is taken")


def _remove_by_token(client: DockerClient, token: str) -> None:
    """Remove the container a create request made, if it made one."""
    try:
        found = client.containers.list(
            all=True,
            ignore_removed=True,
            filters={"label": f"{LABEL_CREATE_REQUEST}={token}"},
        )
    except Exception as error:  # the original error matters more
        logger.warning("could not look for a half-created container: %s", error)
        return
    for container in found:
        if (container.labels or {}).get(LABEL_CREATE_REQUEST) == token:
            _remove_quietly(container)


def _create(
    client: DockerClient, config: EnvironmentConfig, name: str, labels: dict[str, str]
) -> Container:
    # (address,) publishes on that address with a port Docker picks; the
    # type stubs know only the (address, port) form, hence Any.
    ports: dict[str, Any] = {key: (config.bind_address,) for key in CONTAINER_PORTS}
    return client.containers.create(
        config.image_ref,
        name=name,
        hostname=name,
        labels=labels,
        ports=ports,
        shm_size=config.shm_size,
        mem_limit=config.memory_limit or None,
        pids_limit=config.pids_limit,
        detach=True,
    )


def _replace_or_refuse(
    client: DockerClient, config: EnvironmentConfig, name: str, *, replace: bool = True
) -> None:
    """Remove an exited container of ours holding `name`; refuse anything else.

    A container that is merely "created" may be another caller's start in
    progress, so only "exited" and "dead" ones count as stale.
    """
    with docker_errors("Inspecting the existing container", config.docker_host):
        try:
            existing = client.containers.get(name)
        except NotFound:
            return
    existing_id = existing.id or name
    if not is_managed(existing.labels, config.container_prefix):
        raise ContainerNameConflictError(
            name, existing_id, "it is not managed by this app"
        )
    if existing.status not in ("exited", "dead") or not replace:
        state = "still running" if existing.status == "running" else existing.status
        raise ContainerNameConflictError(name, existing_id, f"it is ours and {state}")

    logger.info("replacing stopped container %s (%s)", name, existing.short_id)
    forget_credentials(existing_id)
    with (
        docker_errors("Removing the stopped container", config.docker_host),
        suppress(NotFound),
    ):
        existing.remove(force=True, v=True)


def _running_port_bindings(container: Container) -> PortBindings | None:
    with docker_errors("Reading the published ports", load_config().docker_host):
        container.reload()
    if container.status in ("exited", "dead", "paused"):
        raise ContainerExitedError(
            ("ssh", "vnc", "playwright"),
            0.0,
            "",
            log_tail(container),
            headline=f"Container {container.name} stopped while starting: "
            f"{describe_stop(container)}",
        )
    bindings: PortBindings | None = container.attrs.get("NetworkSettings", {}).get(
        "Ports"
    )
    return bindings


def _info_from(
    container: Container,
    config: EnvironmentConfig,
    credentials: Credentials | None = None,
) -> ContainerInfo:
    labels = container.labels or {}
    bindings = container.attrs.get("NetworkSettings", {}).get("Ports")
    ports = parse_port_mapping(
        bindings, bind_address=config.bind_address, connect_host=config.connect_host
    )
    return ContainerInfo(
        container_id=container.id or "",
        name=container.name or "",
        ports=ports or unmapped_ports(config.connect_host),
        status=container.status,
        credentials=credentials,
        name_suffix=labels.get(LABEL_NAME_SUFFIX, ""),
        created_at=labels.get(LABEL_CREATED, ""),
    )


def _remove_quietly(container: Container) -> None:
    try:
        with interrupts_deferred():
            _force_remove(container)
        logger.info("removed container %s after a failed start", container.name)
    except Exception as error:
        logger.warning("could not remove container %s: %s", container.name, error)
