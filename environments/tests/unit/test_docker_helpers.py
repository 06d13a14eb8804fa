"""Unit tests for environments.services._docker: error translation and labels."""

from typing import cast
from unittest import mock

import pytest
import requests
from docker.errors import APIError, DockerException
from docker.models.containers import Container

from environments.exceptions import DockerEngineUnavailableError, DockerOperationError
from environments.services._docker import (
    describe_stop,
    docker_errors,
    is_managed,
    log_tail,
)
from environments.tests.unit.fakes import PREFIX, FakeContainer, our_labels


def test_connection_errors_become_engine_unavailable() -> None:
    with (
        pytest.raises(DockerEngineUnavailableError) as caught,
        docker_errors("Listing", "tcp://127.0.0.1:1"),
    ):
        raise requests.exceptions.ConnectionError("refused")

    assert caught.value.docker_host == "tcp://127.0.0.1:1"


def test_api_errors_become_operation_errors_naming_the_action() -> None:
    response = mock.Mock(status_code=500)

    with pytest.raises(DockerOperationError) as caught, docker_errors("Starting"):
        raise APIError("500", response=response, explanation="no space left")

    assert str(caught.value) == "Starting failed: no space left"
    assert isinstance(caught.value.__cause__, APIError)


def test_other_docker_errors_become_operation_errors() -> None:
    with (
        pytest.raises(DockerOperationError, match=r"^Building failed: bad"),
        docker_errors("Building"),
    ):
        raise DockerException("bad")


def test_is_managed_needs_both_our_marker_and_our_prefix() -> None:
    assert is_managed(our_labels(), PREFIX)
    assert not is_managed(our_labels(prefix="other"), PREFIX)
    assert not is_managed({"auto-tester.prefix": PREFIX}, PREFIX)
    assert not is_managed(None, PREFIX)


def test_log_tail_decodes_invalid_utf8_and_strips_the_end() -> None:
    container = FakeContainer(logs=b"line 1\nbad \xff byte\n\n")

    assert log_tail(cast(Container, container)) == "line 1\nbad \ufffd byte"


def test_log_tail_says_why_logs_are_missing() -> None:
    container = mock.Mock()
    container.logs.side_effect = DockerException("gone")

    assert log_tail(container) == "(logs unavailable: gone)"


def test_a_container_killed_for_memory_is_described_with_the_setting_to_raise() -> None:
    container = mock.Mock(
        status="exited", attrs={"State": {"ExitCode": 137, "OOMKilled": True}}
    )

    text = describe_stop(container)

    assert "exit code 137" in text
    assert "ENV_MEMORY_LIMIT" in text


def test_a_paused_container_is_described_as_paused() -> None:
    container = mock.Mock(status="paused", attrs={"State": {"ExitCode": 0}})

    assert "paused" in describe_stop(container)
