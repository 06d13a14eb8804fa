"""Unit tests for environments.services.ssh with paramiko replaced by fakes."""

import socket
from collections.abc import Iterator
from typing import Any
from unittest import mock

import paramiko
import pytest
from pytest_django import Settings

from environments.exceptions import SSHCommandTimeoutError, SSHError
from environments.services.ssh import (
    close_ssh_connection,
    create_ssh_connection,
    execute_ssh_command,
)
from environments.types import ContainerPorts, Credentials, SSHResult

PORTS = ContainerPorts(ssh=40022, vnc=45900, playwright_cdp=49222, host="127.0.0.1")
CREDENTIALS = Credentials(ssh_user="tester", ssh_password="pw-1", vnc_password="v")
SSH_CLIENT = "environments.services.ssh.paramiko.SSHClient"


class FakeChannel:
    """A session channel that hands out prepared output, then an exit status.

    With `exits=False` the command never finishes. `fileno` is one end of a
    local socket pair that never becomes readable, so `select` just waits.
    """

    def __init__(
        self,
        wakeup: socket.socket,
        *,
        stdout: list[bytes] | None = None,
        stderr: list[bytes] | None = None,
        exit_status: int = 0,
        exits: bool = True,
    ) -> None:
        self._wakeup = wakeup
        self._stdout = list(stdout or [])
        self._stderr = list(stderr or [])
        self._exit_status = exit_status
        self._exits = exits
        self.commands: list[str] = []
        self.closed = False
        self.input_closed = False

    @property
    def eof_received(self) -> bool:
        return self._exits and not self._stdout and not self._stderr

    def exec_command(self, command: str) -> None:
        self.commands.append(command)

    def shutdown_write(self) -> None:
        self.input_closed = True

    def recv_ready(self) -> bool:
        return bool(self._stdout)

    def recv(self, size: int) -> bytes:
        return self._stdout.pop(0)

    def recv_stderr_ready(self) -> bool:
        return bool(self._stderr)

    def recv_stderr(self, size: int) -> bytes:
        return self._stderr.pop(0)

    def exit_status_ready(self) -> bool:
        return self._exits

    def recv_exit_status(self) -> int:
        return self._exit_status

    def fileno(self) -> int:
        return self._wakeup.fileno()

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def quiet_socket() -> Iterator[socket.socket]:
    left, right = socket.socketpair()
    yield left
    left.close()
    right.close()


def ssh_with(channel: FakeChannel | None = None, *, active: bool = True) -> Any:
    ssh = mock.Mock(spec=paramiko.SSHClient)
    transport = mock.Mock(spec=paramiko.Transport)
    transport.is_active.return_value = active
    transport.open_session.return_value = channel
    ssh.get_transport.return_value = transport
    return ssh


def test_connect_uses_password_only_with_timeouts_and_auto_add() -> None:
    with mock.patch(SSH_CLIENT) as client_class:
        ssh = create_ssh_connection(PORTS, credentials=CREDENTIALS, timeout=7)

    client = client_class.return_value
    assert ssh is client
    (connect,) = client.connect.call_args_list
    assert connect.args == ("127.0.0.1",)
    assert connect.kwargs == {
        "port": 40022,
        "username": "tester",
        "password": "pw-1",
        "timeout": 7,
        "banner_timeout": 7,
        "auth_timeout": 7,
        "allow_agent": False,
        "look_for_keys": False,
    }
    (policy,) = client.set_missing_host_key_policy.call_args.args
    assert isinstance(policy, paramiko.AutoAddPolicy)


def test_connect_without_credentials_uses_the_pinned_settings(
    settings: Settings,
) -> None:
    settings.ENV_SSH_USER = "pinned"
    settings.ENV_SSH_PASSWORD = "pinned-pw"

    with mock.patch(SSH_CLIENT) as client_class:
        create_ssh_connection(PORTS)

    kwargs = client_class.return_value.connect.call_args.kwargs
    assert (kwargs["username"], kwargs["password"]) == ("pinned", "pinned-pw")


def test_connect_without_any_known_password_is_an_ssh_error() -> None:
    with mock.patch(SSH_CLIENT) as client_class, pytest.raises(SSHError) as caught:
        create_ssh_connection(PORTS)

    assert "ENV_SSH_PASSWORD" in str(caught.value)
    client_class.assert_not_called()


@pytest.mark.parametrize(
    "failure",
    [
        paramiko.AuthenticationException("Authentication failed."),
        paramiko.SSHException("Error reading SSH protocol banner"),
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError("timed out"),
    ],
    ids=["auth", "banner", "refused", "timeout"],
)
def test_connect_failures_become_ssh_errors_and_close_the_client(
    failure: Exception,
) -> None:
    with mock.patch(SSH_CLIENT) as client_class:
        client_class.return_value.connect.side_effect = failure
        with pytest.raises(SSHError) as caught:
            create_ssh_connection(PORTS, credentials=CREDENTIALS)

    assert caught.value.__cause__ is failure
    assert "tester@127.0.0.1:40022" in str(caught.value)
    assert "pw-1" not in str(caught.value)
    client_class.return_value.close.assert_called_once_with()


def test_command_output_and_exit_code_are_returned(
    quiet_socket: socket.socket,
) -> None:
    channel = FakeChannel(
        quiet_socket, stdout=[b"hello ", b"world\n"], stderr=[b"warn\n"]
    )

    result = execute_ssh_command(ssh_with(channel), "echo hello world")

    assert result == SSHResult(exit_code=0, stdout="hello world\n", stderr="warn\n")
    assert channel.commands == ["echo hello world"]
    assert channel.closed


def test_a_non_zero_exit_is_a_result_not_an_error(quiet_socket: socket.socket) -> None:
    channel = FakeChannel(quiet_socket, stderr=[b"no such file\n"], exit_status=2)

    result = execute_ssh_command(ssh_with(channel), "cat /missing")

    assert result.exit_code == 2
    assert not result.ok
    assert result.stderr == "no such file\n"


def test_invalid_utf8_is_replaced_not_raised(quiet_socket: socket.socket) -> None:
    channel = FakeChannel(quiet_socket, stdout=[b"caf\xe9 \xff\n"])

    result = execute_ssh_command(ssh_with(channel), "printf bytes")

    assert result.stdout == "caf\ufffd \ufffd\n"


def test_a_command_past_its_timeout_raises_with_partial_output(
    quiet_socket: socket.socket,
) -> None:
    channel = FakeChannel(quiet_socket, stdout=[b"started\n"], exits=False)
    ssh = ssh_with(channel)

    with pytest.raises(SSHCommandTimeoutError) as caught:
        execute_ssh_command(ssh, "sleep 600", timeout=0.2)

    assert caught.value.stdout == "started\n"
    assert caught.value.timeout == 0.2
    assert channel.closed
    ssh.close.assert_not_called()


def test_a_closed_connection_is_an_ssh_error() -> None:
    with pytest.raises(SSHError, match="closed"):
        execute_ssh_command(ssh_with(active=False), "true")


def test_a_session_that_cannot_open_is_an_ssh_error() -> None:
    ssh = ssh_with()
    ssh.get_transport.return_value.open_session.side_effect = paramiko.ChannelException(
        1, "Administratively prohibited"
    )

    with pytest.raises(SSHError, match="Running 'true' failed"):
        execute_ssh_command(ssh, "true")


def test_close_ssh_connection_closes_the_client() -> None:
    ssh = mock.Mock(spec=paramiko.SSHClient)

    close_ssh_connection(ssh)

    ssh.close.assert_called_once_with()
