"""Secrets never reach output: one redaction function for messages, tracebacks and log records.

Every secret the process holds (the Databento API key; :class:`rst.sources.databento_api.key.ApiKey`
registers itself on creation) is kept in a process-wide set. :func:`redact` replaces each
secret, its HTTP Basic form (``base64("<key>:")``, what an ``Authorization`` header carries)
and the value of any ``Authorization`` header written out in text, with ``<redacted>``.

It is applied at the boundaries where text leaves the process: the CLI's error line and
``--verbose`` traceback (:func:`format_exception`), the uncaught-exception hook
(:func:`install_excepthook`), every record through the root logger's handlers
(:class:`RedactingFilter`, :func:`install_log_filter`) and the run log. :func:`scrub_exception`
additionally rewrites an exception chain in place (messages, ``args``, HTTP bodies), so an
exception handed to other code carries no secret either.
"""

from __future__ import annotations

import base64
import logging
import re
import sys
import threading
import traceback
from types import TracebackType
from typing import Any, Final

REDACTED: Final = "<redacted>"

_AUTH_HEADER = re.compile(
    r"""(?i)(authorization["']?\s*[:=]\s*["']?)"""
    r"""(?:(?:basic|bearer|token)\s+[^\s"',;}]+|[A-Za-z0-9+/=._~-]{16,})"""
)
_secrets: set[str] = set()
_lock = threading.Lock()


MIN_SECRET_CHARS: Final = 8
"""Shorter values are not registered: replacing them everywhere would garble ordinary text
(Databento keys are 32 characters)."""


def register_secret(secret: str) -> None:
    """Redact ``secret`` (and its HTTP Basic form) from everything this process prints or logs."""
    if len(secret) < MIN_SECRET_CHARS:
        return
    basic = base64.b64encode(f"{secret}:".encode()).decode()
    with _lock:
        _secrets.update({secret, basic, basic.rstrip("=")})


def redact(text: str) -> str:
    """``text`` with every registered secret and every ``Authorization`` header value replaced."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)  # longest first: a form never leaves a tail
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _AUTH_HEADER.sub(lambda m: m.group(1) + REDACTED, text)


def _redact_value(value: Any, depth: int = 0) -> Any:
    """``value`` with secrets removed from its strings (bytes, lists and dicts recursively)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bytes):
        return redact(value.decode("utf-8", "replace")).encode()
    if depth < 8 and isinstance(value, dict):
        return {k: _redact_value(v, depth + 1) for k, v in value.items()}
    if depth < 8 and isinstance(value, list | tuple):
        return type(value)(_redact_value(v, depth + 1) for v in value)
    return value


def scrub_exception(exc: BaseException) -> None:
    """Remove secrets, in place, from ``exc`` and its chain (``__cause__``/``__context__``).

    Rewrites ``args`` and every string, bytes, list or dict attribute (an HTTP error's
    ``message``, ``http_body``, ``json_body``); other objects are left alone.
    """
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        try:
            current.args = tuple(_redact_value(a) for a in current.args)
            for name, value in list(vars(current).items()):
                if isinstance(value, str | bytes | dict | list | tuple):
                    setattr(current, name, _redact_value(value))
        except (AttributeError, TypeError):  # read-only attributes of a foreign exception: text guards remain
            pass
        todo.extend((current.__cause__, current.__context__))


def format_exception(exc: BaseException) -> str:
    """``exc``'s full traceback, chained causes included, with secrets removed."""
    return redact("".join(traceback.format_exception(exc)))


class RedactingFilter(logging.Filter):
    """A handler filter that removes secrets from a record's message, arguments and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.msg = redact(record.getMessage())
            record.args = None
        except (TypeError, ValueError):  # arguments that do not fit the format: keep the text, drop them
            record.msg, record.args = redact(str(record.msg)), None
        if record.exc_info and record.exc_info[1] is not None:
            scrub_exception(record.exc_info[1])  # a later formatter may format exc_info itself
            record.exc_text = format_exception(record.exc_info[1]).rstrip("\n")
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_log_filter(logger: logging.Logger | None = None) -> None:
    """Add one :class:`RedactingFilter` to every handler of ``logger`` (default: root); idempotent."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


def _excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    sys.stderr.write(format_exception(exc.with_traceback(tb)))


def install_excepthook() -> None:
    """Make an uncaught exception's traceback go through :func:`redact` too."""
    sys.excepthook = _excepthook
