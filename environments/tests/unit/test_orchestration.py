"""Unit tests for environments.services.orchestration with the services faked."""

import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from pytest_django import Settings

from environments.exceptions import (
    EnvironmentNotReadyError,
    InvalidValueError,
    NotManagedError,
    ProvisioningError,
    SSHError,
)
from environments.services import orchestration
from environments.services.orchestration import (
    cleanup_environments,
    full_verification,
    provision_environment,
    provision_environments,
    teardown_environment,
    verify_ssh,
    verify_vnc,
)
from environments.tests.unit.fakes import (
    PREFIX,
    FakeContainer,
    FakeDockerClient,
    as_docker_client,
)
from environments.types import ContainerInfo, ContainerPorts, Credentials, SSHResult

CREDENTIALS = Credentials(ssh_user="root", ssh_password="ssh-pw", vnc_password="vnc-pw")


def info_for(suffix: str, *, created_at: str = "", port: int = 40000) -> ContainerInfo:
    return ContainerInfo(
        container_id=f"id-{suffix}",
        name=f"{PREFIX}-{suffix}",
        ports=ContainerPorts(ssh=port, vnc=port + 1, playwright_cdp=port + 2),
        status="running",
        credentials=CREDENTIALS,
        name_suffix=suffix,
        created_at=created_at,
    )


