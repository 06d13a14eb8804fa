"""Per-environment passwords, and how they reach a container.

Unless the settings pin them, every environment gets its own random SSH and
VNC password. They travel to the container as a file copied in before it
starts (never as build arguments or image layers, which anyone holding the
image can read); the image's entry point applies the file and deletes it.
"""

import io
import secrets
import string
import tarfile
import time

from environments.config import EnvironmentConfig, load_config
from environments.types import Credentials

CREDENTIALS_DIR = "/run/auto-tester"
CREDENTIALS_FILE = "credentials"
_PASSWORD_ALPHABET = string.ascii_letters + string.digits
SSH_PASSWORD_LENGTH = 24
VNC_PASSWORD_LENGTH = 8


def generate_credentials(config: EnvironmentConfig | None = None) -> Credentials:
    """Credentials for a new environment: pinned by settings, else random."""
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
