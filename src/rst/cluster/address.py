"""Validate a Dask scheduler address (``--scheduler``) at the boundary, without importing Dask."""

from __future__ import annotations

import re

from rst.errors import UsageError
from rst.validation import shown

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_IPV4 = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}"
_IPV6 = r"\[[0-9A-Fa-f:.]{2,45}\]"
_ADDRESS = re.compile(rf"tcp://(?P<host>{_IPV4}|{_IPV6}|{_LABEL}(?:\.{_LABEL})*):(?P<port>[1-9]\d{{0,4}})")


def validate_scheduler(value: str, param: str) -> str:
    """``tcp://HOST:PORT`` (host name, IPv4 or ``[IPv6]``; port 1-65535), matched whole; returned as given.

    Only ``tcp://``: rst speaks plain TCP to a scheduler on a trusted network (see docs/SCALING.md).
    """
    match = _ADDRESS.fullmatch(value) if isinstance(value, str) else None
    host = match["host"] if match else ""
    numeric_name = host.rsplit(".", 1)[-1].isdigit() and not re.fullmatch(_IPV4, host)  # 999.1.1.1
    if match is None or not 1 <= int(match["port"]) <= 65535 or len(host) > 253 or numeric_name:
        raise UsageError(f"{param}: {shown(value)} is not a Dask scheduler address (tcp://HOST:PORT)")
    return value
