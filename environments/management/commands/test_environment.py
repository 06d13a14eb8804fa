"""`manage.py test_environment`: provision, verify and remove one environment.

The CI smoke job runs this and reads the exit status: 0 only when SSH, VNC
and Playwright were all verified. Failures raise `CommandError` with one line
and an exit status from `_reporting` (1 a check failed, 2 bad input, 3 no
engine, 4 image problem, 5 provisioning failed, 130 interrupted).
"""

import json
import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser

from environments.config import load_config, parse_seconds, validate_name_suffix
from environments.exceptions import EnvironmentsError
from environments.interrupts import (
    Received,
    interrupts_deferred,
    termination_as_interrupt,
)
from environments.management.commands._reporting import (
    EXIT_CHECK_FAILED,
    EXIT_INTERRUPTED,
    command_error,
    split_message,
)
from environments.services import (
    close_docker_client,
    ensure_image,
    get_docker_client,
    get_playwright_cdp_url,
    provision_environment,
    teardown_environment,
    verify_playwright_connection,
)
from environments.services.orchestration import verify_ssh, verify_vnc
from environments.types import ContainerInfo

T = TypeVar("T")


class Command(BaseCommand):
    help = (
        "Provision an environment, verify SSH, VNC and Playwright for real, and "
        "remove it. Exit status: 0 every check passed, 1 a check failed, 2 a "
        "setting or argument is invalid, 3 no Docker engine answers, 4 the image "
        "could not be made, 5 provisioning failed, 130 interrupted."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rebuild", action="store_true", help="Build the image again first."
        )
        parser.add_argument(
            "--no-cleanup",
            action="store_true",
            help="Keep the container and print how to connect to it.",
        )
        parser.add_argument(
            "--json", action="store_true", help="Print one JSON object as the result."
        )
        parser.add_argument(
            "--name-suffix",
            default="",
            help="Container name suffix (default: smoke-<random>).",
        )
        parser.add_argument(
            "--timeout",
            default=None,
            help="Seconds to wait for readiness (default: ENV_HEALTH_CHECK_TIMEOUT).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.as_json = bool(options["json"])
        self.verbosity = int(options["verbosity"])
        self.steps: list[dict[str, Any]] = []
        self.left_behind = ""  # a container whose removal did not complete
        self.report: dict[str, Any] = {"ok": False, "steps": self.steps}
        name_suffix = options["name_suffix"] or f"smoke-{secrets.token_hex(3)}"
        keep = bool(options["no_cleanup"])

        with termination_as_interrupt() as received:
            self._handle(name_suffix, options, keep, received)

    def _handle(
        self, name_suffix: str, options: dict[str, Any], keep: bool, received: Received
    ) -> None:
        try:
            # Bad settings and arguments fail before anything is touched.
            config = load_config()
            validate_name_suffix(name_suffix, config.container_prefix)
            timeout = (
                None
                if options["timeout"] is None
                else parse_seconds("--timeout", options["timeout"])
            )
            self._run(
                name_suffix, rebuild=options["rebuild"], keep=keep, timeout=timeout
            )
        except EnvironmentsError as error:
            self._fail(error)
        except KeyboardInterrupt:
            if self.left_behind:
                message = (
                    f"Interrupted; the container {self.left_behind} may still exist "
                    f"(remove it with: docker rm -f {self.left_behind})"
                )
            else:
                message = "Interrupted" + ("" if keep else "; nothing was left running")
            self.report["error"] = message
            # As a shell reports it: 128 + the signal's number (SIGINT: 130).
            status = (
                EXIT_INTERRUPTED if received.number is None else 128 + received.number
            )
            raise CommandError(message, returncode=status) from None
        finally:
            if self.as_json:
                self.stdout.write(json.dumps(self.report, indent=2))

    def _run(
        self, name_suffix: str, *, rebuild: bool, keep: bool, timeout: float | None
    ) -> None:
        client = self._step(
            "engine", "Connecting to the Docker engine", get_docker_client
        )
        info: ContainerInfo | None = None
        try:
            image = self._step(
                "image", "Ensuring the image", lambda: ensure_image(client, rebuild)
            )
            self.report["image"] = image
            info = self._step(
                "provision",
                f"Provisioning environment {name_suffix}",
                lambda: provision_environment(client, name_suffix, timeout=timeout),
            )
            self._describe(info)

            current = info
            results = {
                "ssh": self._step("ssh", "Verifying SSH", lambda: verify_ssh(current)),
                "vnc": self._step("vnc", "Verifying VNC", lambda: verify_vnc(current)),
                "playwright": self._step(
                    "playwright",
                    "Verifying Playwright over CDP",
                    lambda: verify_playwright_connection(current.ports),
                ),
            }
            self.report["results"] = results
            self.report["ok"] = all(results.values())
        finally:
            # Also on failures and interrupts; --no-cleanup keeps it on purpose.
            # A further Ctrl-C waits until the removal is done.
            try:
                if info is not None and not keep:
                    self.left_behind = info.name
                    with interrupts_deferred():
                        self._step(
                            "teardown",
                            "Removing the container",
                            lambda: teardown_environment(client, info.container_id),
                        )
                    self.left_behind = ""
            finally:
                close_docker_client(client)

        if keep and info is not None:
            self._print_connection_help(info)
        if not self.report["ok"]:
            failed = [name for name, ok in results.items() if not ok]
            message = (
                f"Verification failed for: {', '.join(failed)} "
                "(set ENV_LOG_LEVEL=INFO to see why)"
            )
            self.report["error"] = message
            raise CommandError(message, returncode=EXIT_CHECK_FAILED)
        self._say(
            self.style.SUCCESS("All checks passed: SSH, VNC and Playwright verified.")
        )

    def _step(self, key: str, title: str, action: Callable[[], T]) -> T:
        """Run one step, printing its title first and its outcome when done."""
        started = time.monotonic()
        record: dict[str, Any] = {"name": key, "ok": False, "seconds": 0.0}
        self.steps.append(record)
        self._say(f"{title} ... ", ending="")
        value: Any = False
        try:
            value = action()
        finally:
            record["seconds"] = round(time.monotonic() - started, 3)
            record["ok"] = value is not False
            outcome = (
                self.style.SUCCESS("OK") if record["ok"] else self.style.ERROR("FAILED")
            )
            self._say(f"{outcome} ({record['seconds']:.2f}s)")
        return cast(T, value)

    def _describe(self, info: ContainerInfo) -> None:
        ports = info.ports
        self.report["container"] = {
            "id": info.container_id,
            "name": info.name,
            "ports": {"ssh": ports.ssh, "vnc": ports.vnc, "cdp": ports.playwright_cdp},
            "host": ports.host,
            "cdp_url": get_playwright_cdp_url(ports),
        }
        if self.verbosity >= 2:
            self._say(
                f"  container {info.name} ({info.container_id[:12]}) on {ports.host}: "
                f"ssh {ports.ssh}, vnc {ports.vnc}, cdp {ports.playwright_cdp}"
            )

    def _print_connection_help(self, info: ContainerInfo) -> None:
        ports = info.ports
        credentials = info.credentials
        user = credentials.ssh_user if credentials else "root"
        lines = [
            "The environment is kept running (--no-cleanup):",
            f"  SSH:  ssh -p {ports.ssh} {user}@{ports.host}",
            f"  VNC:  {_address(ports.host, ports.vnc)}",
            f"  CDP:  {get_playwright_cdp_url(ports)}",
        ]
        if credentials is not None:
            # Printed on request so a person can log in; never logged.
            lines += [
                f"  SSH password: {credentials.ssh_password}",
                f"  VNC password: {credentials.vnc_password}",
            ]
        lines.append(f"  Remove it with: docker rm -f {info.name}")
        self.report["kept"] = {
            "ssh_command": f"ssh -p {ports.ssh} {user}@{ports.host}",
            "vnc_address": _address(ports.host, ports.vnc),
            "cdp_url": get_playwright_cdp_url(ports),
            "remove_command": f"docker rm -f {info.name}",
        }
        if credentials is not None:
            self.report["kept"]["ssh_password"] = credentials.ssh_password
            self.report["kept"]["vnc_password"] = credentials.vnc_password
        for line in lines:
            self._say(line)

    def _fail(self, error: EnvironmentsError) -> None:
        # Details such as a container's log tail go above the one-line error.
        _, details = split_message(error)
        self.report["error"] = str(error)
        if details and self.verbosity >= 1 and not self.as_json:
            self.stderr.write(details)
        raise command_error(error) from error

    def _say(self, text: str, ending: str = "\n") -> None:
        # With --json the only thing on stdout is the JSON object.
        if self.verbosity >= 1 and not self.as_json:
            self.stdout.write(text, ending=ending)
            self.stdout.flush()


def _address(host: str, port: int) -> str:
    """host:port, with an IPv6 host in brackets so the port stays readable."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
