"""The app's settings, read from Django settings and checked before use.

`load_config()` turns the raw `ENV_*` strings into typed values and raises
`InvalidValueError` naming the setting and what it expects, so that nothing is
created with a bad value. Argument checks shared by several services (the
name suffix) live here too.
"""

import ipaddress
import re
from dataclasses import dataclass

from django.conf import settings

from environments.exceptions import InvalidValueError

# Docker accepts names matching this; the full name also serves as the
# container's host name, which is limited to 63 characters.
_DOCKER_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
MAX_CONTAINER_NAME = 63
# A repository, optionally behind a registry host with a port.
_IMAGE_PART = re.compile(
    r"^(?:[a-zA-Z0-9][a-zA-Z0-9.-]*(?::[0-9]+)?/)?[a-z0-9][a-z0-9._/-]*$"
)
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_BYTE_SIZE = re.compile(r"^[1-9][0-9]*[bkmgBKMG]?$")
_UNIX_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
# VNC password authentication (RFB "VNC auth") uses at most 8 characters.
MAX_VNC_PASSWORD = 8
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Longer passwords are not applied reliably inside the container.
MAX_SSH_PASSWORD = 256
# Docker refuses less memory than this; less /dev/shm than Docker's own
# default would bring back Chromium's crashes on heavy pages.
MIN_MEMORY_LIMIT = 6 * 2**20
MIN_SHM_SIZE = 64 * 2**20
# Accounts of a Debian system that an SSH login must not take over.
SYSTEM_ACCOUNTS = frozenset(
    [
        "daemon",
        "bin",
        "sys",
        "sync",
        "games",
        "man",
        "lp",
        "mail",
        "news",
        "uucp",
        "proxy",
        "www-data",
        "backup",
        "list",
        "irc",
        "gnats",
        "nobody",
        "sshd",
        "messagebus",
        "_apt",
        "systemd-network",
        "systemd-resolve",
        "systemd-timesync",
    ]
)


@dataclass(frozen=True)
class EnvironmentConfig:
    """Validated settings of the environments app."""

    docker_host: str
    image_name: str
    image_tag: str
    base_image: str
    container_prefix: str
    bind_address: str
    ssh_user: str
    ssh_password: str
    vnc_password: str
    health_check_timeout: float
    health_check_interval: float
    shm_size: str
    memory_limit: str
    pids_limit: int

    @property
    def image_ref(self) -> str:
        return f"{self.image_name}:{self.image_tag}"

    @property
    def connect_host(self) -> str:
        """Address to reach published ports from this machine."""
        if ipaddress.ip_address(self.bind_address).is_unspecified:
            return "127.0.0.1" if ":" not in self.bind_address else "::1"
        return self.bind_address


def load_config() -> EnvironmentConfig:
    """Read and check the app's settings.

    Raises:
        InvalidValueError: a setting has a value that cannot be used.
    """
    prefix = _setting("ENV_CONTAINER_PREFIX")
    if not _DOCKER_NAME.fullmatch(prefix) or len(prefix) > MAX_CONTAINER_NAME - 2:
        raise InvalidValueError(
            "ENV_CONTAINER_PREFIX",
            "letters, digits, '_', '.' or '-', starting with a letter or digit, "
            f"at most {MAX_CONTAINER_NAME - 2} characters",
            prefix,
        )

    log_level = _setting("ENV_LOG_LEVEL").upper()
    if log_level and log_level not in LOG_LEVELS:
        raise InvalidValueError(
            "ENV_LOG_LEVEL", "one of " + ", ".join(LOG_LEVELS), log_level
        )

    return EnvironmentConfig(
        docker_host=_setting("DOCKER_HOST"),
        image_name=_matching("ENV_IMAGE_NAME", _IMAGE_PART, "a lower-case image name"),
        image_tag=_matching("ENV_IMAGE_TAG", _IMAGE_TAG, "an image tag"),
        base_image=_base_image(),
        container_prefix=prefix,
        bind_address=_ip_address("ENV_BIND_ADDRESS"),
        ssh_user=_ssh_user(),
        ssh_password=_password("ENV_SSH_PASSWORD", max_length=None),
        vnc_password=_password("ENV_VNC_PASSWORD", max_length=MAX_VNC_PASSWORD),
        health_check_timeout=_positive_number("ENV_HEALTH_CHECK_TIMEOUT"),
        health_check_interval=_positive_number("ENV_HEALTH_CHECK_INTERVAL"),
        shm_size=_shm_size(),
        memory_limit=_memory_limit(),
        pids_limit=_positive_integer("ENV_PIDS_LIMIT"),
    )


def validate_name_suffix(name_suffix: str, prefix: str) -> str:
    """Return the container name for `name_suffix`, or raise if Docker would not.

    Raises:
        InvalidValueError: the suffix is empty, too long or has characters
            Docker rejects in a container name.
    """
    limit = MAX_CONTAINER_NAME - len(prefix) - 1
    if (
        not isinstance(name_suffix, str)
        or not _DOCKER_NAME.fullmatch(name_suffix)
        or len(name_suffix) > limit
    ):
        raise InvalidValueError(
            "name_suffix",
            "letters, digits, '_', '.' or '-', starting with a letter or digit, "
            f"at most {limit} characters",
            name_suffix if len(str(name_suffix)) <= 80 else f"{name_suffix!s:.80}...",
        )
    return f"{prefix}-{name_suffix}"


