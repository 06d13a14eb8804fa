"""Unit tests for environments.services.containers, against a fake engine."""

import io
import tarfile
from typing import Any
from unittest import mock

import pytest
from docker.errors import APIError, NotFound
from pytest_django import Settings

from environments.config import load_config
from environments.exceptions import (
    ContainerExitedError,
    ContainerNameConflictError,
    ContainerNotFoundError,
    DockerOperationError,
    EnvironmentNotReadyError,
    EnvironmentsError,
    InvalidValueError,
    NotManagedError,
)
from environments.services import containers, credentials
from environments.services.containers import (
    create_container,
    get_container_info,
    list_containers,
    remove_container,
)
from environments.services.credentials import CREDENTIALS_DIR, generate_credentials
from environments.tests.unit.fakes import (
    PREFIX,
    FakeContainer,
    FakeDockerClient,
    as_docker_client,
    our_labels,
    port_bindings,
)
from environments.types import ContainerPorts, Credentials

CREDENTIALS = Credentials(ssh_user="root", ssh_password="s3cret", vnc_password="vncpw")


def name_taken() -> APIError:
    return APIError("409 Conflict", response=mock.Mock(status_code=409))


def read_archive(data: bytes) -> tuple[tarfile.TarInfo, str]:
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        (entry,) = archive.getmembers()
        handle = archive.extractfile(entry)
        assert handle is not None
        return entry, handle.read().decode()


@pytest.fixture
def short_port_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(containers, "PORT_MAPPING_TIMEOUT", 0.1)


def test_create_container_labels_it_as_ours(fake_client: FakeDockerClient) -> None:
    create_container(as_docker_client(fake_client), "a", credentials=CREDENTIALS)

    labels = fake_client.containers.create_calls[0]["labels"]
    assert labels["auto-tester.managed"] == "true"
    assert labels["auto-tester.prefix"] == PREFIX
    assert labels["auto-tester.name-suffix"] == "a"
    assert labels["auto-tester.created"].endswith("Z")


def test_create_container_adds_extra_labels(fake_client: FakeDockerClient) -> None:
    create_container(
        as_docker_client(fake_client), "a", extra_labels={"test-run": "42"}
    )

    assert fake_client.containers.create_calls[0]["labels"]["test-run"] == "42"


def test_create_container_publishes_ports_on_the_bind_address_with_limits(
    fake_client: FakeDockerClient, settings: Settings
) -> None:
    settings.ENV_SHM_SIZE = "512m"
    settings.ENV_PIDS_LIMIT = "300"
    settings.ENV_MEMORY_LIMIT = "none"

    create_container(as_docker_client(fake_client), "a")

    call = fake_client.containers.create_calls[0]
    assert call["image"] == "auto-tester-env:latest"
    assert call["name"] == f"{PREFIX}-a"
    assert call["ports"] == {
        "22/tcp": ("127.0.0.1",),
        "5900/tcp": ("127.0.0.1",),
        "9222/tcp": ("127.0.0.1",),
    }
    assert call["shm_size"] == "512m"
    assert call["pids_limit"] == 300
    assert call["mem_limit"] is None


def test_create_container_returns_ports_and_credentials(
    fake_client: FakeDockerClient,
) -> None:
    container = FakeContainer()
    container.ports_after_start = port_bindings(ssh=40022, vnc=45900, cdp=49222)
    fake_client.containers.next_created.append(container)

    info = create_container(as_docker_client(fake_client), "a", credentials=CREDENTIALS)

    assert info.ports == ContainerPorts(
        ssh=40022, vnc=45900, playwright_cdp=49222, host="127.0.0.1"
    )
    assert info.credentials == CREDENTIALS
    assert info.container_id == container.id
    assert info.name_suffix == "a"


def test_create_container_waits_until_all_ports_are_published(
    fake_client: FakeDockerClient,
) -> None:
    container = FakeContainer()
    container.reloads_before_ports = 3
    fake_client.containers.next_created.append(container)

    info = create_container(as_docker_client(fake_client), "a")

    assert info.ports.is_mapped
    assert container.calls.count("reload") == 4


