"""Unit tests for environments.services.health, against loopback servers."""

import threading
import time
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
import requests
from pytest_django import Settings

from environments.exceptions import (
    ContainerExitedError,
    DockerEngineUnavailableError,
    EnvironmentNotReadyError,
    InvalidValueError,
    ProvisioningCancelledError,
)
from environments.services import health
from environments.services.health import (
    check_container_health,
    probe_cdp,
    probe_ssh,
    probe_vnc,
    wait_for_container_ready,
)
from environments.tests.unit.fakes import (
    LOOPBACK,
    CDPServer,
    FakeContainer,
    FakeDockerClient,
    LoopbackServer,
    as_docker_client,
    free_port,
)
from environments.types import ContainerPorts


def ports_of(ssh: int, vnc: int, cdp: int) -> ContainerPorts:
    return ContainerPorts(ssh=ssh, vnc=vnc, playwright_cdp=cdp, host=LOOPBACK)


def test_all_services_answering_their_protocol_are_ok(
    ssh_server: LoopbackServer, rfb_server: LoopbackServer, cdp_server: CDPServer
) -> None:
    result = check_container_health(
        ports_of(ssh_server.port, rfb_server.port, cdp_server.port)
    )

    assert result.all_ok
    assert result.errors == ()


def test_a_port_that_accepts_and_closes_is_not_ready(
    silent_server: LoopbackServer,
) -> None:
    port = silent_server.port

    result = check_container_health(ports_of(port, port, port), timeout=1)

    assert not result.all_ok
    assert result.not_ready == ("ssh", "vnc", "playwright")
    errors = dict(result.errors)
    assert "closed before the service answered" in errors["ssh"]
    assert "closed before the service answered" in errors["vnc"]
    assert errors["playwright"].startswith("CDP:")


def test_a_refused_port_is_not_ready_with_the_reason() -> None:
    assert "ConnectionRefusedError" in probe_ssh(LOOPBACK, free_port(), 1)


def test_an_unpublished_port_is_reported_without_probing(
    ssh_server: LoopbackServer, rfb_server: LoopbackServer
) -> None:
    result = check_container_health(ports_of(ssh_server.port, rfb_server.port, 0))

    assert result.not_ready == ("playwright",)
    assert dict(result.errors)["playwright"] == "playwright: port not published"


def test_a_wrong_greeting_is_not_taken_for_the_service(
    rfb_server: LoopbackServer,
) -> None:
    error = probe_ssh(LOOPBACK, rfb_server.port, 1)

    assert "unexpected greeting" in error
    assert "RFB" in error


def test_an_old_ssh_protocol_banner_is_not_ready() -> None:
    server = LoopbackServer(lambda c: c.sendall(b"SSH-1.5-old\r\n"))
    try:
        assert probe_ssh(LOOPBACK, server.port, 1) != ""
    finally:
        server.stop()


def test_vnc_probe_accepts_an_rfb_greeting(rfb_server: LoopbackServer) -> None:
    assert probe_vnc(LOOPBACK, rfb_server.port, 1) == ""


def test_cdp_without_a_debugger_url_is_not_ready() -> None:
    server = CDPServer({"Browser": "Chrome/140.0"})
    try:
        error = probe_cdp(LOOPBACK, server.port, 1)
    finally:
        server.stop()

    assert "webSocketDebuggerUrl" in error


def test_wait_returns_the_result_once_all_services_answer(
    ssh_server: LoopbackServer, rfb_server: LoopbackServer, cdp_server: CDPServer
) -> None:
    result = wait_for_container_ready(
        ports_of(ssh_server.port, rfb_server.port, cdp_server.port), 5, 1
    )

    assert result.all_ok


def test_wait_times_out_naming_the_services_not_ready(
    ssh_server: LoopbackServer, silent_server: LoopbackServer
) -> None:
    ports = ports_of(ssh_server.port, silent_server.port, free_port())

    started = time.monotonic()
    with pytest.raises(EnvironmentNotReadyError) as caught:
        wait_for_container_ready(ports, timeout=0.3, interval=0.1)
    waited = time.monotonic() - started

    assert caught.value.not_ready == ("vnc", "playwright")
    assert 0.3 <= caught.value.waited < 2
    assert waited < 2
    assert "vnc, playwright did not answer" in str(caught.value)
    assert "VNC: connection closed" in caught.value.last_error


def test_wait_timeout_attaches_the_container_log_tail(
    fake_client: FakeDockerClient,
) -> None:
    fake_client.containers.add(
        FakeContainer(container_id="c1", status="running", logs=b"Xvnc: waiting\n")
    )
    port = free_port()

    with pytest.raises(EnvironmentNotReadyError) as caught:
        wait_for_container_ready(
            ports_of(port, port, port),
            0.1,
            0.05,
            client=as_docker_client(fake_client),
            container_id="c1",
        )

    assert not isinstance(caught.value, ContainerExitedError)
    assert caught.value.log_tail == "Xvnc: waiting"


def test_a_container_that_exited_fails_the_wait_at_once_with_its_logs(
    fake_client: FakeDockerClient,
) -> None:
    container = FakeContainer(
        container_id="c1", status="exited", logs=b"supervisord: sshd FATAL\n"
    )
    container.attrs["State"]["ExitCode"] = 137
    fake_client.containers.add(container)
    port = free_port()

    started = time.monotonic()
    with pytest.raises(ContainerExitedError) as caught:
        wait_for_container_ready(
            ports_of(port, port, port),
            30,
            1,
            client=as_docker_client(fake_client),
            container_id="c1",
        )

    assert time.monotonic() - started < 2
    assert caught.value.log_tail == "supervisord: sshd FATAL"
    assert "exit code 137" in str(caught.value)


