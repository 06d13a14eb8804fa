"""Unit tests for environments.services.vnc, against loopback RFB servers."""

import socket
from collections.abc import Iterator

import pytest

from environments.services.vnc import (
    authenticate_vnc,
    check_vnc_connection,
    vnc_auth_response,
)
from environments.tests.unit.fakes import (
    LOOPBACK,
    LoopbackServer,
    des_encrypt_for_vnc,
    free_port,
    greet_and_wait,
    rfb_vnc_auth,
)
from environments.types import ContainerPorts

PASSWORD = "Pa55w0rd"


def vnc_ports(port: int) -> ContainerPorts:
    return ContainerPorts(ssh=1, vnc=port, playwright_cdp=3, host=LOOPBACK)


@pytest.fixture
def vnc_auth_server() -> Iterator[LoopbackServer]:
    server = LoopbackServer(rfb_vnc_auth(PASSWORD))
    yield server
    server.stop()


def test_check_vnc_is_true_for_an_rfb_greeting(rfb_server: LoopbackServer) -> None:
    assert check_vnc_connection(vnc_ports(rfb_server.port)) is True


def test_check_vnc_is_false_on_a_refused_port() -> None:
    assert check_vnc_connection(vnc_ports(free_port()), timeout=1) is False


def test_check_vnc_is_false_when_the_port_closes_without_a_greeting(
    silent_server: LoopbackServer,
) -> None:
    assert check_vnc_connection(vnc_ports(silent_server.port), timeout=1) is False


def test_check_vnc_is_false_for_another_protocol(ssh_server: LoopbackServer) -> None:
    assert check_vnc_connection(vnc_ports(ssh_server.port), timeout=1) is False


def test_auth_response_matches_the_published_vncpasswd_vector() -> None:
    # vncpasswd stores DES(password) under a fixed key; "password" is
    # stored as dbd83cfd727a1458. That key, bit-reversed per byte as VNC
    # authentication does, is the one below before reversal.
    fixed_key = bytes([23, 82, 107, 6, 35, 78, 88, 7]).decode("latin-1")

    response = vnc_auth_response(b"password" * 2, fixed_key)

    assert response.hex() == "dbd83cfd727a1458" * 2


def test_auth_response_matches_an_independent_implementation() -> None:
    challenge = bytes.fromhex("00112233445566778899aabbccddeeff")

    assert vnc_auth_response(challenge, PASSWORD) == des_encrypt_for_vnc(
        challenge, PASSWORD
    )


def test_auth_response_uses_only_the_first_eight_characters() -> None:
    challenge = bytes(range(16))

    assert vnc_auth_response(challenge, "12345678") == vnc_auth_response(
        challenge, "12345678-ignored"
    )
    assert vnc_auth_response(challenge, "short") == des_encrypt_for_vnc(
        challenge, "short"
    )


def test_authenticate_vnc_is_true_for_the_right_password(
    vnc_auth_server: LoopbackServer,
) -> None:
    assert authenticate_vnc(vnc_ports(vnc_auth_server.port), PASSWORD) is True


def test_authenticate_vnc_is_false_for_a_wrong_password(
    vnc_auth_server: LoopbackServer,
) -> None:
    assert authenticate_vnc(vnc_ports(vnc_auth_server.port), "wrong") is False


def test_authenticate_vnc_is_false_when_no_password_auth_is_offered() -> None:
    def offer_none_auth_only(connection: socket.socket) -> None:
        connection.sendall(b"RFB 003.008\n")
        connection.recv(12)
        connection.sendall(bytes([1, 1]))  # one method: 1 = None
        connection.recv(1)

    server = LoopbackServer(offer_none_auth_only)
    try:
        assert authenticate_vnc(vnc_ports(server.port), PASSWORD, timeout=1) is False
    finally:
        server.stop()


def test_authenticate_vnc_is_false_when_the_server_refuses_the_connection() -> None:
    reason = b"Too many security failures"

    server = LoopbackServer(
        greet_and_wait(
            b"RFB 003.008\n" + bytes([0]) + len(reason).to_bytes(4, "big") + reason
        )
    )
    try:
        assert authenticate_vnc(vnc_ports(server.port), PASSWORD, timeout=1) is False
    finally:
        server.stop()


def test_authenticate_vnc_is_false_on_a_refused_port() -> None:
    assert authenticate_vnc(vnc_ports(free_port()), PASSWORD, timeout=1) is False
