"""Errors of the serving side (publish, database queries); all are :class:`rst.errors.RstError`."""

from __future__ import annotations

from rst.errors import RstError, Terminal, Transient


class DatabaseError(RstError, Transient):
    """The database could not be reached or refused a statement for a reason outside the data."""


class PublishError(RstError, Terminal):
    """A lake partition cannot be published as it is (unsupported column, schema change, duplicate key)."""


class NotPublished(RstError, Terminal):
    """The table or series asked for has never been published to this database."""


class PostgresUnavailable(RstError, Terminal):
    """No PostgreSQL server binaries on this machine, or the throwaway server would not start."""
