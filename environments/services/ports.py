"""Reading the host ports Docker published for an environment.

Docker reports each container port as a list of bindings. The list may hold
an IPv4 and an IPv6 binding (sometimes with different host ports), or be
missing or empty for a moment right after the container starts. We pick the
binding on the configured bind address, falling back to IPv4, and wait with a
deadline until all three ports are there.
"""

import ipaddress
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from environments.types import ContainerPorts

logger = logging.getLogger(__name__)

SSH_PORT = "22/tcp"
VNC_PORT = "5900/tcp"
CDP_PORT = "9222/tcp"
CONTAINER_PORTS = (SSH_PORT, VNC_PORT, CDP_PORT)

PortBindings = Mapping[str, Sequence[Mapping[str, Any]] | None]


def parse_port_mapping(
    bindings: PortBindings | None, *, bind_address: str, connect_host: str
) -> ContainerPorts | None:
    """Return the mapped ports, or None while any of the three is missing."""
    ports = [_host_port(bindings or {}, key, bind_address) for key in CONTAINER_PORTS]
    if not all(ports):
        return None
    ssh, vnc, cdp = ports
    return ContainerPorts(ssh=ssh, vnc=vnc, playwright_cdp=cdp, host=connect_host)


def unmapped_ports(connect_host: str) -> ContainerPorts:
    """Ports of a container that publishes none (it is not running)."""
    return ContainerPorts(ssh=0, vnc=0, playwright_cdp=0, host=connect_host)


def wait_for_port_mapping(
    read_bindings: Callable[[], PortBindings | None],
    *,
    bind_address: str,
    connect_host: str,
    timeout: float,
) -> ContainerPorts | None:
    """Poll `read_bindings` until all ports are mapped; None when time runs out."""
    deadline = time.monotonic() + timeout
    pause = 0.01
    while True:
        ports = parse_port_mapping(
            read_bindings(), bind_address=bind_address, connect_host=connect_host
        )
        if ports is not None or time.monotonic() >= deadline:
            return ports
        logger.debug("ports not mapped yet; retrying in %.2fs", pause)
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def _host_port(bindings: PortBindings, key: str, bind_address: str) -> int:
    candidates = [b for b in bindings.get(key) or () if str(b.get("HostPort", ""))]
    if not candidates:
        return 0

    def preference(binding: Mapping[str, Any]) -> int:
        host_ip = str(binding.get("HostIp", ""))
        if host_ip == bind_address:
            return 0
        return 1 if _is_ipv4(host_ip) else 2

    best = min(candidates, key=preference)
    try:
        return int(best["HostPort"])
    except (TypeError, ValueError):
        return 0


def _is_ipv4(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).version == 4
    except ValueError:
        return False
