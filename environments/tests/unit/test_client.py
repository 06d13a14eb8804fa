"""Unit tests for environments.services.client: reaching the Docker engine."""

from unittest import mock

import pytest
import requests
from docker.errors import DockerException
from pytest_django import Settings
from urllib3.exceptions import ProtocolError

from environments.exceptions import DockerEngineUnavailableError
from environments.services.client import (
    CLIENT_TIMEOUT,
    close_docker_client,
    get_docker_client,
)

FROM_ENV = "environments.services.client.docker.from_env"


def engine_socket_missing() -> DockerException:
    """The error chain docker-py raises when the engine's socket does not exist."""
    try:
        try:
            try:
                try:
                    raise FileNotFoundError(2, "No such file or directory")
                except FileNotFoundError as missing:
                    raise ProtocolError("Connection aborted.", missing) from missing
            except ProtocolError as protocol:
                raise requests.exceptions.ConnectionError(protocol) from protocol
        except requests.exceptions.ConnectionError as connection:
            raise DockerException(
                f"Error while fetching server API version: {connection}"
            ) from connection
    except DockerException as outer:
        return outer


def test_get_docker_client_pings_the_engine_and_returns_the_client() -> None:
    client = mock.Mock()

    with mock.patch(FROM_ENV, return_value=client) as from_env:
        assert get_docker_client() is client

    client.ping.assert_called_once_with()
    assert from_env.call_args.kwargs["timeout"] == CLIENT_TIMEOUT


def test_get_docker_client_passes_the_docker_host_setting(settings: Settings) -> None:
    settings.DOCKER_HOST = "tcp://127.0.0.1:2375"

    with mock.patch(FROM_ENV) as from_env:
        get_docker_client()

    environment = from_env.call_args.kwargs["environment"]
    assert environment["DOCKER_HOST"] == "tcp://127.0.0.1:2375"


def test_a_connection_error_on_ping_becomes_engine_unavailable() -> None:
    client = mock.Mock()
    client.ping.side_effect = requests.exceptions.ConnectionError("refused")

    with (
        mock.patch(FROM_ENV, return_value=client),
        pytest.raises(DockerEngineUnavailableError) as caught,
    ):
        get_docker_client()

    message = str(caught.value)
    assert "DOCKER_HOST" in message
    assert "dockerd &" in message
    assert "systemctl start docker" in message
    assert "refused" in message
    assert isinstance(caught.value.__cause__, requests.exceptions.ConnectionError)


def test_a_missing_engine_socket_becomes_engine_unavailable() -> None:
    with (
        mock.patch(FROM_ENV, side_effect=engine_socket_missing()),
        pytest.raises(DockerEngineUnavailableError) as caught,
    ):
        get_docker_client()

    assert "No such file or directory" in caught.value.reason
    assert "\n" not in str(caught.value)


def test_engine_unavailable_reason_is_the_innermost_socket_error() -> None:
    with (
        mock.patch(FROM_ENV, side_effect=engine_socket_missing()),
        pytest.raises(DockerEngineUnavailableError) as caught,
    ):
        get_docker_client()

    assert caught.value.reason == "[Errno 2] No such file or directory"


def test_a_docker_error_while_connecting_names_the_configured_host(
    settings: Settings,
) -> None:
    settings.DOCKER_HOST = "unix:///tmp/nowhere.sock"

    with (
        mock.patch(FROM_ENV, side_effect=DockerException("Error while fetching")),
        pytest.raises(DockerEngineUnavailableError) as caught,
    ):
        get_docker_client()

    assert caught.value.docker_host == "unix:///tmp/nowhere.sock"
    assert "unix:///tmp/nowhere.sock" in str(caught.value)
    assert "\n" not in caught.value.reason


def test_close_docker_client_closes_the_client() -> None:
    client = mock.Mock()

    close_docker_client(client)

    client.close.assert_called_once_with()
