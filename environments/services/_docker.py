"""Shared helpers for the modules that talk to the Docker engine.

Translating docker-py's errors happens here, once, so that every service
raises the app's own errors: an engine that stopped answering becomes
`DockerEngineUnavailableError`, a refused request `DockerOperationError`.
This module also holds the labels that mark a container as ours.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import requests
import urllib3
from docker import DockerClient
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from docker.models.containers import Container

from environments.exceptions import (
    DockerEngineUnavailableError,
    DockerOperationError,
)

LABEL_MANAGED = "auto-tester.managed"
LABEL_PREFIX = "auto-tester.prefix"
LABEL_NAME_SUFFIX = "auto-tester.name-suffix"
LABEL_CREATED = "auto-tester.created"
LABEL_CREATE_REQUEST = "auto-tester.create-request"
LABEL_CONTEXT_DIGEST = "auto-tester.context-digest"

LOG_TAIL_LINES = 30


@contextmanager
def docker_errors(action: str, docker_host: str = "") -> Iterator[None]:
    """Translate docker-py and transport errors raised while doing `action`."""
    try:
        yield
    except (requests.exceptions.ConnectionError, ConnectionError) as error:
        raise DockerEngineUnavailableError(docker_host, str(error)) from error
    except APIError as error:
        raise DockerOperationError(f"{action} failed: {error.explanation}") from error
    except DockerException as error:
        raise DockerOperationError(f"{action} failed: {error}") from error
    except (
        requests.exceptions.RequestException,
        urllib3.exceptions.HTTPError,
    ) as error:
        # A read timeout or a broken stream, e.g. in the middle of a build.
        raise DockerOperationError(
            f"{action} failed: the engine stopped answering ({error})"
        ) from error


def is_managed(labels: dict[str, str] | None, prefix: str) -> bool:
    """Whether a container's labels say this app created it under `prefix`."""
    labels = labels or {}
    return labels.get(LABEL_MANAGED) == "true" and labels.get(LABEL_PREFIX) == prefix


def describe_stop(container: Container) -> str:
    """Say how a container that should be running stopped, and what may help."""
    state = container.attrs.get("State", {})
    if container.status == "paused":
        return "is paused (docker unpause resumes it)"
    text = f"{container.status} with exit code {state.get('ExitCode')}"
    if state.get("OOMKilled"):
        text += ", killed for lack of memory (raise ENV_MEMORY_LIMIT)"
    return text


def log_tail(container: Container, lines: int = LOG_TAIL_LINES) -> str:
    """Return the last lines of a container's output, or why they are missing."""
    try:
        raw = container.logs(tail=lines)
    except (DockerException, requests.exceptions.RequestException) as error:
        return f"(logs unavailable: {error})"
    if isinstance(raw, bytes):
        return raw.decode("utf-8", errors="replace").rstrip()
    return str(raw).rstrip()


def find_or_pull_image(client: DockerClient, reference: str) -> tuple[str, str]:
    """Make sure image `reference` is present, pulling it if needed.

    Returns ("present", ""), ("pulled", "") or ("missing", why the pull failed).
    """
    try:
        client.images.get(reference)
        return "present", ""
    except (ImageNotFound, NotFound):
        pass
    try:
        client.images.pull(reference)
    except DockerException as error:
        return "missing", str(error).splitlines()[0][:200]
    return "pulled", ""
