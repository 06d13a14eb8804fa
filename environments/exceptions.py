"""Errors raised by the environments app.

Every error derives from `EnvironmentsError`, so a caller can catch them all::

    EnvironmentsError
    ├── InvalidValueError            a setting or argument has a bad value
    ├── DockerEngineUnavailableError the engine cannot be reached
    ├── DockerOperationError         the engine refused or failed a request
    ├── BaseImageMissingError        the base image is absent and not pullable
    ├── ImageBuildError              building the environment image failed
    ├── ContainerNotFoundError       no such container
    ├── NotManagedError              the container is not one of ours
    ├── ContainerNameConflictError   the name is taken by another container
    ├── EnvironmentNotReadyError     services did not answer in time
    │   └── ContainerExitedError     the container stopped while starting
    ├── ProvisioningError            one of several environments failed
    ├── ProvisioningCancelledError   a start was called off (a sibling failed)
    └── SSHError                     connecting or running a command failed
        └── SSHCommandTimeoutError   a command ran past its timeout

Foreign errors (docker-py, paramiko, sockets, Playwright) are translated in
the module that made the call and chained with ``from``.
"""


class EnvironmentsError(Exception):
    """Root of every error raised by the environments app."""


class InvalidValueError(EnvironmentsError):
    """A setting or an argument has a value that cannot be used."""

    def __init__(self, name: str, expected: str, value: object = None) -> None:
        self.name = name
        self.expected = expected
        self.value = value
        shown = "" if value is None else f" {value!r}"
        super().__init__(f"{name}{shown} is not valid: expected {expected}")


class DockerEngineUnavailableError(EnvironmentsError):
    """The Docker engine does not answer."""

    def __init__(self, docker_host: str, reason: str) -> None:
        self.docker_host = docker_host
        self.reason = reason
        where = docker_host or "the default local socket (DOCKER_HOST is not set)"
        super().__init__(
            f"Cannot reach the Docker engine at {where}: {reason}. "
            "Start the engine (as root: `dockerd &` or `systemctl start docker`) "
            "or set DOCKER_HOST to a running one."
        )


class DockerOperationError(EnvironmentsError):
    """The engine answered but refused or failed a request."""


class BaseImageMissingError(EnvironmentsError):
    """The base image is not present and cannot be pulled."""

    def __init__(self, base_image: str, reason: str) -> None:
        self.base_image = base_image
        super().__init__(
            f"Base image {base_image} is not present and cannot be pulled "
            f"({reason}). Make it locally with `python manage.py build_base_image` "
            "(needs mmdebstrap or debootstrap), then try again."
        )


class ImageBuildError(EnvironmentsError):
    """Building the environment image failed; carries the end of the build log."""

    def __init__(self, image: str, reason: str, log_tail: str) -> None:
        self.image = image
        self.reason = reason
        self.log_tail = log_tail
        super().__init__(
            f"Building image {image} failed: {reason}\n--- last build output ---\n"
            f"{log_tail}"
        )


class ContainerNotFoundError(EnvironmentsError):
    """No container has the given id or name."""

    def __init__(self, container_id: str) -> None:
        self.container_id = container_id
        super().__init__(f"Container {container_id} does not exist")


class NotManagedError(EnvironmentsError):
    """The container exists but was not created by this app, so it is left alone."""

    def __init__(self, container: str, prefix: str = "") -> None:
        self.container = container
        under = f" under the prefix {prefix}" if prefix else ""
        super().__init__(
            f"Container {container} is not managed by auto-tester environments"
            f"{under} (it lacks our labels); it was left untouched"
        )


class ContainerNameConflictError(EnvironmentsError):
    """The container name is already used by a container we may not replace."""

    def __init__(self, name: str, existing_id: str, why: str) -> None:
        self.name = name
        self.existing_id = existing_id
        super().__init__(
            f"The name {name} is already used by container {existing_id[:12]} "
            f"({why}). Choose another name suffix, or remove that container "
            f"yourself (`docker rm -f {name}`) if it is no longer needed."
        )


class EnvironmentNotReadyError(EnvironmentsError):
    """Some services of an environment did not answer within the timeout."""

    def __init__(
        self,
        not_ready: tuple[str, ...],
        waited: float,
        last_error: str,
        log_tail: str = "",
        *,
        headline: str = "",
    ) -> None:
        self.not_ready = not_ready
        self.waited = waited
        self.last_error = last_error
        self.log_tail = log_tail
        message = headline or (
            f"Not ready after {waited:.1f}s: {', '.join(not_ready)} did not answer"
        )
        if last_error:
            message += f" (last error: {last_error})"
        if log_tail:
            message += f"\n--- container log tail ---\n{log_tail}"
        super().__init__(message)


class ContainerExitedError(EnvironmentNotReadyError):
    """The container stopped while its services were being waited for."""


class ProvisioningError(EnvironmentsError):
    """One environment of a group failed to provision; the others were removed."""

    def __init__(self, name_suffix: str, cause: BaseException) -> None:
        self.name_suffix = name_suffix
        self.cause = cause
        super().__init__(f"Environment {name_suffix!r} failed: {cause}")


class ProvisioningCancelledError(EnvironmentsError):
    """A start was called off because its group failed or was interrupted."""

    def __init__(self, name: str = "") -> None:
        self.name = name
        super().__init__(f"Provisioning {name or 'the environment'} was called off")


class SSHError(EnvironmentsError):
    """Connecting over SSH or running a command failed."""


class SSHCommandTimeoutError(SSHError):
    """A command ran past its timeout; the connection stays usable."""

    def __init__(self, command: str, timeout: float, stdout: str, stderr: str) -> None:
        self.command = command
        self.timeout = timeout
        self.stdout = stdout
        self.stderr = stderr
        super().__init__(f"Command timed out after {timeout}s: {command}")
