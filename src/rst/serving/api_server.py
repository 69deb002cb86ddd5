"""Running the HTTP API: the bind rule (loopback, or a token), the listening socket and uvicorn.

The server binds 127.0.0.1 by default. Binding any other address (``0.0.0.0``, a LAN
address, a host name that is not ``localhost``) exposes the lake beyond this machine,
so it is refused unless a bearer token is set. The socket is bound here, before uvicorn
starts, so the port is known (``--port 0`` picks a free one) and a port in use is a
one-line error rather than a traceback.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import TYPE_CHECKING

from rst.errors import UsageError

if TYPE_CHECKING:
    from fastapi import FastAPI

TOKEN_ENV = "RST_API_TOKEN"


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only: ``localhost`` or a loopback address (127.0.0.0/8, ::1)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def check_bind(host: str, token: str | None) -> None:
    """Refuse a non-loopback ``host`` without a token, and a token that is empty or holds whitespace."""
    if token is not None and (not token or not token.isprintable() or any(c.isspace() for c in token)):
        raise UsageError("--token: must be non-empty, printable and without spaces")
    if not token and not is_loopback(host):
        raise UsageError(
            f"--host {host} is not a loopback address: serving beyond this machine requires a bearer token "
            f"(--token or ${TOKEN_ENV})"
        )


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port`` 0: a free one); a one-line error when it cannot bind."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, _, _, _, address = infos[0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # accepted sockets inherit it: no Nagle delay
        sock.bind(address)
    except OSError as exc:
        raise UsageError(f"--host/--port: cannot listen on {host}:{port} ({exc.strerror or exc})") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    """``http://host:port`` the socket listens on (IPv6 hosts bracketed)."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def run(app: FastAPI, sock: socket.socket, verbose: bool = False) -> None:
    """Serve ``app`` on ``sock`` until interrupted (SIGINT/SIGTERM shut down gracefully)."""
    import uvicorn

    config = uvicorn.Config(app, log_level="info" if verbose else "warning", access_log=verbose, server_header=False)
    uvicorn.Server(config).run(sockets=[sock])
