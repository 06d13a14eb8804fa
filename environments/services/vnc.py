"""Checking an environment's VNC server (RFB protocol).

`check_vnc_connection` reads the server's greeting; `authenticate_vnc` goes
through VNC password authentication, which proves the password is accepted
(or refused).
"""

import logging
import socket
import struct

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from environments.types import ContainerPorts

logger = logging.getLogger(__name__)

VNC_TIMEOUT = 5.0
RFB_VERSION = b"RFB 003.008\n"
SECURITY_VNC_AUTH = 2


def check_vnc_connection(
    ports: ContainerPorts, *, timeout: float = VNC_TIMEOUT
) -> bool:
    """Whether the VNC server answers with an RFB greeting."""
    try:
        with socket.create_connection((ports.host, ports.vnc), timeout=timeout) as sock:
            greeting = sock.recv(12)
    except OSError as error:
        logger.info("VNC on %s:%s unreachable: %s", ports.host, ports.vnc, error)
        return False
    if not greeting.startswith(b"RFB "):
        logger.info(
            "VNC on %s:%s sent no RFB greeting: %r", ports.host, ports.vnc, greeting
        )
        return False
    return True


def authenticate_vnc(
    ports: ContainerPorts, password: str, *, timeout: float = VNC_TIMEOUT
) -> bool:
    """Log in with VNC password authentication; True when the server accepts.

    The server must offer VNC authentication; a refused password, a server
    that offers no such method, or a broken connection give False.
    """
    try:
        with socket.create_connection((ports.host, ports.vnc), timeout=timeout) as sock:
            return _vnc_auth_handshake(sock, password)
    except (OSError, ConnectionError, struct.error) as error:
        logger.info(
            "VNC authentication on %s:%s failed: %s", ports.host, ports.vnc, error
        )
        return False


def vnc_auth_response(challenge: bytes, password: str) -> bytes:
    """Encrypt the server's 16-byte challenge as VNC authentication requires.

    VNC uses DES with the password (cut or padded to 8 bytes) as key, each
    key byte's bits reversed. Triple DES with the key three times over is DES.
    """
    key = password.encode("latin-1", errors="replace")[:8].ljust(8, b"\0")
    key = bytes(int(f"{byte:08b}"[::-1], 2) for byte in key)
    # RFB prescribes DES in ECB mode (S305: ECB is insecure in general).
    encryptor = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()  # noqa: S305
    return encryptor.update(challenge) + encryptor.finalize()


def _vnc_auth_handshake(sock: socket.socket, password: str) -> bool:
    greeting = _receive(sock, 12)
    if not greeting.startswith(b"RFB 003."):
        logger.info("no RFB greeting: %r", greeting)
        return False
    sock.sendall(RFB_VERSION)

    (count,) = struct.unpack("!B", _receive(sock, 1))
    if count == 0:
        logger.info("VNC server refused the connection: %s", _read_reason(sock))
        return False
    offered = _receive(sock, count)
    if SECURITY_VNC_AUTH not in offered:
        logger.info("VNC server offers no password authentication: %r", list(offered))
        return False
    sock.sendall(bytes([SECURITY_VNC_AUTH]))

    challenge = _receive(sock, 16)
    sock.sendall(vnc_auth_response(challenge, password))
    (status,) = struct.unpack("!I", _receive(sock, 4))
    if status != 0:
        logger.info("VNC server refused the password: %s", _read_reason(sock))
        return False
    return True


def _read_reason(sock: socket.socket) -> str:
    try:
        (length,) = struct.unpack("!I", _receive(sock, 4))
        return _receive(sock, min(length, 1024)).decode("utf-8", errors="replace")
    except (OSError, ConnectionError, struct.error):
        return "(no reason given)"


def _receive(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the VNC server closed the connection")
        data += chunk
    return data