def test_a_container_removed_during_the_wait_fails_it_at_once(
    fake_client: FakeDockerClient,
) -> None:
    port = free_port()

    with pytest.raises(ContainerExitedError, match="was removed"):
        wait_for_container_ready(
            ports_of(port, port, port),
            30,
            1,
            client=as_docker_client(fake_client),
            container_id="gone",
        )


class FakeClock:
    """Stands in for the `time` module inside health: pauses advance the clock."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.pauses: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(health, "time", fake)
    return fake


def answering(*answers: str) -> tuple[Callable[[str, int, float], str], list[str]]:
    """A probe giving `answers` in turn (then ""), and the log of its calls."""
    calls: list[str] = []
    pending = list(answers)

    def probe(host: str, port: int, timeout: float) -> str:
        calls.append(f"{host}:{port}")
        return pending.pop(0) if pending else ""

    return probe, calls


def test_the_first_probe_happens_before_any_pause(
    monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    ssh_probe, ssh_calls = answering("SSH: not yet")
    monkeypatch.setitem(health._PROBES, "ssh", (ssh_probe, "ssh"))
    monkeypatch.setitem(health._PROBES, "vnc", (answering()[0], "vnc"))
    monkeypatch.setitem(
        health._PROBES, "playwright", (answering()[0], "playwright_cdp")
    )

    result = wait_for_container_ready(ports_of(1, 2, 3), timeout=60, interval=2)

    assert result.all_ok
    assert ssh_calls == ["127.0.0.1:1", "127.0.0.1:1"]
    assert clock.pauses == [health.FIRST_PAUSE]


def test_services_that_answered_are_not_probed_again(
    monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    ssh_probe, ssh_calls = answering("down", "down")
    vnc_probe, vnc_calls = answering()
    monkeypatch.setitem(health._PROBES, "ssh", (ssh_probe, "ssh"))
    monkeypatch.setitem(health._PROBES, "vnc", (vnc_probe, "vnc"))
    monkeypatch.setitem(
        health._PROBES, "playwright", (answering()[0], "playwright_cdp")
    )

    wait_for_container_ready(ports_of(1, 2, 3), timeout=60, interval=2)

    assert len(ssh_calls) == 3
    assert len(vnc_calls) == 1


def test_pauses_back_off_up_to_the_interval_and_stop_at_the_deadline(
    monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    monkeypatch.setitem(health._PROBES, "ssh", (lambda h, p, t: "down", "ssh"))

    with pytest.raises(EnvironmentNotReadyError) as caught:
        wait_for_container_ready(ports_of(1, 2, 3), timeout=2, interval=0.3)

    assert clock.pauses[:3] == [0.05, 0.1, 0.2]
    assert max(clock.pauses) == pytest.approx(0.3)
    assert sum(clock.pauses) == pytest.approx(2)
    assert caught.value.waited == pytest.approx(2)


def test_wait_uses_the_settings_when_no_timeout_is_given(
    settings: Settings, clock: FakeClock
) -> None:
    settings.ENV_HEALTH_CHECK_TIMEOUT = "7"
    port = free_port()

    with pytest.raises(EnvironmentNotReadyError) as caught:
        wait_for_container_ready(ports_of(port, port, port))

    assert caught.value.waited == pytest.approx(7)
    assert max(clock.pauses) <= 2


@pytest.mark.parametrize("bad", [0, -1, "soon"])
def test_wait_rejects_a_timeout_that_is_not_positive(bad: Any) -> None:
    with pytest.raises(InvalidValueError, match=r"^timeout"):
        wait_for_container_ready(ports_of(1, 2, 3), timeout=bad)


def test_wait_records_when_each_service_first_answered(
    monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    monkeypatch.setitem(health._PROBES, "ssh", (answering()[0], "ssh"))
    monkeypatch.setitem(health._PROBES, "vnc", (answering("down")[0], "vnc"))
    monkeypatch.setitem(
        health._PROBES, "playwright", (answering()[0], "playwright_cdp")
    )
    timings: dict[str, float] = {}

    wait_for_container_ready(ports_of(1, 2, 3), 60, 2, timings=timings)

    assert timings == {
        "ssh": 1000.0,
        "playwright": 1000.0,
        "vnc": 1000.0 + health.FIRST_PAUSE,
    }


def test_an_engine_lost_during_the_wait_names_the_configured_host(
    settings: Settings,
) -> None:
    settings.DOCKER_HOST = "tcp://127.0.0.1:2375"
    client = mock.Mock()
    client.containers.get.side_effect = requests.exceptions.ConnectionError("reset")
    port = free_port()

    with pytest.raises(DockerEngineUnavailableError) as caught:
        wait_for_container_ready(
            ports_of(port, port, port), 5, 1, client=client, container_id="c1"
        )

    assert caught.value.docker_host == "tcp://127.0.0.1:2375"


def test_a_cancelled_wait_stops_before_probing_again() -> None:
    ports = ports_of(free_port(), free_port(), free_port())
    cancel = threading.Event()
    cancel.set()
    started = time.monotonic()

    with pytest.raises(ProvisioningCancelledError):
        wait_for_container_ready(ports, timeout=30, interval=1, cancel=cancel)

    assert time.monotonic() - started < 1
