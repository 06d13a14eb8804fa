"""Unit tests for environments.exceptions: one root, context as attributes."""

import pytest

from environments import exceptions
from environments.exceptions import (
    ContainerExitedError,
    ContainerNameConflictError,
    DockerEngineUnavailableError,
    EnvironmentNotReadyError,
    EnvironmentsError,
    ImageBuildError,
    InvalidValueError,
    ProvisioningError,
    SSHCommandTimeoutError,
    SSHError,
)


def error_classes() -> list[type[BaseException]]:
    return [
        value
        for value in vars(exceptions).values()
        if isinstance(value, type) and issubclass(value, BaseException)
    ]


@pytest.mark.parametrize("error_class", error_classes(), ids=lambda c: c.__name__)
def test_every_error_derives_from_the_root(error_class: type[BaseException]) -> None:
    assert issubclass(error_class, EnvironmentsError)


def test_subclasses_that_refine_another_error_derive_from_it() -> None:
    assert issubclass(ContainerExitedError, EnvironmentNotReadyError)
    assert issubclass(SSHCommandTimeoutError, SSHError)


def test_invalid_value_names_the_setting_the_value_and_what_is_expected() -> None:
    error = InvalidValueError("ENV_PIDS_LIMIT", "a whole number", "many")

    assert str(error) == "ENV_PIDS_LIMIT 'many' is not valid: expected a whole number"
    assert (error.name, error.expected, error.value) == (
        "ENV_PIDS_LIMIT",
        "a whole number",
        "many",
    )


def test_invalid_value_without_a_value_shows_none() -> None:
    error = InvalidValueError("ENV_VNC_PASSWORD", "at most 8 characters")

    assert str(error) == "ENV_VNC_PASSWORD is not valid: expected at most 8 characters"


def test_engine_unavailable_without_docker_host_says_it_is_not_set() -> None:
    error = DockerEngineUnavailableError("", "Connection refused")

    assert "DOCKER_HOST is not set" in str(error)
    assert "Connection refused" in str(error)
    assert "dockerd" in str(error)


def test_engine_unavailable_names_the_host_it_tried() -> None:
    error = DockerEngineUnavailableError("tcp://127.0.0.1:2375", "timed out")

    assert "tcp://127.0.0.1:2375" in str(error)
    assert error.docker_host == "tcp://127.0.0.1:2375"


def test_image_build_error_carries_the_log_tail() -> None:
    error = ImageBuildError("img:latest", "exit 100", "step 3\nE: no package")

    assert error.log_tail == "step 3\nE: no package"
    assert str(error).endswith("step 3\nE: no package")
    assert str(error).startswith("Building image img:latest failed: exit 100")


def test_name_conflict_shows_a_short_id_and_how_to_remove_it() -> None:
    error = ContainerNameConflictError("env-a", "f" * 64, "it is not ours")

    assert "f" * 12 in str(error)
    assert "f" * 13 not in str(error)
    assert "docker rm -f env-a" in str(error)


def test_not_ready_names_services_wait_time_last_error_and_log_tail() -> None:
    error = EnvironmentNotReadyError(
        ("vnc", "playwright"), 12.34, "VNC: refused", "Xvnc crashed"
    )

    headline, _, details = str(error).partition("\n")
    assert "vnc, playwright" in headline
    assert "12.3s" in headline
    assert "VNC: refused" in headline
    assert details.endswith("Xvnc crashed")


def test_not_ready_headline_replaces_the_default_text() -> None:
    error = ContainerExitedError((), 1.0, "", headline="Container x exited")

    assert str(error) == "Container x exited"


def test_provisioning_error_names_the_failed_suffix_and_keeps_the_cause() -> None:
    cause = SSHError("boom")

    error = ProvisioningError("b", cause)

    assert str(error) == "Environment 'b' failed: boom"
    assert error.cause is cause


def test_command_timeout_keeps_partial_output() -> None:
    error = SSHCommandTimeoutError("sleep 9", 0.5, "half", "err")

    assert (error.stdout, error.stderr, error.timeout) == ("half", "err", 0.5)
    assert "sleep 9" in str(error)
