"""Running shell commands in an environment over SSH (paramiko).

Connections use password authentication only: no agent and no key files, so
nothing from the calling user's ~/.ssh is offered to a throw-away container.
Host keys are accepted automatically because every container makes new ones.
"""

import logging
import select
import shlex
import time

import paramiko

from environments.config import load_config, parse_seconds
from environments.exceptions import SSHCommandTimeoutError, SSHError
from environments.services.credentials import known_credentials
from environments.types import ContainerPorts, Credentials, SSHResult

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0
_READ_SIZE = 65536


def create_ssh_connection(
    ports: ContainerPorts,
    *,
    credentials: Credentials | None = None,
    timeout: float = CONNECT_TIMEOUT,
) -> paramiko.SSHClient:
    """Log in to the environment's SSH server.

    Uses `credentials` (from the ContainerInfo that provisioning returned);
    without them, those this process remembers for the environment at
    `ports`, or else the user and password pinned in the settings.

    Raises:
        SSHError: no password is known, or connecting or logging in failed.
    """
    username, password = _login(credentials or known_credentials(ports))
    ssh = paramiko.SSHClient()
    # Every container makes new host keys, so there is nothing to check them
    # against (S507: auto-adding unknown host keys).
    ssh.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # noqa: S507
    try:
        ssh.connect(
            ports.host,
            port=ports.ssh,
            username=username,
            password=password,
            timeout=timeout,
            banner_timeout=timeout,
            auth_timeout=timeout,
            allow_agent=False,
            look_for_keys=False,
        )
    except (paramiko.SSHException, OSError) as error:
        ssh.close()
        raise SSHError(
            f"SSH to {username}@{ports.host}:{ports.ssh} failed: "
            f"{type(error).__name__}: {error}"
        ) from error
    logger.debug("SSH connected to %s:%s as %s", ports.host, ports.ssh, username)
    return ssh


def execute_ssh_command(
    ssh: paramiko.SSHClient, command: str, *, timeout: float | None = None
) -> SSHResult:
    """Run `command` and return its exit code, stdout and stderr.

    A non-zero exit code is a result, not an error. Output is read from both
    streams as it arrives, so large outputs do not fill a window and hang,
    and bytes that are not valid UTF-8 are replaced rather than raising.

    Raises:
        SSHCommandTimeoutError: the command ran past `timeout` seconds; the
            connection stays usable.
        SSHError: the session could not be opened or broke.
    """
    limit = None if timeout is None else parse_seconds("timeout", timeout)
    transport = ssh.get_transport()
    if transport is None or not transport.is_active():
        raise SSHError("The SSH connection is closed")

    try:
        channel = transport.open_session()
        channel.exec_command(_bounded(command, limit))
        # No input: a command that reads stdin gets end-of-file, not a hang.
        channel.shutdown_write()
        stdout, stderr, timed_out = _read_until_exit(channel, limit)
        exit_code = -1 if timed_out else channel.recv_exit_status()
        channel.close()
    except (paramiko.SSHException, OSError) as error:
        raise SSHError(f"Running {command!r} failed: {error}") from error

    out = stdout.decode("utf-8", errors="replace")
    err = stderr.decode("utf-8", errors="replace")
    if timed_out:
        assert limit is not None
        raise SSHCommandTimeoutError(command, limit, out, err)
    logger.debug("ran %r: exit %s", command, exit_code)
    return SSHResult(exit_code=exit_code, stdout=out, stderr=err)


def close_ssh_connection(ssh: paramiko.SSHClient) -> None:
    """Close the connection; safe to call more than once."""
    ssh.close()


def _login(credentials: Credentials | None) -> tuple[str, str]:
    if credentials is not None:
        return credentials.ssh_user, credentials.ssh_password
    config = load_config()
    if not config.ssh_password:
        raise SSHError(
            "No SSH password known for this environment: pass "
            "credentials=info.credentials from provision_environment (needed when "
            "another process made it, or after a docker restart changed its "
            "ports), or pin ENV_SSH_PASSWORD in the settings"
        )
    return config.ssh_user, config.ssh_password


def _bounded(command: str, limit: float | None) -> str:
    """Make the remote side end `command` shortly after our own timeout.

    Closing our end of the channel does not stop a command that is not
    writing, so coreutils' `timeout` kills it one second after we give up.
    It runs the command with the user's own shell, as sshd would.
    """
    if limit is None:
        return command
    return f'timeout -k 1 {limit + 1:g} "${{SHELL:-sh}}" -c {shlex.quote(command)}'


def _read_until_exit(
    channel: paramiko.Channel, limit: float | None
) -> tuple[bytes, bytes, bool]:
    """Drain stdout and stderr until the command exits or `limit` passes."""
    deadline = None if limit is None else time.monotonic() + limit
    stdout, stderr = bytearray(), bytearray()
    while True:
        drained = False
        while channel.recv_ready():
            stdout += channel.recv(_READ_SIZE)
            drained = True
        while channel.recv_stderr_ready():
            stderr += channel.recv_stderr(_READ_SIZE)
            drained = True
        if channel.exit_status_ready() and not drained and channel.eof_received:
            return bytes(stdout), bytes(stderr), False
        if deadline is not None and time.monotonic() >= deadline:
            # Closing the channel ends this session only; the transport and
            # so the connection stay open for the next command.
            channel.close()
            return bytes(stdout), bytes(stderr), True
        if not drained:
            remaining = 0.5 if deadline is None else deadline - time.monotonic()
            select.select([channel], [], [], max(0.0, min(0.5, remaining)))
