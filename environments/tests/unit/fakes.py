"""Fakes for the unit tests: a Docker client in memory and loopback servers.

The Docker fakes keep just enough state (containers by id and name, their
status, labels and port bindings) for the services to run against them, and
record what was asked of them. The servers listen on 127.0.0.1 only and are
stopped by the fixtures that start them.
"""

import json
import socket
import struct
import threading
from collections.abc import Callable
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from docker import DockerClient
from docker.errors import NotFound

from environments.services._docker import (
    LABEL_CREATED,
    LABEL_MANAGED,
    LABEL_NAME_SUFFIX,
    LABEL_PREFIX,
)

LOOPBACK = "127.0.0.1"
PREFIX = "auto-tester-env"

# --- Docker ------------------------------------------------------------------


def our_labels(
    suffix: str = "a", *, prefix: str = PREFIX, created: str = "2025-01-01T00:00:00Z"
) -> dict[str, str]:
    """Labels as create_container sets them."""
    return {
        LABEL_MANAGED: "true",
        LABEL_PREFIX: prefix,
        LABEL_NAME_SUFFIX: suffix,
        LABEL_CREATED: created,
    }


def port_bindings(
    ssh: int = 32001, vnc: int = 32002, cdp: int = 32003, host_ip: str = LOOPBACK
) -> dict[str, list[dict[str, str]]]:
    """`NetworkSettings.Ports` of a running container published on `host_ip`."""
    return {
        "22/tcp": [{"HostIp": host_ip, "HostPort": str(ssh)}],
        "5900/tcp": [{"HostIp": host_ip, "HostPort": str(vnc)}],
        "9222/tcp": [{"HostIp": host_ip, "HostPort": str(cdp)}],
    }


class FakeContainer:
    """A container whose state the tests set and whose calls they read."""

    def __init__(
        self,
        name: str = f"{PREFIX}-a",
        *,
        container_id: str = "0123456789abcdef0123",
        status: str = "created",
        labels: dict[str, str] | None = None,
        ports: dict[str, Any] | None = None,
        logs: bytes = b"",
    ) -> None:
        self.id = container_id
        self.short_id = container_id[:12]
        self.name = name
        self.status = status
        self.labels = labels if labels is not None else our_labels()
        self.attrs: dict[str, Any] = {
            "State": {"ExitCode": 0},
            "NetworkSettings": {"Ports": ports},
        }
        self.log_output = logs
        self.calls: list[str] = []
        self.archives: list[tuple[str, bytes]] = []
        self.remove_calls: list[dict[str, Any]] = []
        self.start_error: BaseException | None = None
        self.status_after_start = "running"
        self.ports_after_start: dict[str, Any] | None = port_bindings()
        self.reloads_before_ports = 0
        self.removed = False

    def put_archive(self, path: str, data: bytes) -> bool:
        self.calls.append("put_archive")
        self.archives.append((path, data))
        return True

    def start(self) -> None:
        self.calls.append("start")
        if self.start_error is not None:
            raise self.start_error
        self.status = self.status_after_start

    def reload(self) -> None:
        self.calls.append("reload")
        if self.status != "running":
            return
        if self.reloads_before_ports > 0:
            self.reloads_before_ports -= 1
            return
        self.attrs["NetworkSettings"]["Ports"] = self.ports_after_start

    def remove(self, **kwargs: Any) -> None:
        self.calls.append("remove")
        self.remove_calls.append(kwargs)
        self.removed = True

    def logs(self, **kwargs: Any) -> bytes:
        return self.log_output


