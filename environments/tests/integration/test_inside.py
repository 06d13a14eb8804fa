"""Behaviour inside a running environment: recovery, limits, SSH at scale."""

import time
from collections.abc import Iterator

import paramiko
import pytest
from docker import DockerClient

from environments.config import load_config
from environments.exceptions import SSHCommandTimeoutError
from environments.services import (
    check_container_health,
    close_ssh_connection,
    create_ssh_connection,
    execute_ssh_command,
    get_container_info,
    provision_environment,
    teardown_environment,
    verify_playwright_connection,
    wait_for_container_ready,
)
from environments.types import ContainerInfo

UNWANTED_PROCESSES = (
    "xscreensaver",
    "xfce4-screensaver",
    "light-locker",
    "xfce4-power-manager",
    "gnome-screensaver",
    "xautolock",
    "xss-lock",
)


@pytest.fixture
def own_environment(docker_client: DockerClient) -> Iterator[ContainerInfo]:
    """An environment a test may damage."""
    info = provision_environment(docker_client, "damaged")
    yield info
    teardown_environment(docker_client, info.container_id)


def test_killed_chromium_is_restarted_and_cdp_answers_again(
    docker_client: DockerClient, own_environment: ContainerInfo
) -> None:
    container = docker_client.containers.get(own_environment.container_id)
    browser_pids = ["pgrep", "-o", "-f", "^/usr/lib/chromium/chromium"]
    before = _output(container.exec_run(browser_pids).output)

    killed = container.exec_run(["pkill", "-9", "-f", "/usr/lib/chromium/chromium"])
    time.sleep(0.5)
    wait_for_container_ready(own_environment.ports, timeout=30)
    after = _output(container.exec_run(browser_pids).output)

    assert killed.exit_code == 0
    assert before and after and before != after, (before, after)
    assert verify_playwright_connection(own_environment.ports)


def _output(output: bytes | Iterator[bytes]) -> bytes:
    # exec_run gives bytes unless asked to stream.
    assert isinstance(output, bytes)
    return output.strip()


def test_docker_restart_brings_ssh_vnc_and_cdp_back(
    docker_client: DockerClient, own_environment: ContainerInfo
) -> None:
    docker_client.containers.get(own_environment.container_id).restart(timeout=0)
    info = get_container_info(docker_client, own_environment.container_id)

    health = wait_for_container_ready(
        info.ports, timeout=30, client=docker_client, container_id=info.container_id
    )
    ssh = create_ssh_connection(info.ports, credentials=own_environment.credentials)
    whoami = execute_ssh_command(ssh, "whoami").stdout
    close_ssh_connection(ssh)

    assert health.all_ok
    assert whoami == "root\n"
    assert verify_playwright_connection(info.ports)


def test_dev_shm_has_the_configured_size(ssh: paramiko.SSHClient) -> None:
    result = execute_ssh_command(ssh, "df --output=size -B1 /dev/shm | tail -n 1")

    assert load_config().shm_size == "1g"
    assert int(result.stdout.strip()) == 1024**3


def test_memory_and_process_limits_are_applied(
    docker_client: DockerClient, environment: ContainerInfo
) -> None:
    host_config = docker_client.api.inspect_container(environment.container_id)[
        "HostConfig"
    ]

    assert host_config["Memory"] == 2 * 1024**3
    assert host_config["PidsLimit"] == 2048
    assert host_config["ShmSize"] == 1024**3


def test_command_past_its_timeout_is_reported_and_connection_stays_usable(
    ssh: paramiko.SSHClient,
) -> None:
    started = time.monotonic()
    with pytest.raises(SSHCommandTimeoutError) as caught:
        execute_ssh_command(ssh, "echo started; sleep 30", timeout=1)
    elapsed = time.monotonic() - started

    assert elapsed < 5
    assert caught.value.stdout == "started\n"
    assert execute_ssh_command(ssh, "echo still-usable").stdout == "still-usable\n"


def test_a_command_that_reads_stdin_gets_end_of_file(ssh: paramiko.SSHClient) -> None:
    result = execute_ssh_command(ssh, "cat; echo after-input", timeout=10)

    assert result.stdout == "after-input\n"


def test_a_timed_out_command_is_ended_on_the_remote_side(
    ssh: paramiko.SSHClient,
) -> None:
    with pytest.raises(SSHCommandTimeoutError):
        execute_ssh_command(ssh, "sleep 37", timeout=1)
    time.sleep(2.5)  # the remote side gives up one second after us

    left = execute_ssh_command(ssh, "pgrep -f 'slee[p] 37' || echo none")

    assert left.stdout == "none\n"


def test_megabytes_on_stdout_and_stderr_at_once_are_read(
    ssh: paramiko.SSHClient,
) -> None:
    command = (
        "head -c 4000000 /dev/zero | tr '\\0' o & "
        "head -c 3000000 /dev/zero | tr '\\0' e >&2; wait"
    )

    result = execute_ssh_command(ssh, command, timeout=60)

    assert result.exit_code == 0
    assert len(result.stdout) == 4_000_000 and set(result.stdout) == {"o"}
    assert len(result.stderr) == 3_000_000 and set(result.stderr) == {"e"}


def test_output_that_is_not_utf8_is_decoded_with_replacement(
    ssh: paramiko.SSHClient,
) -> None:
    result = execute_ssh_command(ssh, "printf 'ok\\377\\376end'")

    assert result.stdout == "ok\ufffd\ufffdend"


def test_no_screensaver_locker_or_power_manager_runs(
    environment: ContainerInfo, ssh: paramiko.SSHClient
) -> None:
    time.sleep(1)  # give anything autostarted by the desktop a chance to appear
    processes = execute_ssh_command(ssh, "ps -eo args").stdout

    assert "xfwm4" in processes  # the desktop is there
    for name in UNWANTED_PROCESSES:
        assert name not in processes, f"{name} is running"
    assert check_container_health(environment.ports).all_ok


# Windows expected on a fresh desktop: the panel, the desktop background and
# Chromium's own window. Anything else (a welcome dialog, an error box, a
# "restore pages" prompt) is something an agent would have to click away.
EXPECTED_WINDOW_CLASSES = {"xfce4-panel", "xfdesktop", "chromium"}
LIST_WINDOWS = (
    "for id in $(xprop -root _NET_CLIENT_LIST | grep -o '0x[0-9a-f]*'); do "
    "xprop -id $id WM_CLASS _NET_WM_WINDOW_TYPE | tr '\\n' ' '; echo; done"
)


def test_no_dialog_is_on_screen_after_start(
    docker_client: DockerClient, own_environment: ContainerInfo
) -> None:
    ssh = create_ssh_connection(
        own_environment.ports, credentials=own_environment.credentials
    )
    try:
        windows: list[str] = []
        deadline = time.monotonic() + 15
        # The desktop's programs map their windows shortly after start.
        while time.monotonic() < deadline:
            windows = execute_ssh_command(ssh, LIST_WINDOWS).stdout.splitlines()
            if (
                sum("Chromium" in w or "chromium" in w for w in windows)
                and len(windows) >= 3
            ):
                break
            time.sleep(0.5)
        time.sleep(2)  # a dialog would come up within this grace
        windows = execute_ssh_command(ssh, LIST_WINDOWS).stdout.splitlines()
    finally:
        close_ssh_connection(ssh)

    assert windows, "no windows listed"
    for window in windows:
        assert "DIALOG" not in window, window
        assert any(f'"{name}"' in window.lower() for name in EXPECTED_WINDOW_CLASSES), (
            window
        )