def validate_credentials(ssh_user: str, ssh_password: str, vnc_password: str) -> None:
    """Check credentials given as arguments with the rules for the settings.

    Raises:
        InvalidValueError: naming the part that cannot be used (never its value).
    """
    for name, value in (
        ("ssh_user", ssh_user),
        ("ssh_password", ssh_password),
        ("vnc_password", vnc_password),
    ):
        if not isinstance(value, str) or not value:
            raise InvalidValueError(f"credentials.{name}", "a non-empty string")
    if not _UNIX_USER.fullmatch(ssh_user) or ssh_user in SYSTEM_ACCOUNTS:
        raise InvalidValueError(
            "credentials.ssh_user",
            "root or a Unix user name that is not a system account",
            ssh_user,
        )
    _check_password("credentials.ssh_password", ssh_password, max_length=None)
    _check_password(
        "credentials.vnc_password", vnc_password, max_length=MAX_VNC_PASSWORD
    )


def parse_seconds(name: str, raw: object, *, allow_zero: bool = False) -> float:
    """Read a number of seconds given as a setting or an argument."""
    try:
        value = float(str(raw).strip())
    except ValueError:
        value = float("nan")
    if not (value >= 0 if allow_zero else value > 0) or value == float("inf"):
        raise InvalidValueError(name, "a number of seconds greater than 0", raw)
    return value


def _setting(name: str) -> str:
    return str(getattr(settings, name, "") or "").strip()


def _matching(name: str, pattern: re.Pattern[str], expected: str) -> str:
    value = _setting(name)
    if not pattern.fullmatch(value):
        raise InvalidValueError(name, expected, value)
    return value


def split_image_reference(value: str) -> tuple[str, str, str]:
    """Split `registry:port/name:tag@digest` into name, tag and digest."""
    reference, _, digest = value.partition("@")
    # The tag follows the last ":" unless that ":" belongs to a registry port.
    name, _, tag = reference.rpartition(":")
    if not name or "/" in tag:
        name, tag = reference, ""
    return name, tag, digest


def _base_image() -> str:
    value = _setting("ENV_BASE_IMAGE")
    name, tag, digest = split_image_reference(value)
    if (
        not _IMAGE_PART.fullmatch(name)
        or (tag and not _IMAGE_TAG.fullmatch(tag))
        or (digest and not _DIGEST.fullmatch(digest))
    ):
        raise InvalidValueError(
            "ENV_BASE_IMAGE", "an image such as debian:trixie-slim", value
        )
    return value


def _ssh_user() -> str:
    value = _setting("ENV_SSH_USER")
    if not _UNIX_USER.fullmatch(value) or value in SYSTEM_ACCOUNTS:
        raise InvalidValueError(
            "ENV_SSH_USER",
            "root or a Unix user name that is not a system account",
            value,
        )
    return value


def _ip_address(name: str) -> str:
    value = _setting(name)
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise InvalidValueError(
            name, "an IP address such as 127.0.0.1", value
        ) from None


def _password(name: str, *, max_length: int | None) -> str:
    value = str(getattr(settings, name, "") or "")
    _check_password(name, value, max_length=max_length)
    return value


def _check_password(name: str, value: str, *, max_length: int | None) -> None:
    # The value itself never appears in an error: it is a secret.
    if "\n" in value or "\r" in value:
        raise InvalidValueError(name, "a password on a single line")
    if not value.isprintable():
        raise InvalidValueError(name, "a password without control characters")
    if len(value) > MAX_SSH_PASSWORD:
        raise InvalidValueError(name, f"at most {MAX_SSH_PASSWORD} characters")
    if max_length is not None and not (value.isascii() and value.isprintable()):
        # VNC authentication works on bytes; client and server must agree on them.
        raise InvalidValueError(name, "printable ASCII characters only")
    if max_length is not None and len(value) > max_length:
        raise InvalidValueError(
            name,
            f"at most {max_length} characters (VNC password authentication uses "
            f"only {max_length}, it is {len(value)}); shorten it, or leave it "
            "empty to generate one per environment",
        )


def _positive_number(name: str) -> float:
    return parse_seconds(name, _setting(name))


def _positive_integer(name: str) -> int:
    value = _setting(name)
    if not (value.isascii() and value.isdigit()) or int(value) <= 0:
        raise InvalidValueError(name, "a whole number greater than 0", value)
    return int(value)


def _memory_limit() -> str:
    value = _setting("ENV_MEMORY_LIMIT")
    if value.lower() in ("", "0", "none"):
        return ""
    if not _BYTE_SIZE.fullmatch(value) or _bytes(value) < MIN_MEMORY_LIMIT:
        raise InvalidValueError(
            "ENV_MEMORY_LIMIT",
            "a size of at least 6m such as 2g, or 'none' for no limit",
            value,
        )
    return value


def _shm_size() -> str:
    value = _setting("ENV_SHM_SIZE")
    if not _BYTE_SIZE.fullmatch(value) or _bytes(value) < MIN_SHM_SIZE:
        raise InvalidValueError(
            "ENV_SHM_SIZE", "a size of at least 64m such as 1g", value
        )
    return value


def _bytes(size: str) -> int:
    """Bytes in a size such as 512m (Docker's units: b, k, m, g)."""
    unit = size[-1].lower()
    factor = {"b": 1, "k": 2**10, "m": 2**20, "g": 2**30}.get(unit)
    return int(size) if factor is None else int(size[:-1]) * factor
