"""The lifecycle of one environment: provision, verify, tear down.

This is the only layer that combines the other service modules. Whatever
fails after a container exists, including an interrupt, removes that
container before the error propagates, so a failed provision leaves nothing.
"""

import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime, timedelta

import paramiko
from docker import DockerClient

from environments.config import load_config, validate_name_suffix
from environments.exceptions import (
    EnvironmentsError,
    InvalidValueError,
    ProvisioningCancelledError,
    ProvisioningError,
    SSHError,
)
from environments.interrupts import interrupts_deferred
from environments.services.browser import verify_playwright_connection
from environments.services.containers import (
    create_container,
    list_containers,
    remove_container,
)
from environments.services.credentials import known_credentials
from environments.services.health import wait_for_container_ready
from environments.services.images import ensure_image
from environments.services.ssh import (
    close_ssh_connection,
    create_ssh_connection,
    execute_ssh_command,
)
from environments.services.vnc import authenticate_vnc, check_vnc_connection
from environments.types import ContainerInfo, Credentials

logger = logging.getLogger(__name__)


def provision_environment(
    client: DockerClient,
    name_suffix: str,
    *,
    rebuild: bool = False,
    timeout: float | None = None,
    credentials: Credentials | None = None,
    extra_labels: dict[str, str] | None = None,
    check_image: bool = True,
    timings: dict[str, float] | None = None,
    cancel: threading.Event | None = None,
) -> ContainerInfo:
    """Ensure the image, start a container and wait until SSH, VNC and CDP answer.

    The returned info carries the environment's credentials. `timings`, when
    given, receives `time.monotonic()` stamps of the milestones "start",
    "created", "started", "ports", "ssh", "vnc", "playwright" and "ready".
    Setting `cancel` calls the start off (the container is removed).
    On any failure after the container was created, it is removed before the
    error propagates.

    Raises:
        InvalidValueError, BaseImageMissingError, ImageBuildError,
        ContainerNameConflictError, EnvironmentNotReadyError,
        ContainerExitedError, DockerEngineUnavailableError,
        DockerOperationError.
    """
    stamps = timings if timings is not None else {}
    stamps["start"] = time.monotonic()
    load_config()  # fail on a bad setting before touching the engine
    if check_image or rebuild:
        ensure_image(client, rebuild=rebuild)

    if cancel is not None and cancel.is_set():
        raise ProvisioningCancelledError(name_suffix)
    info = create_container(
        client,
        name_suffix,
        credentials=credentials,
        extra_labels=extra_labels,
        timings=stamps,
    )
    try:
        wait_for_container_ready(
            info.ports,
            timeout,
            client=client,
            container_id=info.container_id,
            timings=stamps,
            cancel=cancel,
        )
    except BaseException:
        _remove_after_failure(client, info)
        raise
    stamps["ready"] = time.monotonic()
    waited = stamps["ready"] - stamps["start"]
    logger.info("environment %s ready in %.2fs", info.name, waited)
    return info


def provision_environments(
    client: DockerClient,
    name_suffixes: Sequence[str],
    *,
    max_parallel: int = 4,
    timeout: float | None = None,
    timings: dict[str, dict[str, float]] | None = None,
) -> list[ContainerInfo]:
    """Provision several environments at once, all or nothing.

    At most `max_parallel` start at the same time. If one fails, the others
    are removed and the error names the one that failed. The infos come back
    in the order of `name_suffixes`; each has its own host ports. `timings`,
    when given, receives each suffix's milestones as `provision_environment`
    records them.

    Raises:
        InvalidValueError: a suffix is invalid or repeated, or max_parallel < 1.
        ProvisioningError: an environment failed; `cause` holds its error.
        BaseImageMissingError, ImageBuildError, DockerEngineUnavailableError.
    """
    prefix = load_config().container_prefix
    if isinstance(name_suffixes, str):
        raise InvalidValueError("name_suffixes", "a list of suffixes, not one string")
    for suffix in name_suffixes:
        validate_name_suffix(suffix, prefix)
    if len(set(name_suffixes)) != len(name_suffixes):
        raise InvalidValueError(
            "name_suffixes", "distinct suffixes", list(name_suffixes)
        )
    if (
        not isinstance(max_parallel, int)
        or isinstance(max_parallel, bool)
        or (max_parallel < 1)
    ):
        raise InvalidValueError(
            "max_parallel", "a whole number of at least 1", max_parallel
        )
    ensure_image(client)  # once, so parallel starts never build concurrently
    stamps = timings if timings is not None else {}
    for suffix in name_suffixes:
        stamps[suffix] = {}

    cancel = threading.Event()
    pool = ThreadPoolExecutor(max_workers=max_parallel, thread_name_prefix="provision")
    futures: dict[Future[ContainerInfo], str] = {
        pool.submit(
            provision_environment,
            client,
            suffix,
            timeout=timeout,
            check_image=False,
            timings=stamps[suffix],
            cancel=cancel,
        ): suffix
        for suffix in name_suffixes
    }
    try:
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f for f in done if f.exception() is not None), None)
        if failed is None:
            return [future.result() for future in futures]
        cause = failed.exception()
        assert cause is not None
        raise ProvisioningError(futures[failed], cause) from cause
    except BaseException:
        # A failure or an interrupt: stop what has not started, call off the
        # starts in progress (each removes its own container), then remove
        # every environment that did start. A further Ctrl-C waits for that.
        with interrupts_deferred():
            cancel.set()
            for future in futures:
                future.cancel()
            pool.shutdown(wait=True)
            for future in futures:
                if not future.cancelled() and future.exception() is None:
                    _remove_after_failure(client, future.result())
        raise
    finally:
        pool.shutdown(wait=True)


