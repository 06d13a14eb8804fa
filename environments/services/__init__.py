"""Public API of the environments app.

Other apps import from here: `from environments.services import X`. Each
function takes a docker-py client first (where it needs one) and returns
frozen dataclasses from `environments.types`.
"""

from environments.services.browser import (
    get_playwright_cdp_url,
    verify_playwright_connection,
)
from environments.services.client import close_docker_client, get_docker_client
from environments.services.containers import (
    create_container,
    get_container_info,
    list_containers,
    remove_container,
)
from environments.services.credentials import generate_credentials
from environments.services.health import (
    check_container_health,
    wait_for_container_ready,
)
from environments.services.images import build_image, ensure_image, image_exists
from environments.services.orchestration import (
    cleanup_environments,
    full_verification,
    provision_environment,
    provision_environments,
    teardown_environment,
)
from environments.services.ssh import (
    close_ssh_connection,
    create_ssh_connection,
    execute_ssh_command,
)
from environments.services.vnc import authenticate_vnc, check_vnc_connection

__all__ = [
    "authenticate_vnc",
    "build_image",
    "check_container_health",
    "check_vnc_connection",
    "cleanup_environments",
    "close_docker_client",
    "close_ssh_connection",
    "create_container",
    "create_ssh_connection",
    "ensure_image",
    "execute_ssh_command",
    "full_verification",
    "generate_credentials",
    "get_container_info",
    "get_docker_client",
    "get_playwright_cdp_url",
    "image_exists",
    "list_containers",
    "provision_environment",
    "provision_environments",
    "remove_container",
    "teardown_environment",
    "verify_playwright_connection",
    "wait_for_container_ready",
]
