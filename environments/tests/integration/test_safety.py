"""Safe defaults on a real engine: credentials, exposure, ownership, names."""

import json
import logging
from collections.abc import Iterator

import paramiko
import pytest
from docker import DockerClient
from pytest_django.fixtures import Settings

from environments.config import load_config
from environments.exceptions import (
    ContainerNameConflictError,
    InvalidValueError,
    NotManagedError,
    SSHError,
)
from environments.services import (
    authenticate_vnc,
    cleanup_environments,
    close_ssh_connection,
    create_ssh_connection,
    execute_ssh_command,
    full_verification,
    list_containers,
    provision_environment,
    remove_container,
    teardown_environment,
)
from environments.tests.integration.helpers import (
    TEST_PREFIX,
    containers_of_this_run,
    image_container,
)
from environments.types import ContainerInfo, Credentials


@pytest.fixture
def second_environment(docker_client: DockerClient) -> Iterator[ContainerInfo]:
    info = provision_environment(docker_client, "second")
    yield info
    teardown_environment(docker_client, info.container_id)


def test_image_history_and_config_hold_no_password(
    docker_client: DockerClient, environment: ContainerInfo
) -> None:
    assert environment.credentials is not None
    image = docker_client.images.get(load_config().image_ref)
    history = json.dumps(image.history())
    config = json.dumps(image.attrs)

    for secret in (
        environment.credentials.ssh_password,
        environment.credentials.vnc_password,
    ):
        assert secret not in history
        assert secret not in config
    for text in (history, config):
        assert "SSH_PASSWORD=" not in text
        assert "VNC_PASSWORD=" not in text
        assert "testpass" not in text


def test_container_config_holds_no_password(
    docker_client: DockerClient, environment: ContainerInfo
) -> None:
    assert environment.credentials is not None
    inspect = json.dumps(docker_client.api.inspect_container(environment.container_id))

    assert environment.credentials.ssh_password not in inspect
    assert environment.credentials.vnc_password not in inspect


def test_each_environment_gets_its_own_random_passwords(
    environment: ContainerInfo, second_environment: ContainerInfo
) -> None:
    first, second = environment.credentials, second_environment.credentials
    assert first is not None and second is not None

    assert first.ssh_password != second.ssh_password
    assert first.vnc_password != second.vnc_password
    assert len(first.vnc_password) == 8
    assert first.ssh_password not in repr(environment)
    assert first.vnc_password not in repr(environment)


def test_wrong_password_is_refused_over_ssh(environment: ContainerInfo) -> None:
    wrong = Credentials("root", "not-the-password", "wrong123")

    with pytest.raises(SSHError, match="Authentication"):
        create_ssh_connection(environment.ports, credentials=wrong)


def test_wrong_password_is_refused_over_vnc_and_right_one_accepted(
    environment: ContainerInfo,
) -> None:
    assert environment.credentials is not None

    assert authenticate_vnc(environment.ports, "wrong123") is False
    assert authenticate_vnc(environment.ports, environment.credentials.vnc_password)


def test_pinned_vnc_password_longer_than_eight_is_rejected_before_creating(
    docker_client: DockerClient, settings: Settings
) -> None:
    settings.ENV_VNC_PASSWORD = "ninechars"
    before = containers_of_this_run(docker_client)

    with pytest.raises(InvalidValueError) as caught:
        provision_environment(docker_client, "long-vnc-password")

    assert "ENV_VNC_PASSWORD" in str(caught.value)
    assert "8" in str(caught.value)
    assert "ninechars" not in str(caught.value)
    assert containers_of_this_run(docker_client) == before


def test_pinned_passwords_are_used(
    docker_client: DockerClient, settings: Settings
) -> None:
    settings.ENV_SSH_PASSWORD = "pinned-ssh-secret"
    settings.ENV_VNC_PASSWORD = "pinnedvn"
    info = provision_environment(docker_client, "pinned")
    try:
        ssh = create_ssh_connection(info.ports)  # from the settings
        result = execute_ssh_command(ssh, "whoami")
        close_ssh_connection(ssh)
        vnc_ok = authenticate_vnc(info.ports, "pinnedvn")
    finally:
        teardown_environment(docker_client, info.container_id)

    assert result.stdout.strip() == "root"
    assert vnc_ok


def test_every_port_is_published_on_the_bind_address(
    docker_client: DockerClient, environment: ContainerInfo
) -> None:
    bindings = docker_client.api.inspect_container(environment.container_id)[
        "NetworkSettings"
    ]["Ports"]

    published = [binding for entries in bindings.values() for binding in entries or []]
    assert len(published) == 3
    assert {binding["HostIp"] for binding in published} == {"127.0.0.1"}


def test_a_container_without_our_labels_is_never_listed_or_removed(
    docker_client: DockerClient,
) -> None:
    name = f"{TEST_PREFIX}-foreign"
    with image_container(docker_client, "sleep 600", name=name) as foreign:
        listed = [c.name for c in list_containers(docker_client)]
        # A dry run: the module's shared environment must survive this test.
        removed = [c.name for c in cleanup_environments(docker_client, dry_run=True)]
        with pytest.raises(NotManagedError):
            remove_container(docker_client, foreign.id or "")
        with pytest.raises(ContainerNameConflictError) as conflict:
            provision_environment(docker_client, "foreign")
        foreign.reload()

        assert name not in listed
        assert name not in removed
        assert foreign.status == "running"
        assert name in str(conflict.value)
        assert "not managed" in str(conflict.value)


def test_name_in_use_by_our_running_environment_is_a_clear_error(
    docker_client: DockerClient, environment: ContainerInfo
) -> None:
    with pytest.raises(ContainerNameConflictError) as caught:
        provision_environment(docker_client, environment.name_suffix)

    assert environment.name in str(caught.value)
    assert docker_client.containers.get(environment.container_id).status == "running"


def test_a_stopped_environment_of_ours_is_replaced(docker_client: DockerClient) -> None:
    first = provision_environment(docker_client, "replace-me")
    docker_client.containers.get(first.container_id).stop(timeout=0)

    second = provision_environment(docker_client, "replace-me")
    try:
        assert second.container_id != first.container_id
        assert not docker_client.containers.list(
            all=True, ignore_removed=True, filters={"id": first.container_id}
        )
    finally:
        teardown_environment(docker_client, second.container_id)


def test_ssh_connection_can_be_reused_for_several_commands(
    environment: ContainerInfo,
) -> None:
    ssh: paramiko.SSHClient = create_ssh_connection(
        environment.ports, credentials=environment.credentials
    )
    try:
        outputs = [execute_ssh_command(ssh, f"echo {n}").stdout for n in range(3)]
    finally:
        close_ssh_connection(ssh)

    assert outputs == ["0\n", "1\n", "2\n"]


def test_passwords_never_reach_the_logs(
    docker_client: DockerClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    info = provision_environment(docker_client, "quiet")
    try:
        results = full_verification(docker_client, info)
        container_log = docker_client.containers.get(info.container_id).logs()
    finally:
        teardown_environment(docker_client, info.container_id)
    assert info.credentials is not None

    assert results == {"ssh": True, "vnc": True, "playwright": True}
    assert caplog.records, "nothing was logged, so the check would prove nothing"
    for secret in (info.credentials.ssh_password, info.credentials.vnc_password):
        assert secret not in caplog.text
        assert secret.encode() not in container_log
