"""Connecting to the Docker engine named by the DOCKER_HOST setting."""

import logging
import os

import docker
import requests
from docker import DockerClient
from docker.errors import DockerException

from environments.config import load_config
from environments.exceptions import DockerEngineUnavailableError

logger = logging.getLogger(__name__)

# Image builds stream for minutes; other calls answer within seconds.
CLIENT_TIMEOUT = 300


def get_docker_client() -> DockerClient:
    """Connect to the engine and check that it answers.

    Raises:
        DockerEngineUnavailableError: nothing answers at DOCKER_HOST.
        InvalidValueError: a setting is invalid.
    """
    docker_host = load_config().docker_host
    environment = dict(os.environ)
    if docker_host:
        environment["DOCKER_HOST"] = docker_host

    try:
        client = docker.from_env(environment=environment, timeout=CLIENT_TIMEOUT)
        client.ping()
    except (
        DockerException,
        requests.exceptions.RequestException,
        OSError,  # also paramiko's errors for ssh:// hosts
        ValueError,  # a malformed address, such as a port out of range
    ) as error:
        raise DockerEngineUnavailableError(docker_host, _short_reason(error)) from error

    logger.debug("connected to the Docker engine at %s", docker_host or "default")
    return client


def close_docker_client(client: DockerClient) -> None:
    """Close the client's connections; safe to call more than once."""
    client.close()


def _short_reason(error: Exception) -> str:
    # requests nests the socket error several levels deep; the innermost
    # message ("No such file or directory", "Connection refused") is the one
    # a user can act on.
    reason: BaseException = error
    while True:
        inner = reason.__cause__ or reason.__context__
        if inner is None:
            break
        reason = inner
    if reason.args and isinstance(reason.args[-1], BaseException):
        reason = reason.args[-1]
    text = str(reason).strip() or type(reason).__name__
    return text.splitlines()[0]
