"""Unit tests for environments.types: the frozen results."""

import dataclasses

import pytest

from environments.types import (
    ContainerInfo,
    ContainerPorts,
    Credentials,
    HealthCheckResult,
    SSHResult,
)

SSH_SECRET = "ssh-Secret-4711"
VNC_SECRET = "vnc-S3cr"


def make_credentials() -> Credentials:
    return Credentials(
        ssh_user="root", ssh_password=SSH_SECRET, vnc_password=VNC_SECRET
    )


def test_results_are_frozen() -> None:
    ports = ContainerPorts(ssh=1, vnc=2, playwright_cdp=3)

    with pytest.raises(dataclasses.FrozenInstanceError):
        ports.ssh = 22  # type: ignore[misc]  # misc: frozen, on purpose


def test_credentials_are_frozen() -> None:
    credentials = make_credentials()

    with pytest.raises(dataclasses.FrozenInstanceError):
        credentials.ssh_password = "x"  # type: ignore[misc]  # misc: frozen, on purpose


def test_health_result_is_all_ok_only_when_every_service_is() -> None:
    assert HealthCheckResult(ssh_ok=True, vnc_ok=True, playwright_ok=True).all_ok
    assert not HealthCheckResult(ssh_ok=True, vnc_ok=False, playwright_ok=True).all_ok


def test_health_result_names_the_services_not_ready_in_order() -> None:
    result = HealthCheckResult(ssh_ok=False, vnc_ok=True, playwright_ok=False)

    assert result.not_ready == ("ssh", "playwright")


def test_health_result_with_everything_up_has_nothing_not_ready() -> None:
    result = HealthCheckResult(ssh_ok=True, vnc_ok=True, playwright_ok=True)

    assert result.not_ready == ()


def test_credentials_repr_masks_both_passwords() -> None:
    shown = repr(make_credentials())

    assert SSH_SECRET not in shown
    assert VNC_SECRET not in shown
    assert "root" in shown


def test_container_info_repr_does_not_show_passwords() -> None:
    info = ContainerInfo(
        container_id="abc",
        name="auto-tester-env-a",
        ports=ContainerPorts(ssh=1, vnc=2, playwright_cdp=3),
        status="running",
        credentials=make_credentials(),
    )

    shown = repr(info)

    assert SSH_SECRET not in shown
    assert VNC_SECRET not in shown
    assert "auto-tester-env-a" in shown


def test_credentials_str_does_not_show_passwords() -> None:
    shown = f"{make_credentials()}"

    assert SSH_SECRET not in shown
    assert VNC_SECRET not in shown


@pytest.mark.parametrize(("exit_code", "ok"), [(0, True), (1, False), (-1, False)])
def test_ssh_result_is_ok_only_for_exit_code_zero(exit_code: int, ok: bool) -> None:
    assert SSHResult(exit_code=exit_code, stdout="", stderr="").ok is ok


@pytest.mark.parametrize(
    ("ssh", "vnc", "cdp", "mapped"),
    [(1, 2, 3, True), (0, 2, 3, False), (1, 0, 3, False), (1, 2, 0, False)],
)
def test_ports_are_mapped_only_when_all_three_are_published(
    ssh: int, vnc: int, cdp: int, mapped: bool
) -> None:
    assert ContainerPorts(ssh=ssh, vnc=vnc, playwright_cdp=cdp).is_mapped is mapped


def test_ports_default_to_the_ipv4_loopback_host() -> None:
    assert ContainerPorts(ssh=1, vnc=2, playwright_cdp=3).host == "127.0.0.1"
