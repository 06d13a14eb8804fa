"""The whole lifecycle on a real engine: image, provision, use, teardown."""

import time

import paramiko
from docker import DockerClient
from playwright.sync_api import sync_playwright
from pytest_django.fixtures import Settings

from environments.services import (
    check_container_health,
    check_vnc_connection,
    close_ssh_connection,
    create_ssh_connection,
    ensure_image,
    execute_ssh_command,
    full_verification,
    get_container_info,
    get_playwright_cdp_url,
    image_exists,
    list_containers,
    provision_environment,
    teardown_environment,
    verify_playwright_connection,
)
from environments.services.vnc import authenticate_vnc
from environments.tests.integration.helpers import TEST_PREFIX
from environments.types import ContainerInfo


def test_ensure_image_finds_the_built_image_without_rebuilding(
    docker_client: DockerClient,
) -> None:
    started = time.monotonic()
    reference = ensure_image(docker_client)
    elapsed = time.monotonic() - started

    assert image_exists(docker_client)
    assert reference.endswith(":latest")
    assert elapsed < 5, f"ensure_image took {elapsed:.1f}s with the image present"


def test_provisioned_environment_answers_all_three_protocols(
    environment: ContainerInfo,
) -> None:
    health = check_container_health(environment.ports)

    assert health.all_ok, health.errors
    assert environment.status == "running"
    assert (
        len(
            {
                environment.ports.ssh,
                environment.ports.vnc,
                environment.ports.playwright_cdp,
            }
        )
        == 3
    )


def test_ssh_echo_returns_output_and_zero_exit(ssh: paramiko.SSHClient) -> None:
    result = execute_ssh_command(ssh, "echo hello-from-the-environment")

    assert result.exit_code == 0
    assert result.stdout == "hello-from-the-environment\n"
    assert result.stderr == ""


def test_ssh_uname_reports_linux(ssh: paramiko.SSHClient) -> None:
    result = execute_ssh_command(ssh, "uname -a")

    assert result.exit_code == 0
    assert result.stdout.startswith("Linux ")


def test_ssh_nonzero_exit_is_a_result_with_stderr(ssh: paramiko.SSHClient) -> None:
    result = execute_ssh_command(ssh, "echo oops >&2; exit 7")

    assert result.exit_code == 7
    assert result.stderr == "oops\n"
    assert not result.ok


def test_vnc_greets_and_accepts_the_environment_password(
    environment: ContainerInfo,
) -> None:
    assert environment.credentials is not None

    assert check_vnc_connection(environment.ports)
    assert authenticate_vnc(environment.ports, environment.credentials.vnc_password)


def test_playwright_sets_page_content_and_reads_it_back(
    environment: ContainerInfo,
) -> None:
    url = get_playwright_cdp_url(environment.ports)

    assert url == f"http://127.0.0.1:{environment.ports.playwright_cdp}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.connect_over_cdp(url, timeout=15_000)
        try:
            page = browser.contexts[0].new_page()
            page.set_content("<h1 id='greeting'>Hello, tester</h1>")
            heading = page.inner_text("#greeting")
            width = page.evaluate("() => screen.width")
            page.close()
        finally:
            browser.close()

    assert heading == "Hello, tester"
    assert width == 1920


def test_verify_playwright_connection_is_true(environment: ContainerInfo) -> None:
    assert verify_playwright_connection(environment.ports) is True


def test_full_verification_reports_all_true(
    docker_client: DockerClient, environment: ContainerInfo
) -> None:
    assert full_verification(docker_client, environment) == {
        "ssh": True,
        "vnc": True,
        "playwright": True,
    }


def test_get_container_info_matches_the_provisioned_environment(
    docker_client: DockerClient, environment: ContainerInfo
) -> None:
    info = get_container_info(docker_client, environment.container_id)

    assert info.name == environment.name
    assert info.ports == environment.ports
    assert info.status == "running"
    assert info.credentials is None


def test_teardown_twice_succeeds_and_removes_the_container(
    docker_client: DockerClient,
) -> None:
    info = provision_environment(docker_client, "teardown-twice")

    teardown_environment(docker_client, info.container_id)
    teardown_environment(docker_client, info.container_id)

    assert info.container_id not in [
        c.container_id for c in list_containers(docker_client)
    ]
    assert not docker_client.containers.list(
        all=True, ignore_removed=True, filters={"id": info.container_id}
    )


def test_list_containers_shows_only_this_prefix(
    docker_client: DockerClient,
    environment: ContainerInfo,
    settings: Settings,
) -> None:
    settings.ENV_CONTAINER_PREFIX = "auto-tester-other"
    other = provision_environment(docker_client, "elsewhere")
    try:
        listed_under_other = {c.name for c in list_containers(docker_client)}
        settings.ENV_CONTAINER_PREFIX = TEST_PREFIX
        listed_under_test = {c.name for c in list_containers(docker_client)}
    finally:
        settings.ENV_CONTAINER_PREFIX = "auto-tester-other"
        teardown_environment(docker_client, other.container_id)

    assert listed_under_other == {"auto-tester-other-elsewhere"}
    assert environment.name in listed_under_test
    assert "auto-tester-other-elsewhere" not in listed_under_test


def test_original_call_shapes_work_without_pinned_passwords(
    docker_client: DockerClient, environment: ContainerInfo
) -> None:
    # As in the original design: only the ports, no credentials argument.
    ssh = create_ssh_connection(environment.ports)
    whoami = execute_ssh_command(ssh, "whoami").stdout
    close_ssh_connection(ssh)
    described = get_container_info(docker_client, environment.container_id)

    assert whoami == "root\n"
    assert full_verification(docker_client, described) == {
        "ssh": True,
        "vnc": True,
        "playwright": True,
    }
