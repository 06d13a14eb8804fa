"""Readiness of an environment, checked per protocol.

Docker's port proxy accepts a TCP connection on a published port before the
service inside listens, so a successful connect proves nothing. Each probe
instead waits for the service's own first words: an `SSH-2.0-` banner, an
`RFB 003.00x` greeting, or CDP's `/json/version` document.
"""

import http.client
import json
import logging
import socket
import threading
import time
from collections.abc import Callable

from docker import DockerClient
from docker.errors import NotFound

from environments.config import load_config, parse_seconds
from environments.exceptions import (
    ContainerExitedError,
    EnvironmentNotReadyError,
    ProvisioningCancelledError,
)
from environments.services._docker import describe_stop, docker_errors, log_tail
from environments.types import SERVICE_NAMES, ContainerPorts, HealthCheckResult

logger = logging.getLogger(__name__)

PROBE_TIMEOUT = 2.0
FIRST_PAUSE = 0.05


def probe_ssh(host: str, port: int, timeout: float = PROBE_TIMEOUT) -> str:
    """Return "" when an SSH server greets on host:port, else the reason."""
    return _greeting_error(host, port, timeout, expected=b"SSH-2.0-", what="SSH")


def probe_vnc(host: str, port: int, timeout: float = PROBE_TIMEOUT) -> str:
    """Return "" when a VNC server greets on host:port, else the reason."""
    return _greeting_error(host, port, timeout, expected=b"RFB 003.", what="VNC")


def probe_cdp(host: str, port: int, timeout: float = PROBE_TIMEOUT) -> str:
    """Return "" when the DevTools endpoint answers /json/version, else the reason."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", "/json/version")
        response = connection.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException) as error:
        return f"CDP: {type(error).__name__}: {error}"
    finally:
        connection.close()
    try:
        document = json.loads(body)
    except ValueError:
        return f"CDP: HTTP {response.status} without JSON"
    if isinstance(document, dict) and "webSocketDebuggerUrl" in document:
        return ""
    return "CDP: /json/version has no webSocketDebuggerUrl"


_PROBES: dict[str, tuple[Callable[[str, int, float], str], str]] = {
    "ssh": (probe_ssh, "ssh"),
    "vnc": (probe_vnc, "vnc"),
    "playwright": (probe_cdp, "playwright_cdp"),
}


def check_container_health(
    ports: ContainerPorts, *, timeout: float = PROBE_TIMEOUT
) -> HealthCheckResult:
    """Probe SSH, VNC and CDP once each."""
    errors = {name: _probe(name, ports, timeout) for name in SERVICE_NAMES}
    return _result(errors)


def wait_for_container_ready(
    ports: ContainerPorts,
    timeout: float | None = None,
    interval: float | None = None,
    *,
    client: DockerClient | None = None,
    container_id: str = "",
    timings: dict[str, float] | None = None,
    cancel: threading.Event | None = None,
) -> HealthCheckResult:
    """Poll until SSH, VNC and CDP all answer, and return the final result.

    Probing starts at once; pauses start short and back off to `interval`, so
    a fast start is not delayed by a whole interval. With `client` and
    `container_id`, a container that stops during the wait fails it at once.
    `timings`, when given, receives the `time.monotonic()` stamp at which
    each service ("ssh", "vnc", "playwright") first answered. Setting
    `cancel` stops the wait at its next probe.

    Raises:
        EnvironmentNotReadyError: not all services answered within `timeout`;
            names them, with the last error and the container's log tail.
        ContainerExitedError: the container stopped while being waited on.
        ProvisioningCancelledError: `cancel` was set.
        InvalidValueError: timeout or interval is not a positive number.
    """
    config = load_config()
    timeout = (
        config.health_check_timeout
        if timeout is None
        else parse_seconds("timeout", timeout)
    )
    interval = (
        config.health_check_interval
        if interval is None
        else parse_seconds("interval", interval)
    )

    started = time.monotonic()
    deadline = started + timeout
    errors = dict.fromkeys(SERVICE_NAMES, "not probed yet")
    pause = min(FIRST_PAUSE, interval)
    while True:
        if cancel is not None and cancel.is_set():
            raise ProvisioningCancelledError(container_id[:12])
        for name in [n for n, error in errors.items() if error]:
            remaining = max(deadline - time.monotonic(), 0.05)
            errors[name] = _probe(name, ports, min(PROBE_TIMEOUT, remaining))
            if not errors[name]:
                if timings is not None:
                    timings[name] = time.monotonic()
                logger.debug("%s ready after %.2fs", name, time.monotonic() - started)
        result = _result(errors)
        if result.all_ok:
            logger.info("ready after %.2fs", time.monotonic() - started)
            return result

        if client is not None and container_id:
            _fail_if_stopped(
                client,
                container_id,
                result,
                time.monotonic() - started,
                docker_host=config.docker_host,
            )
        now = time.monotonic()
        if now >= deadline:
            raise EnvironmentNotReadyError(
                result.not_ready,
                now - started,
                "; ".join(e for e in errors.values() if e),
                _log_tail_of(client, container_id),
            )

        logger.debug("not ready: %s; next probe in %.2fs", result.not_ready, pause)
        time.sleep(min(pause, max(deadline - now, 0)))
        pause = min(pause * 2, interval)


def _probe(name: str, ports: ContainerPorts, timeout: float) -> str:
    probe, port_field = _PROBES[name]
    port = int(getattr(ports, port_field))
    if not port:
        return f"{name}: port not published"
    return probe(ports.host, port, timeout)


def _result(errors: dict[str, str]) -> HealthCheckResult:
    return HealthCheckResult(
        ssh_ok=not errors["ssh"],
        vnc_ok=not errors["vnc"],
        playwright_ok=not errors["playwright"],
        errors=tuple((name, error) for name, error in errors.items() if error),
    )


def _greeting_error(
    host: str, port: int, timeout: float, *, expected: bytes, what: str
) -> str:
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            greeting = connection.recv(256)
    except OSError as error:
        return f"{what}: {type(error).__name__}: {error}"
    if greeting.startswith(expected):
        return ""
    if not greeting:
        return f"{what}: connection closed before the service answered"
    return f"{what}: unexpected greeting {greeting[:40]!r}"


def _fail_if_stopped(
    client: DockerClient,
    container_id: str,
    result: HealthCheckResult,
    waited: float,
    *,
    docker_host: str,
) -> None:
    with docker_errors("Inspecting the container", docker_host):
        try:
            container = client.containers.get(container_id)
        except NotFound:
            raise ContainerExitedError(
                result.not_ready,
                waited,
                "",
                headline=f"Container {container_id} "
                f"was removed after {waited:.1f}s of waiting",
            ) from None
    if container.status in ("running", "created", "restarting"):
        return
    raise ContainerExitedError(
        result.not_ready,
        waited,
        "",
        log_tail(container),
        headline=f"Container {container.name} stopped after {waited:.1f}s of "
        f"waiting: {describe_stop(container)}",
    )


def _log_tail_of(client: DockerClient | None, container_id: str) -> str:
    if client is None or not container_id:
        return ""
    try:
        return log_tail(client.containers.get(container_id))
    except Exception as error:
        return f"(logs unavailable: {error})"
