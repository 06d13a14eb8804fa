"""Unit tests for environments.services.ports: reading Docker's port bindings."""

import time
from typing import Any

import pytest

from environments.services.ports import (
    parse_port_mapping,
    unmapped_ports,
    wait_for_port_mapping,
)
from environments.tests.unit.fakes import port_bindings
from environments.types import ContainerPorts

ANY_IPV4 = "0.0.0.0"  # noqa: S104 - as Docker reports it; nothing binds here


def parse(bindings: Any, bind_address: str = "127.0.0.1") -> ContainerPorts | None:
    return parse_port_mapping(
        bindings, bind_address=bind_address, connect_host="127.0.0.1"
    )


def test_all_three_ports_on_the_bind_address_are_read() -> None:
    ports = parse(port_bindings(ssh=40022, vnc=45900, cdp=49222))

    assert ports == ContainerPorts(
        ssh=40022, vnc=45900, playwright_cdp=49222, host="127.0.0.1"
    )


def test_ipv4_and_ipv6_with_different_host_ports_picks_the_bind_address() -> None:
    bindings = port_bindings(ssh=40022, vnc=45900, cdp=49222, host_ip=ANY_IPV4)
    for key, offset in (("22/tcp", 1), ("5900/tcp", 2), ("9222/tcp", 3)):
        bindings[key].insert(0, {"HostIp": "::", "HostPort": str(50000 + offset)})

    ports = parse(bindings, bind_address=ANY_IPV4)

    assert ports is not None
    assert (ports.ssh, ports.vnc, ports.playwright_cdp) == (40022, 45900, 49222)


def test_without_a_binding_on_the_bind_address_ipv4_wins_over_ipv6() -> None:
    bindings = {
        key: [
            {"HostIp": "::", "HostPort": "50001"},
            {"HostIp": ANY_IPV4, "HostPort": "40001"},
        ]
        for key in ("22/tcp", "5900/tcp", "9222/tcp")
    }

    ports = parse(bindings, bind_address="127.0.0.1")

    assert ports is not None
    assert ports.ssh == 40001


def test_only_ipv6_bindings_are_used_when_nothing_else_exists() -> None:
    bindings = port_bindings(ssh=50022, vnc=55900, cdp=59222, host_ip="::")

    ports = parse(bindings, bind_address="127.0.0.1")

    assert ports is not None
    assert (ports.ssh, ports.vnc, ports.playwright_cdp) == (50022, 55900, 59222)


def test_the_connect_host_is_passed_through() -> None:
    ports = parse_port_mapping(
        port_bindings(), bind_address="127.0.0.1", connect_host="192.0.2.1"
    )

    assert ports is not None
    assert ports.host == "192.0.2.1"


def test_a_missing_port_key_means_not_mapped_yet() -> None:
    bindings = port_bindings()
    del bindings["9222/tcp"]

    assert parse(bindings) is None


@pytest.mark.parametrize("empty", [None, []])
def test_a_port_key_with_no_bindings_means_not_mapped_yet(empty: Any) -> None:
    bindings: dict[str, Any] = dict(port_bindings())
    bindings["5900/tcp"] = empty

    assert parse(bindings) is None


def test_an_empty_host_port_means_not_mapped_yet() -> None:
    bindings = port_bindings()
    bindings["22/tcp"] = [{"HostIp": "127.0.0.1", "HostPort": ""}]

    assert parse(bindings) is None


@pytest.mark.parametrize("payload", [None, {}])
def test_no_port_information_at_all_means_not_mapped(payload: Any) -> None:
    assert parse(payload) is None


def test_unmapped_ports_are_zero_on_the_connect_host() -> None:
    ports = unmapped_ports("::1")

    assert ports == ContainerPorts(ssh=0, vnc=0, playwright_cdp=0, host="::1")
    assert not ports.is_mapped


def test_wait_returns_as_soon_as_the_ports_appear() -> None:
    answers: list[Any] = [None, {}, port_bindings(ssh=41000)]
    calls = 0

    def read_bindings() -> Any:
        nonlocal calls
        calls += 1
        return answers[min(calls, len(answers)) - 1]

    ports = wait_for_port_mapping(
        read_bindings, bind_address="127.0.0.1", connect_host="127.0.0.1", timeout=5
    )

    assert ports is not None
    assert ports.ssh == 41000
    assert calls == 3


def test_wait_gives_none_at_its_deadline() -> None:
    calls = 0

    def read_bindings() -> Any:
        nonlocal calls
        calls += 1
        return None

    started = time.monotonic()
    ports = wait_for_port_mapping(
        read_bindings, bind_address="127.0.0.1", connect_host="127.0.0.1", timeout=0.15
    )
    waited = time.monotonic() - started

    assert ports is None
    assert calls >= 2
    assert 0.15 <= waited < 1.0