class Services:
    """The service functions orchestration calls, replaced by mocks."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.ensure_image = mock.Mock(return_value="auto-tester-env:latest")
        self.create_container = mock.Mock(
            side_effect=lambda client, suffix, **kwargs: info_for(suffix)
        )
        self.wait_for_container_ready = mock.Mock()
        self.remove_container = mock.Mock()
        self.list_containers = mock.Mock(return_value=[])
        for name in (
            "ensure_image",
            "create_container",
            "wait_for_container_ready",
            "remove_container",
            "list_containers",
        ):
            monkeypatch.setattr(orchestration, name, getattr(self, name))

    def removed_ids(self) -> list[str]:
        return [call.args[1] for call in self.remove_container.call_args_list]


@pytest.fixture
def services(monkeypatch: pytest.MonkeyPatch) -> Services:
    return Services(monkeypatch)


# The services are faked, so the client is only passed along and compared.
CLIENT: Any = object()


def test_provision_ensures_the_image_creates_and_waits(services: Services) -> None:
    info = provision_environment(CLIENT, "a", timeout=5)

    assert info == info_for("a")
    services.ensure_image.assert_called_once_with(CLIENT, rebuild=False)
    (wait,) = services.wait_for_container_ready.call_args_list
    assert wait.args == (info.ports, 5)
    assert wait.kwargs["client"] is CLIENT
    assert wait.kwargs["container_id"] == "id-a"
    services.remove_container.assert_not_called()


def test_provision_can_skip_the_image_check(services: Services) -> None:
    provision_environment(CLIENT, "a", check_image=False)

    services.ensure_image.assert_not_called()


def test_provision_removes_the_container_when_the_wait_fails(
    services: Services,
) -> None:
    services.wait_for_container_ready.side_effect = EnvironmentNotReadyError(
        ("vnc",), 60, "refused"
    )

    with pytest.raises(EnvironmentNotReadyError):
        provision_environment(CLIENT, "a")

    assert services.removed_ids() == ["id-a"]


def test_provision_removes_the_container_on_an_interrupt_during_the_wait(
    services: Services,
) -> None:
    services.wait_for_container_ready.side_effect = KeyboardInterrupt()

    with pytest.raises(KeyboardInterrupt):
        provision_environment(CLIENT, "a")

    assert services.removed_ids() == ["id-a"]


def test_a_failing_removal_does_not_hide_the_original_error(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    services.wait_for_container_ready.side_effect = EnvironmentNotReadyError(
        ("ssh",), 60, "refused"
    )
    services.remove_container.side_effect = NotManagedError("x")

    with pytest.raises(EnvironmentNotReadyError):
        provision_environment(CLIENT, "a")

    assert "could not remove" in caplog.text


def test_provision_fails_on_a_bad_setting_before_touching_the_engine(
    services: Services, settings: Settings
) -> None:
    settings.ENV_PIDS_LIMIT = "lots"

    with pytest.raises(InvalidValueError):
        provision_environment(CLIENT, "a")

    services.ensure_image.assert_not_called()
    services.create_container.assert_not_called()


def test_teardown_removes_the_container_and_is_idempotent(
    fake_client: FakeDockerClient,
) -> None:
    container = fake_client.containers.add(FakeContainer(status="running"))
    client = as_docker_client(fake_client)

    teardown_environment(client, container.id)
    teardown_environment(client, container.id)

    assert container.removed
    assert container.calls.count("remove") == 1


def test_provision_many_returns_infos_in_order(services: Services) -> None:
    infos = provision_environments(CLIENT, ["a", "b", "c"], max_parallel=2)

    assert [info.name_suffix for info in infos] == ["a", "b", "c"]
    # Once for all: parallel starts must never build the image concurrently.
    services.ensure_image.assert_called_once_with(CLIENT)
    assert services.create_container.call_count == 3
    services.remove_container.assert_not_called()


def test_provision_many_runs_environments_in_parallel(services: Services) -> None:
    barrier = threading.Barrier(3, timeout=5)
    services.wait_for_container_ready.side_effect = lambda *a, **k: barrier.wait()

    infos = provision_environments(CLIENT, ["a", "b", "c"], max_parallel=3)

    assert len(infos) == 3


def test_one_failure_removes_the_others_and_names_the_failed_suffix(
    services: Services,
) -> None:
    failure = EnvironmentNotReadyError(("ssh",), 60, "refused")

    def wait(ports: ContainerPorts, timeout: Any, **kwargs: Any) -> None:
        if kwargs["container_id"] == "id-b":
            raise failure

    services.wait_for_container_ready.side_effect = wait

    with pytest.raises(ProvisioningError) as caught:
        provision_environments(CLIENT, ["a", "b", "c"], max_parallel=3)

    assert caught.value.name_suffix == "b"
    assert caught.value.cause is failure
    assert "'b'" in str(caught.value)
    assert sorted(services.removed_ids()) == ["id-a", "id-b", "id-c"]


def test_duplicate_suffixes_are_rejected_before_anything_is_created(
    services: Services,
) -> None:
    with pytest.raises(InvalidValueError, match="name_suffixes"):
        provision_environments(CLIENT, ["a", "b", "a"])

    services.ensure_image.assert_not_called()
    services.create_container.assert_not_called()


def test_an_invalid_suffix_is_rejected_before_anything_is_created(
    services: Services,
) -> None:
    with pytest.raises(InvalidValueError, match="name_suffix"):
        provision_environments(CLIENT, ["a", "b c"])

    services.create_container.assert_not_called()


def test_max_parallel_below_one_is_rejected(services: Services) -> None:
    with pytest.raises(InvalidValueError, match="max_parallel"):
        provision_environments(CLIENT, ["a"], max_parallel=0)


def stamp(age: timedelta) -> str:
    return (datetime.now(UTC) - age).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def aged(services: Services) -> list[ContainerInfo]:
    infos = [
        info_for("old", created_at=stamp(timedelta(hours=3))),
        info_for("new", created_at=stamp(timedelta(minutes=5))),
        info_for("unknown", created_at="not a date"),
    ]
    services.list_containers.return_value = infos
    return infos


def test_cleanup_removes_only_environments_older_than_the_limit(
    services: Services, aged: list[ContainerInfo]
) -> None:
    removed = cleanup_environments(CLIENT, older_than=timedelta(hours=1))

    assert [info.name_suffix for info in removed] == ["old", "unknown"]
    assert services.removed_ids() == ["id-old", "id-unknown"]


def test_cleanup_without_an_age_removes_all(
    services: Services, aged: list[ContainerInfo]
) -> None:
    removed = cleanup_environments(CLIENT)

    assert len(removed) == 3
    assert len(services.removed_ids()) == 3


def test_cleanup_dry_run_removes_nothing(
    services: Services, aged: list[ContainerInfo]
) -> None:
    selected = cleanup_environments(CLIENT, older_than=timedelta(hours=1), dry_run=True)

    assert [info.name_suffix for info in selected] == ["old", "unknown"]
    services.remove_container.assert_not_called()


class Probes:
    """The SSH, VNC and browser calls verification makes, replaced by mocks."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.ssh = mock.Mock(name="ssh")
        self.create_ssh_connection = mock.Mock(return_value=self.ssh)
        self.execute_ssh_command = mock.Mock(
            return_value=SSHResult(exit_code=0, stdout="auto-tester-ok\n", stderr="")
        )
        self.close_ssh_connection = mock.Mock()
        self.check_vnc_connection = mock.Mock(return_value=True)
        self.authenticate_vnc = mock.Mock(return_value=True)
        self.verify_playwright_connection = mock.Mock(return_value=True)
        for name in (
            "create_ssh_connection",
            "execute_ssh_command",
            "close_ssh_connection",
            "check_vnc_connection",
            "authenticate_vnc",
            "verify_playwright_connection",
        ):
            monkeypatch.setattr(orchestration, name, getattr(self, name))