def test_credentials_archive_is_put_before_start_and_readable_by_root_only(
    fake_client: FakeDockerClient,
) -> None:
    container = FakeContainer()
    fake_client.containers.next_created.append(container)

    create_container(as_docker_client(fake_client), "a", credentials=CREDENTIALS)

    assert container.calls.index("put_archive") < container.calls.index("start")
    path, data = container.archives[0]
    assert path == CREDENTIALS_DIR
    entry, content = read_archive(data)
    assert entry.name == "credentials"
    assert entry.mode == 0o600
    assert content.splitlines() == [
        "SSH_USER=root",
        "SSH_PASSWORD=s3cret",
        "VNC_PASSWORD=vncpw",
    ]


def test_a_failed_start_removes_the_container(fake_client: FakeDockerClient) -> None:
    container = FakeContainer()
    container.start_error = APIError("500", explanation="OCI runtime error")
    fake_client.containers.next_created.append(container)

    with pytest.raises(DockerOperationError, match="OCI runtime error"):
        create_container(as_docker_client(fake_client), "a")

    assert container.removed
    assert container.remove_calls == [{"force": True, "v": True}]


def test_an_interrupt_during_start_removes_the_container(
    fake_client: FakeDockerClient,
) -> None:
    container = FakeContainer()
    container.start_error = KeyboardInterrupt()
    fake_client.containers.next_created.append(container)

    with pytest.raises(KeyboardInterrupt):
        create_container(as_docker_client(fake_client), "a")

    assert container.removed


def test_ports_never_published_removes_the_container(
    fake_client: FakeDockerClient, short_port_wait: None
) -> None:
    container = FakeContainer(logs=b"sshd: started\n")
    container.ports_after_start = None
    fake_client.containers.next_created.append(container)

    with pytest.raises(EnvironmentNotReadyError) as caught:
        create_container(as_docker_client(fake_client), "a")

    assert caught.value.not_ready == ("ports",)
    assert caught.value.log_tail == "sshd: started"
    assert container.removed


def test_a_container_that_exits_while_starting_fails_with_its_logs(
    fake_client: FakeDockerClient,
) -> None:
    container = FakeContainer(logs=b"entrypoint: credentials missing\n")
    container.status_after_start = "exited"
    container.attrs["State"]["ExitCode"] = 2
    fake_client.containers.next_created.append(container)

    with pytest.raises(ContainerExitedError) as caught:
        create_container(as_docker_client(fake_client), "a")

    assert "exited with exit code 2" in str(caught.value)
    assert caught.value.log_tail == "entrypoint: credentials missing"
    assert container.removed


def test_a_name_held_by_a_foreign_container_is_a_conflict_and_left_alone(
    fake_client: FakeDockerClient,
) -> None:
    foreign = fake_client.containers.add(
        FakeContainer(f"{PREFIX}-a", container_id="f" * 64, labels={}, status="running")
    )
    fake_client.containers.create_errors.append(name_taken())

    with pytest.raises(ContainerNameConflictError) as caught:
        create_container(as_docker_client(fake_client), "a")

    assert caught.value.name == f"{PREFIX}-a"
    assert caught.value.existing_id == "f" * 64
    assert "not managed" in str(caught.value)
    assert not foreign.removed
    assert len(fake_client.containers.create_calls) == 1


def test_a_running_container_of_ours_with_the_name_is_not_replaced(
    fake_client: FakeDockerClient,
) -> None:
    ours = fake_client.containers.add(FakeContainer(status="running"))
    fake_client.containers.create_errors.append(name_taken())

    with pytest.raises(ContainerNameConflictError, match="still running"):
        create_container(as_docker_client(fake_client), "a")

    assert not ours.removed


def test_a_stopped_container_of_ours_with_the_name_is_replaced(
    fake_client: FakeDockerClient,
) -> None:
    stale = fake_client.containers.add(
        FakeContainer(container_id="5" * 64, status="exited")
    )
    fake_client.containers.create_errors.append(name_taken())

    info = create_container(as_docker_client(fake_client), "a")

    assert stale.removed
    assert len(fake_client.containers.create_calls) == 2
    assert info.container_id != stale.id