class FakeContainers:
    """`client.containers`: create, get and list over an in-memory table."""

    def __init__(self) -> None:
        self.table: list[FakeContainer] = []
        self.create_calls: list[dict[str, Any]] = []
        self.create_errors: list[BaseException] = []
        self.next_created: list[FakeContainer] = []
        self.list_calls: list[dict[str, Any]] = []

    def add(self, container: FakeContainer) -> FakeContainer:
        self.table.append(container)
        return container

    def create(self, image: str, **kwargs: Any) -> FakeContainer:
        self.create_calls.append({"image": image, **kwargs})
        if self.create_errors:
            raise self.create_errors.pop(0)
        if self.next_created:
            container = self.next_created.pop(0)
        else:
            container = FakeContainer(kwargs["name"], labels=kwargs["labels"])
        container.name = kwargs["name"]
        return self.add(container)

    def get(self, id_or_name: str) -> FakeContainer:
        for container in self.table:
            if not container.removed and id_or_name in (container.id, container.name):
                return container
        raise NotFound(f"No such container: {id_or_name}")

    def list(self, **kwargs: Any) -> list[FakeContainer]:
        self.list_calls.append(kwargs)
        return [c for c in self.table if not c.removed]


class FakeDockerClient:
    """The part of docker-py's `DockerClient` the container services use."""

    def __init__(self) -> None:
        self.containers = FakeContainers()
        self.closed = False

    def close(self) -> None:
        self.closed = True


def as_docker_client(fake: FakeDockerClient) -> DockerClient:
    """Hand the fake to services typed for docker-py's client."""
    return cast(DockerClient, fake)


# --- Loopback servers ----------------------------------------------------------


def free_port() -> int:
    """A loopback port nothing listens on (connecting to it is refused)."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


Handler = Callable[[socket.socket], None]


class LoopbackServer:
    """A TCP server on 127.0.0.1 that runs `handler` for each connection."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self._stopping = threading.Event()
        self._listener = socket.socket()
        self._listener.bind((LOOPBACK, 0))
        self._listener.listen(8)
        self._listener.settimeout(0.05)
        self.port = int(self._listener.getsockname()[1])
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            with connection:
                connection.settimeout(2.0)
                with suppress(OSError):
                    self.handler(connection)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        self._listener.close()


def greet_and_wait(greeting: bytes) -> Handler:
    """A handler that sends `greeting` and waits for the client to hang up."""

    def handle(connection: socket.socket) -> None:
        connection.sendall(greeting)
        while connection.recv(1024):
            pass

    return handle


def close_at_once(connection: socket.socket) -> None:
    """Accept and hang up without a word, like Docker's port proxy early on."""


def des_encrypt_for_vnc(challenge: bytes, password: str) -> bytes:
    """VNC authentication response, written independently of the product.

    The key bits are reversed with shifts (the product formats binary
    strings) and three-key Triple DES with K1=K2=K3 is used, which is DES.
    """
    raw = password.encode("latin-1")[:8].ljust(8, b"\0")
    key = bytes(
        sum(((byte >> bit) & 1) << (7 - bit) for bit in range(8)) for byte in raw
    )
    encryptor = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()  # noqa: S305 - RFB
    return encryptor.update(challenge) + encryptor.finalize()


def rfb_vnc_auth(password: str, challenge: bytes = bytes(range(16))) -> Handler:
    """A handler speaking RFB 3.8 with VNC authentication for `password`."""

    def receive(connection: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = connection.recv(size - len(data))
            if not chunk:
                raise ConnectionError("client hung up")
            data += chunk
        return data

    def handle(connection: socket.socket) -> None:
        connection.sendall(b"RFB 003.008\n")
        receive(connection, 12)
        connection.sendall(bytes([1, 2]))
        if receive(connection, 1) != b"\x02":
            return
        connection.sendall(challenge)
        response = receive(connection, 16)
        if response == des_encrypt_for_vnc(challenge, password):
            connection.sendall(struct.pack("!I", 0))
        else:
            reason = b"Authentication failed"
            connection.sendall(struct.pack("!II", 1, len(reason)) + reason)

    return handle


class CDPServer:
    """A tiny HTTP server answering `GET /json/version` like Chromium does."""

    def __init__(self, document: dict[str, Any] | None = None) -> None:
        body = json.dumps(
            document
            if document is not None
            else {
                "Browser": "Chrome/140.0",
                "webSocketDebuggerUrl": "ws://127.0.0.1/devtools/browser/x",
            }
        ).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != "/json/version":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

        self._server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}
        )
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
