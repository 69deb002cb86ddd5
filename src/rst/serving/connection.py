"""Opening a PostgreSQL connection: ``--database-url`` or ``$RST_DATABASE_URL``, errors as one line."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from rst.errors import UsageError
from rst.serving.errors import DatabaseError

if TYPE_CHECKING:
    import psycopg

DATABASE_ENV = "RST_DATABASE_URL"


def database_url(option: str | None) -> str:
    """The database URL from ``--database-url`` or ``$RST_DATABASE_URL``; :class:`UsageError` when neither is set."""
    url = option or os.environ.get(DATABASE_ENV)
    if not url:
        raise UsageError(f"--database-url: no database given (pass --database-url or set ${DATABASE_ENV})")
    return url


def connect(conninfo: str, *, autocommit: bool = False) -> psycopg.Connection:
    """A psycopg connection; an unreachable server or bad credentials become :class:`DatabaseError`."""
    import psycopg

    try:
        return psycopg.connect(conninfo, autocommit=autocommit, connect_timeout=10)
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseError(f"cannot connect to the database: {first}") from None
