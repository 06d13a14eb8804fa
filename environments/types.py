"""Results returned by the services: frozen dataclasses of plain values."""

from dataclasses import dataclass, field

SERVICE_NAMES = ("ssh", "vnc", "playwright")


@dataclass(frozen=True)
class ContainerPorts:
    """Host ports published for one environment.

    A port is 0 when it is not published (the container is not running).
    `host` is the address to connect to on this machine.
    """

    ssh: int
    vnc: int
    playwright_cdp: int
    host: str = "127.0.0.1"

    @property
    def is_mapped(self) -> bool:
        return all((self.ssh, self.vnc, self.playwright_cdp))


@dataclass(frozen=True)
class Credentials:
    """Passwords of one environment; never shown by `repr` or in logs."""

    ssh_user: str
    ssh_password: str = field(repr=False)
    vnc_password: str = field(repr=False)

    def __repr__(self) -> str:
        return (
            f"Credentials(ssh_user={self.ssh_user!r}, ssh_password='***', "
            "vnc_password='***')"
        )


@dataclass(frozen=True)
class ContainerInfo:
    """One environment's container as the engine reports it.

    `credentials` is set only on the info returned when the environment is
    created: the engine never gives passwords back.
    """

    container_id: str
    name: str
    ports: ContainerPorts
    status: str
    credentials: Credentials | None = None
    name_suffix: str = ""
    created_at: str = ""


@dataclass(frozen=True)
class HealthCheckResult:
    """Whether each service answered at protocol level, and why not."""

    ssh_ok: bool
    vnc_ok: bool
    playwright_ok: bool
    errors: tuple[tuple[str, str], ...] = ()

    @property
    def all_ok(self) -> bool:
        return self.ssh_ok and self.vnc_ok and self.playwright_ok

    @property
    def not_ready(self) -> tuple[str, ...]:
        states = zip(
            SERVICE_NAMES, (self.ssh_ok, self.vnc_ok, self.playwright_ok), strict=True
        )
        return tuple(name for name, ok in states if not ok)


@dataclass(frozen=True)
class SSHResult:
    """Outcome of one command run over SSH; a non-zero exit is not an error."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0