@pytest.fixture
def probes(monkeypatch: pytest.MonkeyPatch) -> Probes:
    return Probes(monkeypatch)


def test_full_verification_reports_each_service(probes: Probes) -> None:
    probes.verify_playwright_connection.return_value = False
    info = info_for("a")

    assert full_verification(CLIENT, info) == {
        "ssh": True,
        "vnc": True,
        "playwright": False,
    }
    probes.create_ssh_connection.assert_called_once_with(
        info.ports, credentials=CREDENTIALS
    )
    probes.authenticate_vnc.assert_called_once_with(info.ports, "vnc-pw")
    probes.verify_playwright_connection.assert_called_once_with(info.ports)


def test_ssh_verification_fails_on_unexpected_output_and_closes(
    probes: Probes,
) -> None:
    probes.execute_ssh_command.return_value = SSHResult(0, "something else", "")

    assert verify_ssh(info_for("a")) is False
    probes.close_ssh_connection.assert_called_once_with(probes.ssh)


def test_ssh_verification_fails_on_an_ssh_error_and_still_closes(
    probes: Probes,
) -> None:
    probes.execute_ssh_command.side_effect = SSHError("broken pipe")

    assert verify_ssh(info_for("a")) is False
    probes.close_ssh_connection.assert_called_once_with(probes.ssh)


def test_ssh_verification_fails_when_login_fails(probes: Probes) -> None:
    probes.create_ssh_connection.side_effect = SSHError("auth failed")

    assert verify_ssh(info_for("a")) is False
    probes.close_ssh_connection.assert_not_called()


def test_vnc_verification_fails_without_a_greeting(probes: Probes) -> None:
    probes.check_vnc_connection.return_value = False

    assert verify_vnc(info_for("a")) is False
    probes.authenticate_vnc.assert_not_called()


def test_vnc_verification_fails_on_a_refused_password(probes: Probes) -> None:
    probes.authenticate_vnc.return_value = False

    assert verify_vnc(info_for("a")) is False


def test_vnc_verification_without_any_password_checks_the_greeting_only(
    probes: Probes,
) -> None:
    info = info_for("a")
    info = ContainerInfo(info.container_id, info.name, info.ports, info.status)

    assert verify_vnc(info) is True
    probes.authenticate_vnc.assert_not_called()


def test_provision_records_start_and_ready_around_the_services_milestones(
    services: Services,
) -> None:
    def wait(ports: ContainerPorts, timeout: Any, **kwargs: Any) -> None:
        kwargs["timings"]["ssh"] = 0.0

    services.wait_for_container_ready.side_effect = wait
    timings: dict[str, float] = {}

    provision_environment(CLIENT, "a", timings=timings)

    assert services.create_container.call_args.kwargs["timings"] is timings
    assert list(timings) == ["start", "ssh", "ready"]
    assert timings["start"] <= timings["ready"]


def test_provision_many_records_timings_per_suffix(services: Services) -> None:
    timings: dict[str, dict[str, float]] = {}

    provision_environments(CLIENT, ["a", "b"], timings=timings)

    assert sorted(timings) == ["a", "b"]
    assert all("ready" in stamps for stamps in timings.values())


@pytest.mark.parametrize("max_parallel", ["2", 1.5, True])
def test_max_parallel_must_be_a_whole_number(
    services: Services, max_parallel: Any
) -> None:
    with pytest.raises(InvalidValueError, match="max_parallel"):
        provision_environments(CLIENT, ["a"], max_parallel=max_parallel)

    services.create_container.assert_not_called()


def test_one_string_of_suffixes_is_rejected_not_split_into_letters(
    services: Services,
) -> None:
    with pytest.raises(InvalidValueError, match="name_suffixes"):
        provision_environments(CLIENT, "ab")

    services.create_container.assert_not_called()
