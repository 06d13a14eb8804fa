"""The management commands end to end, through `call_command`."""

import json
import os
import signal
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from docker import DockerClient
from pytest_django.fixtures import Settings

from environments.services import list_containers
from environments.tests.integration.helpers import TEST_PREFIX


def test_test_environment_verifies_everything_and_removes_its_container(
    docker_client: DockerClient,
) -> None:
    out = StringIO()

    call_command("test_environment", "--name-suffix", "cmd-plain", stdout=out)

    text = out.getvalue()
    assert "All checks passed: SSH, VNC and Playwright verified." in text
    for step in ("Provisioning", "Verifying SSH", "Verifying VNC", "Playwright"):
        assert step in text
    assert "Removing the container ... OK" in text
    assert not [
        c for c in list_containers(docker_client) if c.name.endswith("cmd-plain")
    ]


def test_test_environment_json_reports_steps_results_and_ports(
    docker_client: DockerClient,
) -> None:
    out = StringIO()

    call_command("test_environment", "--json", "--name-suffix", "cmd-json", stdout=out)

    report = json.loads(out.getvalue())
    assert report["ok"] is True
    assert report["results"] == {"ssh": True, "vnc": True, "playwright": True}
    names = [step["name"] for step in report["steps"]]
    assert names == [
        "engine",
        "image",
        "provision",
        "ssh",
        "vnc",
        "playwright",
        "teardown",
    ]
    assert all(step["ok"] and step["seconds"] >= 0 for step in report["steps"])
    ports = report["container"]["ports"]
    assert all(
        isinstance(ports[key], int) and ports[key] > 0 for key in ("ssh", "vnc", "cdp")
    )
    assert report["container"]["cdp_url"] == f"http://127.0.0.1:{ports['cdp']}"
    assert not list_containers(docker_client) or all(
        not c.name.endswith("cmd-json") for c in list_containers(docker_client)
    )


def test_test_environment_no_cleanup_keeps_the_container_and_says_how_to_connect(
    docker_client: DockerClient,
) -> None:
    out = StringIO()

    call_command(
        "test_environment", "--no-cleanup", "--name-suffix", "cmd-keep", stdout=out
    )

    text = out.getvalue()
    kept = [c for c in list_containers(docker_client) if c.name.endswith("cmd-keep")]
    try:
        assert len(kept) == 1 and kept[0].status == "running"
        assert f"ssh -p {kept[0].ports.ssh} root@127.0.0.1" in text
        assert f"127.0.0.1:{kept[0].ports.vnc}" in text
        assert f"http://127.0.0.1:{kept[0].ports.playwright_cdp}" in text
        assert f"docker rm -f {kept[0].name}" in text
    finally:
        call_command("cleanup_environments", stdout=StringIO())
    assert not [
        c for c in list_containers(docker_client) if c.name.endswith("cmd-keep")
    ]


@pytest.mark.parametrize("command", ["test_environment", "cleanup_environments"])
def test_engine_down_is_one_line_naming_docker_host(
    command: str, settings: Settings, tmp_path: Path
) -> None:
    settings.DOCKER_HOST = f"unix://{tmp_path}/nothing-listens.sock"

    with pytest.raises(CommandError) as caught:
        call_command(command, stdout=StringIO(), stderr=StringIO())

    message = str(caught.value)
    assert caught.value.returncode == 3
    assert "\n" not in message
    assert "nothing-listens.sock" in message
    assert "DOCKER_HOST" in message
    assert "dockerd" in message


@pytest.mark.parametrize("command", ["test_environment", "cleanup_environments"])
def test_engine_down_from_the_shell_exits_nonzero_without_traceback(
    command: str, tmp_path: Path
) -> None:
    environment = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/none.sock"}

    completed = subprocess.run(
        [sys.executable, "manage.py", command],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 3
    assert "Traceback" not in completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert "DOCKER_HOST" in lines[0] and "none.sock" in lines[0]


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT])
def test_a_terminated_run_removes_its_container_and_says_so_in_one_line(
    docker_client: DockerClient, signal_number: int
) -> None:
    suffix = f"signal-{signal_number}"
    environment = {**os.environ, "ENV_CONTAINER_PREFIX": TEST_PREFIX}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "test_environment", "--name-suffix", suffix],
        cwd=settings.BASE_DIR,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _names_ending(docker_client, suffix):
        time.sleep(0.05)
    process.send_signal(signal_number)
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == 128 + signal_number
    assert stderr.strip().splitlines() == [
        "CommandError: Interrupted; nothing was left running"
    ]
    assert not _names_ending(docker_client, suffix)


def _names_ending(client: DockerClient, suffix: str) -> list[str]:
    return [
        c.name or ""
        for c in client.containers.list(all=True, ignore_removed=True)
        if (c.name or "").endswith(suffix)
    ]
