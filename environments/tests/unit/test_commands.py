"""Unit tests for the management commands, with the services replaced."""

import json
from datetime import timedelta
from io import StringIO
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from environments.exceptions import (
    BaseImageMissingError,
    DockerEngineUnavailableError,
    DockerOperationError,
    EnvironmentNotReadyError,
    EnvironmentsError,
    ImageBuildError,
    InvalidValueError,
    NotManagedError,
)
from environments.management.commands import build_base_image as base_image_command
from environments.management.commands import cleanup_environments as cleanup_command
from environments.management.commands import test_environment as smoke_command
from environments.management.commands._reporting import exit_status_for
from environments.management.commands.cleanup_environments import parse_duration
from environments.types import ContainerInfo, ContainerPorts, Credentials

INFO = ContainerInfo(
    container_id="0123456789abcdef0123",
    name="auto-tester-env-smoke",
    ports=ContainerPorts(ssh=40022, vnc=45900, playwright_cdp=49222),
    status="running",
    credentials=Credentials("root", "ssh-pw", "vnc-pw"),
    name_suffix="smoke",
    created_at="2025-01-01T00:00:00Z",
)


class Services:
    """What test_environment calls, replaced by mocks that succeed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.client = mock.Mock(name="client")
        self.get_docker_client = mock.Mock(return_value=self.client)
        self.close_docker_client = mock.Mock()
        self.ensure_image = mock.Mock(return_value="auto-tester-env:latest")
        self.provision_environment = mock.Mock(return_value=INFO)
        self.teardown_environment = mock.Mock()
        self.verify_ssh = mock.Mock(return_value=True)
        self.verify_vnc = mock.Mock(return_value=True)
        self.verify_playwright_connection = mock.Mock(return_value=True)
        for name in (
            "get_docker_client",
            "close_docker_client",
            "ensure_image",
            "provision_environment",
            "teardown_environment",
            "verify_ssh",
            "verify_vnc",
            "verify_playwright_connection",
        ):
            monkeypatch.setattr(smoke_command, name, getattr(self, name))


@pytest.fixture
def services(monkeypatch: pytest.MonkeyPatch) -> Services:
    return Services(monkeypatch)


def run_smoke(*args: str) -> tuple[str, str]:
    stdout, stderr = StringIO(), StringIO()
    call_command("test_environment", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def smoke_error(*args: str) -> tuple[CommandError, str, str]:
    stdout, stderr = StringIO(), StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("test_environment", *args, stdout=stdout, stderr=stderr)
    return caught.value, stdout.getvalue(), stderr.getvalue()


def test_a_successful_run_prints_each_step_and_removes_the_container(
    services: Services,
) -> None:
    out, _ = run_smoke("--name-suffix", "smoke")

    for step in (
        "Connecting to the Docker engine ... OK",
        "Ensuring the image ... OK",
        "Provisioning environment smoke ... OK",
        "Verifying SSH ... OK",
        "Verifying VNC ... OK",
        "Verifying Playwright over CDP ... OK",
        "Removing the container ... OK",
        "All checks passed",
    ):
        assert step in out
    services.teardown_environment.assert_called_once_with(
        services.client, INFO.container_id
    )
    services.close_docker_client.assert_called_once_with(services.client)


def test_options_reach_the_services(services: Services) -> None:
    run_smoke("--name-suffix", "mine", "--timeout", "45", "--rebuild")

    services.ensure_image.assert_called_once_with(services.client, True)
    (call,) = services.provision_environment.call_args_list
    assert call.args == (services.client, "mine")
    assert call.kwargs["timeout"] == 45.0


def test_without_a_suffix_a_random_smoke_suffix_is_used(services: Services) -> None:
    run_smoke()
    run_smoke()

    first, second = (
        call.args[1] for call in services.provision_environment.call_args_list
    )
    assert first.startswith("smoke-")
    assert first != second


def test_verbosity_zero_prints_nothing_on_success(services: Services) -> None:
    out, err = run_smoke("--verbosity", "0")

    assert (out, err) == ("", "")


def test_verbosity_two_adds_the_container_and_its_ports(services: Services) -> None:
    out, _ = run_smoke("--verbosity", "2")

    assert "container auto-tester-env-smoke (0123456789ab)" in out
    assert "ssh 40022, vnc 45900, cdp 49222" in out


def test_an_unreachable_engine_exits_3_with_one_line(services: Services) -> None:
    services.get_docker_client.side_effect = DockerEngineUnavailableError(
        "", "No such file or directory"
    )

    error, _, _ = smoke_error()

    assert error.returncode == 3
    assert "\n" not in str(error)
    assert "Cannot reach the Docker engine" in str(error)
    services.provision_environment.assert_not_called()


def test_a_multi_line_error_raises_its_headline_and_prints_the_details(
    services: Services,
) -> None:
    services.provision_environment.side_effect = EnvironmentNotReadyError(
        ("vnc",), 60.0, "refused", "Xvnc: fatal error"
    )

    error, out, err = smoke_error()

    assert error.returncode == 5
    assert str(error).startswith("Not ready after 60.0s: vnc did not answer")
    assert "Xvnc" not in str(error)
    assert "Xvnc: fatal error" in err
    assert "Xvnc" not in out


def test_with_json_error_details_stay_inside_the_json(services: Services) -> None:
    services.provision_environment.side_effect = EnvironmentNotReadyError(
        ("vnc",), 60.0, "refused", "Xvnc: fatal error"
    )

    _, out, err = smoke_error("--json")

    assert err == ""
    assert "Xvnc: fatal error" in json.loads(out)["error"]


def test_a_failed_provision_closes_the_client_and_has_nothing_to_remove(
    services: Services,
) -> None:
    services.provision_environment.side_effect = DockerOperationError("no space")

    error, _, _ = smoke_error()

    assert error.returncode == 5
    services.teardown_environment.assert_not_called()
    services.close_docker_client.assert_called_once_with(services.client)


def test_an_invalid_timeout_exits_2_before_contacting_the_engine(
    services: Services,
) -> None:
    error, _, _ = smoke_error("--timeout", "soon")

    assert error.returncode == 2
    assert "--timeout" in str(error)
    services.get_docker_client.assert_not_called()


def test_json_prints_one_object_with_steps_and_results(services: Services) -> None:
    out, _ = run_smoke("--json")

    report = json.loads(out)
    assert report["ok"] is True
    assert [step["name"] for step in report["steps"]] == [
        "engine",
        "image",
        "provision",
        "ssh",
        "vnc",
        "playwright",
        "teardown",
    ]
    assert report["results"] == {"ssh": True, "vnc": True, "playwright": True}
    assert report["container"]["cdp_url"] == "http://127.0.0.1:49222"


def test_json_on_failure_still_prints_the_report_with_the_error(
    services: Services,
) -> None:
    services.get_docker_client.side_effect = DockerEngineUnavailableError("", "gone")

    error, out, _ = smoke_error("--json")

    report = json.loads(out)
    assert report["ok"] is False
    assert "Cannot reach the Docker engine" in report["error"]
    assert error.returncode == 3


def test_a_failed_verification_exits_1_and_removes_the_container(
    services: Services,
) -> None:
    services.verify_vnc.return_value = False

    error, out, _ = smoke_error()

    assert error.returncode == 1
    assert "Verification failed for: vnc" in str(error)
    assert "Verifying VNC ... FAILED" in out
    services.teardown_environment.assert_called_once_with(
        services.client, INFO.container_id
    )


def test_no_cleanup_keeps_the_container_and_prints_how_to_reach_it(
    services: Services,
) -> None:
    out, _ = run_smoke("--no-cleanup")

    services.teardown_environment.assert_not_called()
    assert "ssh -p 40022 root@127.0.0.1" in out
    assert "VNC:  127.0.0.1:45900" in out
    assert "http://127.0.0.1:49222" in out
    assert "docker rm -f auto-tester-env-smoke" in out


def test_no_cleanup_with_json_reports_the_kept_environment(services: Services) -> None:
    out, _ = run_smoke("--no-cleanup", "--json")

    kept = json.loads(out)["kept"]
    assert kept == {
        "ssh_command": "ssh -p 40022 root@127.0.0.1",
        "vnc_address": "127.0.0.1:45900",
        "cdp_url": "http://127.0.0.1:49222",
        "remove_command": "docker rm -f auto-tester-env-smoke",
        "ssh_password": "ssh-pw",
        "vnc_password": "vnc-pw",
    }


def test_the_client_is_closed_even_when_teardown_fails(services: Services) -> None:
    services.teardown_environment.side_effect = NotManagedError("x")

    smoke_error()

    services.close_docker_client.assert_called_once_with(services.client)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidValueError("x", "y"), 2),
        (DockerEngineUnavailableError("", "gone"), 3),
        (BaseImageMissingError("debian", "offline"), 4),
        (ImageBuildError("img", "failed", ""), 4),
        (EnvironmentNotReadyError(("ssh",), 1, ""), 5),
        (DockerOperationError("refused"), 5),
    ],
)
def test_exit_status_for_each_kind_of_error(
    error: EnvironmentsError, status: int
) -> None:
    assert exit_status_for(error) == status


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90),
        ("90s", 90),
        ("30m", 1800),
        ("2h", 7200),
        ("1d", 86400),
        ("1.5h", 5400),
    ],
)
def test_parse_duration_reads_seconds_minutes_hours_and_days(
    text: str, seconds: int
) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["abc", "", "2w", "-5m", "1h30m"])
def test_parse_duration_rejects_other_text(text: str) -> None:
    with pytest.raises(InvalidValueError, match="--older-than"):
        parse_duration(text)


@pytest.fixture
def cleanup_services(monkeypatch: pytest.MonkeyPatch) -> dict[str, mock.Mock]:
    fakes = {
        "get_docker_client": mock.Mock(),
        "close_docker_client": mock.Mock(),
        "cleanup_environments": mock.Mock(return_value=[INFO]),
    }
    for name, fake in fakes.items():
        monkeypatch.setattr(cleanup_command, name, fake)
    return fakes


def test_cleanup_dry_run_lists_what_would_be_removed(
    cleanup_services: dict[str, Any],
) -> None:
    out = StringIO()

    call_command("cleanup_environments", "--dry-run", "--older-than", "2h", stdout=out)

    client = cleanup_services["get_docker_client"].return_value
    cleanup_services["cleanup_environments"].assert_called_once_with(
        client, older_than=timedelta(hours=2), dry_run=True
    )
    assert "Would remove auto-tester-env-smoke (0123456789ab" in out.getvalue()
    assert "Would remove 1 environment(s)." in out.getvalue()
    cleanup_services["close_docker_client"].assert_called_once_with(client)


def test_cleanup_with_a_bad_duration_exits_2(cleanup_services: dict[str, Any]) -> None:
    with pytest.raises(CommandError) as caught:
        call_command("cleanup_environments", "--older-than", "abc", stdout=StringIO())

    assert caught.value.returncode == 2
    cleanup_services["get_docker_client"].assert_not_called()


def test_parse_duration_rejects_a_duration_too_long_to_represent() -> None:
    with pytest.raises(InvalidValueError, match="--older-than"):
        parse_duration("99999999999d")


@pytest.fixture
def base_image_services(monkeypatch: pytest.MonkeyPatch) -> dict[str, mock.Mock]:
    fakes = {
        "get_docker_client": mock.Mock(),
        "close_docker_client": mock.Mock(),
        "build_base_image": mock.Mock(return_value="debian:trixie-slim"),
        "ensure_base_image": mock.Mock(return_value="present"),
    }
    for name, fake in fakes.items():
        monkeypatch.setattr(base_image_command, name, fake)
    return fakes


def test_build_base_image_if_missing_reports_what_it_did(
    base_image_services: dict[str, mock.Mock],
) -> None:
    out = StringIO()

    call_command("build_base_image", "--if-missing", stdout=out)

    assert "Base image debian:trixie-slim: present." in out.getvalue()
    base_image_services["build_base_image"].assert_not_called()
    base_image_services["close_docker_client"].assert_called_once()


def test_build_base_image_failure_exits_with_a_one_line_error(
    base_image_services: dict[str, mock.Mock],
) -> None:
    base_image_services["build_base_image"].side_effect = DockerOperationError(
        "mmdebstrap exited with 1:\nE: cannot reach the archive"
    )

    with pytest.raises(CommandError) as caught:
        call_command("build_base_image", stdout=StringIO())

    assert str(caught.value) == "mmdebstrap exited with 1:"
    assert caught.value.returncode == 5
    base_image_services["close_docker_client"].assert_called_once()


def test_an_interrupt_is_one_line_with_status_130_and_removes_the_container(
    services: Services,
) -> None:
    services.verify_vnc.side_effect = KeyboardInterrupt

    error, _, _ = smoke_error()

    assert error.returncode == 130
    assert str(error) == "Interrupted; nothing was left running"
    services.teardown_environment.assert_called_once_with(
        services.client, INFO.container_id
    )


def test_a_bad_name_suffix_fails_before_the_engine_is_contacted(
    services: Services,
) -> None:
    error, _, _ = smoke_error("--name-suffix", "bad name!")

    assert error.returncode == 2
    assert "name_suffix" in str(error)
    services.get_docker_client.assert_not_called()


def test_each_step_title_is_printed_before_the_step_runs(services: Services) -> None:
    seen: list[str] = []
    stdout = StringIO()

    def provision(*args: Any, **kwargs: Any) -> ContainerInfo:
        seen.append(stdout.getvalue())
        return INFO

    services.provision_environment.side_effect = provision
    call_command("test_environment", "--name-suffix", "smoke", stdout=stdout)

    assert seen[0].endswith("Provisioning environment smoke ... ")
