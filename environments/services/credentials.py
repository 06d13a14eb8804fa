"""Per-environment passwords, and how they reach a container.

Unless the settings pin them, every environment gets its own random SSH and
VNC password. They travel to the container as a file copied in before it
starts (never as build arguments or image layers, which anyone holding the
image can read); the image's entry point applies the file and deletes it.

The engine never gives passwords back, so this process remembers the
credentials of the environments it created, by the address of their SSH
port. That keeps the original call shapes working without pinned passwords:
`create_ssh_connection(info.ports)` and `full_verification` on an info from
`get_container_info` find them here.
"""

import io
import secrets
import string
import tarfile
import threading
import time

from environments.config import EnvironmentConfig, load_config
from environments.types import ContainerPorts, Credentials

CREDENTIALS_DIR = "/run/auto-tester"
CREDENTIALS_FILE = "credentials"
_PASSWORD_ALPHABET = string.ascii_letters + string.digits
SSH_PASSWORD_LENGTH = 24
VNC_PASSWORD_LENGTH = 8

# (host, SSH port) -> (container id, credentials), for this process only.
_known: dict[tuple[str, int], tuple[str, Credentials]] = {}
_known_lock = threading.Lock()


def generate_credentials(config: EnvironmentConfig | None = None) -> Credentials:
    """Credentials for a new environment: pinned by settings, else random.

    Raises:
        InvalidValueError: a setting is invalid (only when `config` is None).
    """
    config = config or load_config()
    return Credentials(
        ssh_user=config.ssh_user,
        ssh_password=config.ssh_password or _random_password(SSH_PASSWORD_LENGTH),
        vnc_password=config.vnc_password or _random_password(VNC_PASSWORD_LENGTH),
    )


def credentials_archive(credentials: Credentials) -> bytes:
    """A tar archive holding the credentials file, readable by root only."""
    content = (
        f"SSH_USER={credentials.ssh_user}\n"
        f"SSH_PASSWORD={credentials.ssh_password}\n"
        f"VNC_PASSWORD={credentials.vnc_password}\n"
    ).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        entry = tarfile.TarInfo(CREDENTIALS_FILE)
        entry.size = len(content)
        entry.mode = 0o600
        entry.mtime = int(time.time())
        archive.addfile(entry, io.BytesIO(content))
    return buffer.getvalue()


def _random_password(length: int) -> str:
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))


def remember_credentials(
    container_id: str, ports: ContainerPorts, credentials: Credentials
) -> None:
    """Keep an environment's credentials for later calls in this process."""
    with _known_lock:
        for key in [k for k, (cid, _) in _known.items() if cid == container_id]:
            del _known[key]
        _known[(ports.host, ports.ssh)] = (container_id, credentials)


def known_credentials(
    ports: ContainerPorts, container_id: str = ""
) -> Credentials | None:
    """The credentials of an environment this process made, if it knows them.

    By `container_id` when given (that survives a `docker restart`, which
    changes the ports), else by the address of the SSH port.
    """
    with _known_lock:
        if container_id:
            for cid, credentials in _known.values():
                if cid == container_id:
                    return credentials
        entry = _known.get((ports.host, ports.ssh))
    return entry[1] if entry else None


def forget_credentials(container_id: str) -> None:
    """Drop what is remembered about a removed environment."""
    with _known_lock:
        for key in [k for k, (cid, _) in _known.items() if cid == container_id]:
            del _known[key]
