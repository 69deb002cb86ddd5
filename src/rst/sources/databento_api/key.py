"""The Databento API key: where it comes from, and how it stays out of output.

The key is read from the ``DATABENTO_API_KEY`` environment variable, else from
``config/databento.env`` (a ``KEY=value`` file, relative to the working
directory unless a path is given; the file is gitignored and never committed).

The key is held in an :class:`ApiKey`, whose ``str()`` and ``repr()`` are
redacted, so it cannot reach a log line, an exception message or a rich render
by accident; only :meth:`ApiKey.reveal` returns the secret, and only the client
module calls it. Every key registers itself with :mod:`rst.redaction`, which scrubs
it (and its HTTP Basic form) from error lines, tracebacks, log records and HTTP
bodies before anything is printed or logged, as a second line of defence.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from rst.errors import DownloadError, Terminal
from rst.redaction import REDACTED, redact, register_secret

ENV_VAR: Final = "DATABENTO_API_KEY"
DEFAULT_ENV_FILE: Final = Path("config") / "databento.env"

_HOW_TO: Final = (
    f"set {ENV_VAR} in the environment or put '{ENV_VAR}=db-...' in {DEFAULT_ENV_FILE} "
    "(keys: https://databento.com/portal/keys)"
)


class ApiKeyError(DownloadError, Terminal):
    """The API key is missing, or Databento rejected it (401/403). ``str()`` is one instruction line."""


def missing_key_error(problem: str) -> ApiKeyError:
    """An :class:`ApiKeyError` for ``problem`` followed by how to provide a key."""
    return ApiKeyError(f"Databento API key {problem}: {_HOW_TO}")


class ApiKey:
    """A Databento API key that never shows itself in ``str``/``repr``/format."""

    __slots__ = ("_secret", "source")

    def __init__(self, secret: str, source: str) -> None:
        secret = secret.strip()
        if not secret:
            raise missing_key_error(f"from {source} is empty")
        self._secret = secret
        self.source = source
        register_secret(secret)

    def reveal(self) -> str:
        """The secret itself; pass it to the Databento client and nowhere else."""
        return self._secret

    def __repr__(self) -> str:
        return f"ApiKey({REDACTED}, source={self.source!r})"

    def __str__(self) -> str:
        return REDACTED

    def __format__(self, spec: str) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApiKey) and other._secret == self._secret

    def __hash__(self) -> int:
        return hash(self._secret)

    def redact(self, text: str) -> str:
        """``text`` with the key (raw or in its HTTP Basic base64 form) replaced by ``<redacted>``
        (:func:`rst.redaction.redact`, which knows every registered key)."""
        return redact(text)


def _read_env_file(path: Path) -> str | None:
    """The ``DATABENTO_API_KEY`` value in a ``KEY=value`` file (``#`` comments, optional quotes, ``export``)."""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].strip()
        name, sep, value = line.partition("=")
        if not sep or name.strip() != ENV_VAR:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        return value
    return None


def load_api_key(
    env_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
) -> ApiKey:
    """The API key from ``$DATABENTO_API_KEY``, else from ``env_file`` (default ``config/databento.env``).

    The environment wins so a cron job or CI can override the file. Raises
    :class:`ApiKeyError` (one line, never containing a key) when neither holds a key.
    """
    env = os.environ if environ is None else environ
    from_env = env.get(ENV_VAR)
    if from_env is not None and from_env.strip():
        return ApiKey(from_env, source=f"${ENV_VAR}")
    path = Path(env_file) if env_file is not None else DEFAULT_ENV_FILE
    if env_file is not None and not path.is_file():
        raise missing_key_error(f"file {path} does not exist")
    if path.is_file():
        value = _read_env_file(path)
        if value is None:
            raise missing_key_error(f"is not set in {path}")
        return ApiKey(value, source=str(path))
    raise missing_key_error("not found")