def test_other_create_errors_are_not_treated_as_name_conflicts(
    fake_client: FakeDockerClient,
) -> None:
    fake_client.containers.create_errors.append(
        APIError("404", response=mock.Mock(status_code=404), explanation="no image")
    )

    with pytest.raises(DockerOperationError, match="no image"):
        create_container(as_docker_client(fake_client), "a")

    assert len(fake_client.containers.create_calls) == 1


def test_remove_container_treats_a_missing_container_as_success(
    fake_client: FakeDockerClient,
) -> None:
    remove_container(as_docker_client(fake_client), "does-not-exist")


def test_remove_container_refuses_a_container_without_our_labels(
    fake_client: FakeDockerClient,
) -> None:
    foreign = fake_client.containers.add(FakeContainer("someone-else", labels={}))

    with pytest.raises(NotManagedError, match="someone-else"):
        remove_container(as_docker_client(fake_client), foreign.id)

    assert not foreign.removed


def test_remove_container_refuses_ours_under_another_prefix(
    fake_client: FakeDockerClient,
) -> None:
    other = fake_client.containers.add(FakeContainer(labels=our_labels(prefix="x")))

    with pytest.raises(NotManagedError):
        remove_container(as_docker_client(fake_client), other.id)

    assert not other.removed


def test_remove_container_force_removes_ours_with_volumes(
    fake_client: FakeDockerClient,
) -> None:
    ours = fake_client.containers.add(FakeContainer(status="running"))

    remove_container(as_docker_client(fake_client), ours.id)

    assert ours.remove_calls == [{"force": True, "v": True}]


def test_list_containers_filters_by_our_labels_and_drops_mismatches(
    fake_client: FakeDockerClient,
) -> None:
    fake_client.containers.add(
        FakeContainer(f"{PREFIX}-a", container_id="a" * 20, labels=our_labels("a"))
    )
    fake_client.containers.add(
        FakeContainer("impostor", container_id="b" * 20, labels={"x": "y"})
    )
    fake_client.containers.add(
        FakeContainer(
            "other-b", container_id="c" * 20, labels=our_labels("b", prefix="other")
        )
    )

    listed = list_containers(as_docker_client(fake_client))

    assert [info.name for info in listed] == [f"{PREFIX}-a"]
    filters = fake_client.containers.list_calls[0]["filters"]["label"]
    assert sorted(filters) == [
        "auto-tester.managed=true",
        f"auto-tester.prefix={PREFIX}",
    ]
    assert fake_client.containers.list_calls[0]["all"] is True


def test_list_containers_reads_suffix_creation_time_and_ports(
    fake_client: FakeDockerClient,
) -> None:
    fake_client.containers.add(
        FakeContainer(
            status="running",
            labels=our_labels("a", created="2025-02-03T04:05:06Z"),
            ports=port_bindings(ssh=40022),
        )
    )

    (info,) = list_containers(as_docker_client(fake_client))

    assert (info.name_suffix, info.created_at) == ("a", "2025-02-03T04:05:06Z")
    assert info.ports.ssh == 40022
    assert info.credentials is None


def test_get_container_info_of_a_stopped_container_has_unmapped_ports(
    fake_client: FakeDockerClient,
) -> None:
    stopped = fake_client.containers.add(FakeContainer(status="exited"))

    info = get_container_info(as_docker_client(fake_client), stopped.id)

    assert info.status == "exited"
    assert not info.ports.is_mapped


def test_get_container_info_of_a_missing_container_raises_not_found(
    fake_client: FakeDockerClient,
) -> None:
    with pytest.raises(ContainerNotFoundError) as caught:
        get_container_info(as_docker_client(fake_client), "nope")

    assert caught.value.container_id == "nope"


def test_generated_credentials_are_random_and_differ_per_call() -> None:
    first = generate_credentials()
    second = generate_credentials()

    assert first.ssh_password != second.ssh_password
    assert first.vnc_password != second.vnc_password
    assert len(first.ssh_password) == credentials.SSH_PASSWORD_LENGTH
    assert len(first.vnc_password) == 8
    assert first.ssh_password.isalnum()


def test_pinned_passwords_from_settings_are_used(settings: Settings) -> None:
    settings.ENV_SSH_USER = "tester"
    settings.ENV_SSH_PASSWORD = "pinned-ssh"
    settings.ENV_VNC_PASSWORD = "pinned"

    credentials = generate_credentials(load_config())

    assert credentials == Credentials("tester", "pinned-ssh", "pinned")


