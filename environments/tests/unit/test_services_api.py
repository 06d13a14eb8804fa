"""The public API: every name the design promises imports from one place."""

import importlib

import pytest

import environments.services

PROMISED = [
    "get_docker_client",
    "close_docker_client",
    "image_exists",
    "build_image",
    "ensure_image",
    "create_container",
    "get_container_info",
    "remove_container",
    "list_containers",
    "check_container_health",
    "wait_for_container_ready",
    "create_ssh_connection",
    "execute_ssh_command",
    "close_ssh_connection",
    "check_vnc_connection",
    "get_playwright_cdp_url",
    "verify_playwright_connection",
    "provision_environment",
    "teardown_environment",
    "full_verification",
]


@pytest.mark.parametrize("name", PROMISED)
def test_each_promised_function_imports_from_environments_services(
    name: str,
) -> None:
    services = importlib.import_module("environments.services")

    assert callable(getattr(services, name))
    assert name in environments.services.__all__