def cleanup_environments(
    client: DockerClient,
    *,
    older_than: timedelta | None = None,
    dry_run: bool = False,
) -> list[ContainerInfo]:
    """Remove our environments created more than `older_than` ago (all without it).

    Only containers carrying this app's labels and prefix are considered.
    Returns the environments removed (or, with `dry_run`, those that would be).

    Raises:
        DockerEngineUnavailableError, DockerOperationError.
    """
    now = datetime.now(UTC)
    selected = [
        info
        for info in list_containers(client)
        if older_than is None or now - _created_at(info) > older_than
    ]
    for info in selected:
        if dry_run:
            logger.info("would remove %s", info.name)
        else:
            remove_container(client, info.container_id)
    return selected


def teardown_environment(client: DockerClient, container_id: str) -> None:
    """Remove the environment's container; already removed is success.

    Raises:
        NotManagedError: the container is not one of ours.
        DockerEngineUnavailableError, DockerOperationError.
    """
    remove_container(client, container_id)


def full_verification(client: DockerClient, info: ContainerInfo) -> dict[str, bool]:
    """Use SSH, VNC and the browser for real; report which of them worked.

    SSH logs in and runs a command; VNC reads the greeting and, when the
    password is known, authenticates; Playwright opens and evaluates a page.
    """
    return {
        "ssh": verify_ssh(info),
        "vnc": verify_vnc(info),
        "playwright": verify_playwright_connection(info.ports),
    }


def verify_ssh(info: ContainerInfo) -> bool:
    """Log in over SSH and run a command; False (logged) if that fails."""
    ssh: paramiko.SSHClient | None = None
    try:
        credentials = info.credentials or known_credentials(
            info.ports, info.container_id
        )
        ssh = create_ssh_connection(info.ports, credentials=credentials)
        result = execute_ssh_command(ssh, "echo auto-tester-ok", timeout=30)
    except SSHError as error:
        logger.warning("SSH verification of %s failed: %s", info.name, error)
        return False
    finally:
        if ssh is not None:
            close_ssh_connection(ssh)
    if result.exit_code != 0 or result.stdout.strip() != "auto-tester-ok":
        logger.warning("SSH verification of %s got %r", info.name, result)
        return False
    return True


def verify_vnc(info: ContainerInfo) -> bool:
    """Read the RFB greeting and log in when the password is known."""
    if not check_vnc_connection(info.ports):
        return False
    credentials = info.credentials or known_credentials(info.ports, info.container_id)
    password = credentials.vnc_password if credentials else ""
    password = password or load_config().vnc_password
    if not password:
        # Without the password only the greeting can be checked.
        return True
    return authenticate_vnc(info.ports, password)


def _created_at(info: ContainerInfo) -> datetime:
    try:
        return datetime.strptime(info.created_at, "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=UTC
        )
    except ValueError:
        # Unknown age: treat as old, so that clean-up can still remove it.
        return datetime.min.replace(tzinfo=UTC)


def _remove_after_failure(client: DockerClient, info: ContainerInfo) -> None:
    try:
        remove_container(client, info.container_id)
    except EnvironmentsError as error:
        logger.warning("could not remove %s after a failure: %s", info.name, error)