def test_create_container_records_its_milestones_in_order(
    fake_client: FakeDockerClient,
) -> None:
    timings: dict[str, float] = {}

    create_container(as_docker_client(fake_client), "a", timings=timings)

    assert list(timings) == ["created", "started", "ports"]
    assert timings["created"] <= timings["started"] <= timings["ports"]


def test_a_container_removed_while_its_ports_are_read_is_an_app_error(
    fake_client: FakeDockerClient,
) -> None:
    container = FakeContainer()
    fake_client.containers.next_created.append(container)

    def vanish() -> None:
        raise NotFound("No such container")

    container.reload = vanish  # type: ignore[method-assign]  # method-assign: fault injection

    with pytest.raises(EnvironmentsError):
        create_container(as_docker_client(fake_client), "a")


def test_a_container_of_ours_still_being_created_is_not_replaced(
    fake_client: FakeDockerClient,
) -> None:
    # Another caller's start in progress: "created", not yet running.
    starting = fake_client.containers.add(FakeContainer(status="created"))
    fake_client.containers.create_errors.append(name_taken())

    with pytest.raises(ContainerNameConflictError, match="ours and created"):
        create_container(as_docker_client(fake_client), "a")

    assert not starting.removed


def test_an_interrupt_during_the_create_request_removes_what_it_created(
    fake_client: FakeDockerClient,
) -> None:
    # The engine made the container, but the answer never reached us.
    real_create = fake_client.containers.create

    def create_then_interrupt(image: str, **kwargs: Any) -> FakeContainer:
        real_create(image, **kwargs)
        raise KeyboardInterrupt

    bystander = fake_client.containers.add(
        FakeContainer(f"{PREFIX}-other", container_id="7" * 64, status="running")
    )
    fake_client.containers.create = create_then_interrupt  # type: ignore[method-assign]  # fault injection

    with pytest.raises(KeyboardInterrupt):
        create_container(as_docker_client(fake_client), "a")

    made = [c for c in fake_client.containers.table if c is not bystander]
    assert len(made) == 1 and made[0].removed
    assert not bystander.removed


def test_created_environments_credentials_are_remembered_until_removal(
    fake_client: FakeDockerClient,
) -> None:
    client = as_docker_client(fake_client)

    info = create_container(client, "a")
    remembered = credentials.known_credentials(info.ports)
    remove_container(client, info.container_id)

    assert remembered == info.credentials
    assert credentials.known_credentials(info.ports) is None


@pytest.mark.parametrize(
    "given",
    [
        Credentials("root", "pw", "ninechars"),
        Credentials("root", "two\nlines", "vncpw"),
        Credentials("Bad User", "pw", "vncpw"),
        Credentials("root", "", "vncpw"),
    ],
)
def test_given_credentials_are_checked_before_anything_is_created(
    fake_client: FakeDockerClient, given: Credentials
) -> None:
    with pytest.raises(InvalidValueError, match="credentials"):
        create_container(as_docker_client(fake_client), "a", credentials=given)

    assert fake_client.containers.create_calls == []


@pytest.mark.parametrize(
    "given",
    [
        Credentials("daemon", "pw", "vncpw"),
        Credentials("root", "x" * 257, "vncpw"),
        Credentials("root", "nul\x00byte", "vncpw"),
        Credentials("root", 12345, "vncpw"),  # type: ignore[arg-type]  # wrong type on purpose
    ],
)
def test_system_accounts_overlong_or_odd_passwords_are_refused_up_front(
    fake_client: FakeDockerClient, given: Credentials
) -> None:
    with pytest.raises(InvalidValueError, match="credentials"):
        create_container(as_docker_client(fake_client), "a", credentials=given)

    assert fake_client.containers.create_calls == []


def test_credentials_are_found_by_container_id_after_the_ports_changed(
    fake_client: FakeDockerClient,
) -> None:
    info = create_container(as_docker_client(fake_client), "a")
    new_ports = ContainerPorts(ssh=1, vnc=2, playwright_cdp=3)

    assert credentials.known_credentials(new_ports) is None
    assert (
        credentials.known_credentials(new_ports, info.container_id) == info.credentials
    )
