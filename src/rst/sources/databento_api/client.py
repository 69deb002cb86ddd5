"""The Databento Historical client, wrapped: typed calls, rst errors, retries, no key leaks.

:class:`DatabentoClient` drives the real :class:`databento.Historical` and
translates everything it raises into the rst hierarchy, each ``str()`` one
actionable line with the key scrubbed out:

- 401/403 -> :class:`ApiKeyError` (instruction to set or fix the key);
- 422 (range outside the dataset's available range, symbols not found, not
  entitled) -> :class:`RequestRefused`, naming the dataset's available range
  (from the error payload, else ``metadata.get_dataset_range``) and what to change;
- 408, 429 (``Retry-After`` kept), 5xx, timeouts, refused or dropped
  connections, streams cut short -> :class:`HttpTransientError`, retried here
  with :func:`rst.sources.databento_api.retry.call_with_retry`;
- other 4xx -> :class:`RequestRefused` (terminal).

The Databento client itself does not retry these calls; this module does.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, TypeVar

import databento
import requests
from databento.common.error import BentoClientError, BentoError, BentoHttpError, BentoServerError

from rst.errors import DownloadError, Terminal, TransientDownloadError
from rst.redaction import redact, scrub_exception
from rst.sources.databento_api.cost import validate_price, validate_size
from rst.sources.databento_api.key import ApiKey, ApiKeyError, missing_key_error
from rst.sources.databento_api.plan import Chunk, iso_ns
from rst.sources.databento_api.retry import RetryPolicy, call_with_retry

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_GATEWAY: Final = "https://hist.databento.com"
STYPE_OUT: Final = "instrument_id"


class HttpTransientError(TransientDownloadError):
    """A failure worth retrying; ``status`` is the HTTP status (``None`` for network errors),
    ``retry_after_s`` the server's ``Retry-After`` in seconds when it sent one."""

    def __init__(self, message: str, status: int | None = None, retry_after_s: float | None = None) -> None:
        self.status = status
        self.retry_after_s = retry_after_s
        super().__init__(message)


class RequestRefused(DownloadError, Terminal):
    """Databento refused the request (4xx other than 401/403/408/429); retrying cannot help.

    ``case`` is Databento's machine-readable error case (e.g. ``data_end_after_available_end``)
    when the body had one; ``str()`` says what to change.
    """

    def __init__(self, message: str, status: int, case: str | None = None) -> None:
        self.status = status
        self.case = case
        super().__init__(message)


@dataclass(frozen=True)
class AvailableRange:
    """A dataset's available range for the key's entitlements, UTC ns, ``[start_ns, end_ns)``;
    ``schemas`` holds per-schema ranges when Databento reports them."""

    dataset: str
    start_ns: int
    end_ns: int
    schemas: Mapping[str, tuple[int, int]] = field(default_factory=dict)

    def for_schema(self, schema: str) -> tuple[int, int]:
        """The schema's own range if reported, else the dataset's."""
        return self.schemas.get(schema, (self.start_ns, self.end_ns))

    def describe(self, schema: str | None = None) -> str:
        lo, hi = self.for_schema(schema) if schema else (self.start_ns, self.end_ns)
        what = f"{self.dataset} {schema}" if schema else self.dataset
        return f"{what} is available over [{iso_ns(lo)}, {iso_ns(hi)})"


_ISO_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)


def parse_iso_ns(text: str) -> int:
    """Nanoseconds since the epoch for an ISO 8601 timestamp or date as Databento writes them
    (``2010-06-06T00:00:00.000000000Z``, ``2026-01-29 20:00:00+00:00``, ``2024-01-01``)."""
    m = _ISO_RE.match(text.strip())
    if not m:
        raise ValueError(f"not an ISO 8601 timestamp: {text!r}")
    y, mo, d, hh, mi, ss, frac, tz = m.groups()
    base = datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0), tzinfo=UTC)
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        base -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    seconds = int((base - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds())
    return seconds * 1_000_000_000 + int((frac or "0").ljust(9, "0"))


def _retry_after(headers: Mapping[str, Any]) -> float | None:
    value = headers.get("Retry-After") if headers else None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return None  # an HTTP-date: fall back to our own backoff


def _detail(exc: BentoHttpError) -> tuple[str | None, str, dict[str, Any]]:
    """(case, message, payload) from Databento's error body ``{"detail": {...}}`` or ``{"detail": "..."}``."""
    body = exc.json_body if isinstance(exc.json_body, dict) else {}
    detail = body.get("detail")
    if isinstance(detail, dict):
        payload = detail.get("payload")
        return (
            detail.get("case"),
            str(detail.get("message") or exc.message or ""),
            payload if isinstance(payload, dict) else {},
        )
    if isinstance(detail, str):
        return None, detail, {}
    return None, str(exc.message or ""), {}


class DatabentoClient:
    """Typed, retrying access to the Historical API endpoints rst uses.

    ``gateway`` is the client's public ``gateway`` argument (tests point it at a
    loopback server); ``timeout_s`` bounds connect and each read, in seconds.
    """

    def __init__(
        self,
        key: ApiKey,
        *,
        gateway: str = DEFAULT_GATEWAY,
        retry: RetryPolicy | None = None,
        timeout_s: float | None = None,
        historical_factory: Callable[..., databento.Historical] = databento.Historical,
    ) -> None:
        self._key = key
        self.retry = retry or RetryPolicy()
        self._hist = historical_factory(key=key.reveal(), gateway=gateway)
        if timeout_s is not None:
            for api in (self._hist.timeseries, self._hist.metadata):
                api.TIMEOUT = timeout_s  # type: ignore[assignment]  # public per-instance override; seconds may be fractional
        self._ranges: dict[str, AvailableRange] = {}

    def __repr__(self) -> str:
        return f"DatabentoClient(gateway={self._hist.gateway!r}, key={self._key!r})"

    # -- endpoints ---------------------------------------------------------------------------

    def get_range_to_file(self, chunk: Chunk, path: Path) -> None:
        """Stream ``chunk`` as zstd DBN into ``path`` (``timeseries.get_range``), with retries.

        ``path`` must be a staging location: on failure whatever was written is
        removed; on success the file holds the complete response (verification
        is the raw zone's job).
        """

        def attempt() -> None:
            path.unlink(missing_ok=True)  # the client opens with "x": never append to a stale attempt
            try:
                self._call(
                    chunk.describe(),
                    lambda: self._hist.timeseries.get_range(**_request(chunk), stype_out=STYPE_OUT, path=path),
                    chunk=chunk,
                )
            except BaseException:
                path.unlink(missing_ok=True)
                raise

        call_with_retry(attempt, self.retry, f"download {chunk.describe()}")

    def get_cost(self, chunk: Chunk) -> float:
        """Cost in USD of streaming ``chunk`` (``metadata.get_cost``); a price that is not a finite,
        non-negative number raises :class:`~rst.sources.databento_api.cost.InvalidPrice`."""
        what = f"cost of {chunk.describe()}"
        return validate_price(self._metadata(what, self._hist.metadata.get_cost, chunk), what)

    def get_billable_size(self, chunk: Chunk) -> int:
        """Billable uncompressed size in bytes of ``chunk`` (``metadata.get_billable_size``)."""
        what = f"size of {chunk.describe()}"
        return validate_size(self._metadata(what, self._hist.metadata.get_billable_size, chunk), what)

    def _metadata(self, what: str, call: Callable[..., Any], chunk: Chunk) -> Any:
        """A metadata call about ``chunk``'s request, retried."""
        return self._retrying(what, lambda: call(**_request(chunk)), chunk=chunk)

    def available_range(self, dataset: str) -> AvailableRange:
        """The dataset's available range for this key (``metadata.get_dataset_range``), cached per client."""
        if dataset not in self._ranges:
            body = self._retrying(
                f"available range of {dataset}",
                lambda: self._hist.metadata.get_dataset_range(dataset=dataset),
            )
            self._ranges[dataset] = _parse_range(dataset, body)
        return self._ranges[dataset]

    # -- plumbing ----------------------------------------------------------------------------

    def _retrying(self, what: str, fn: Callable[[], T], chunk: Chunk | None = None) -> T:
        return call_with_retry(lambda: self._call(what, fn, chunk), self.retry, what)

    def _call(self, what: str, fn: Callable[[], T], chunk: Chunk | None = None) -> T:
        """``fn()`` with every client/network exception translated (and the key scrubbed from the
        translation and, in place, from the chained cause: message, HTTP body, JSON body)."""
        try:
            return fn()
        except (BentoError, requests.RequestException) as exc:
            scrub_exception(exc)
            raise self._translate(what, exc, chunk) from exc

    def _translate(self, what: str, exc: BentoError | requests.RequestException, chunk: Chunk | None) -> DownloadError:
        """The rst error for a client or network exception (its text already scrubbed)."""
        if isinstance(exc, BentoHttpError):
            return self._translate_http(what, exc, chunk)
        if isinstance(exc, requests.Timeout):
            return HttpTransientError(redact(f"{what}: timed out ({type(exc).__name__})"))
        if isinstance(exc, requests.JSONDecodeError):
            return DownloadError(redact(f"{what}: the gateway's answer is not JSON ({exc})"))
        if isinstance(exc, requests.RequestException):
            return HttpTransientError(redact(f"{what}: connection failed ({exc})"))
        # The client wraps a stream cut short as BentoError("Error streaming response: ...").
        return HttpTransientError(redact(f"{what}: {exc}"))

    def _translate_http(self, what: str, exc: BentoHttpError, chunk: Chunk | None) -> DownloadError:
        status = exc.http_status
        case, message, payload = _detail(exc)
        label = f"{status} {case}" if case else str(status)
        message = " ".join(message.split())  # one line, whatever the server sent
        text = f"{label}: {message}" if message else label
        if isinstance(exc, BentoServerError) or status in (408, 429):
            retry_after = _retry_after(exc.headers) if status == 429 else None
            return HttpTransientError(redact(f"{what}: {text}"), status, retry_after)
        if status in (401, 403):
            problem = "was rejected" if status == 401 else "lacks permission for this request"
            err = missing_key_error(f"{problem} ({text})")
            return ApiKeyError(redact(str(err)))
        assert isinstance(exc, BentoClientError)
        hint = self._hint_422(case, payload, chunk) if status == 422 else ""
        msg = f"{what}: Databento refused the request ({text})"
        return RequestRefused(redact(f"{msg}; {hint}" if hint else msg), status, case)

    def _hint_422(self, case: str | None, payload: Mapping[str, Any], chunk: Chunk | None) -> str:
        """What to change, naming the available range (payload first, else ``get_dataset_range``)."""
        avail = ""
        lo, hi = payload.get("available_start"), payload.get("available_end")
        if isinstance(lo, str) and isinstance(hi, str):
            try:
                ds = payload.get("dataset") or (chunk.dataset if chunk else "the dataset")
                avail = f"{ds} is available over [{iso_ns(parse_iso_ns(lo))}, {iso_ns(parse_iso_ns(hi))})"
            except ValueError:
                avail = ""
        if not avail and chunk is not None:
            try:
                avail = self.available_range(chunk.dataset).describe(chunk.schema)
            except DownloadError as lookup:
                log.debug("could not look up the available range: %s", lookup)
        c = case or ""
        if "symbol" in c:
            change = "check the symbols and --stype-in (parents look like ES.FUT)"
        elif "licen" in c or "entitle" in c or "permission" in c or "auth" in c:
            change = "this key is not entitled to that data; change the dataset/schema or your licence"
        else:
            change = "change --start/--end to lie within it"
        return f"{avail}; {change}" if avail else change


def _parse_range(dataset: str, body: Mapping[str, Any]) -> AvailableRange:
    """An :class:`AvailableRange` from ``get_dataset_range``'s JSON
    (``{"start": ISO, "end": ISO, "schema": {name: {"start": ISO, "end": ISO}}}``)."""
    try:
        schemas = {
            name: (parse_iso_ns(r["start"]), parse_iso_ns(r["end"]))
            for name, r in (body.get("schema") or {}).items()
        }
        if "start" in body and "end" in body:
            start, end = parse_iso_ns(body["start"]), parse_iso_ns(body["end"])
        elif schemas:
            start = min(lo for lo, _ in schemas.values())
            end = max(hi for _, hi in schemas.values())
        else:
            raise KeyError("start")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DownloadError(f"unexpected get_dataset_range response for {dataset}: {exc}") from exc
    return AvailableRange(dataset, start, end, schemas)


def _request(chunk: Chunk) -> dict[str, Any]:
    """The request arguments every call about ``chunk`` shares (window UTC ns, end exclusive)."""
    return {
        "dataset": chunk.dataset,
        "start": chunk.start_ns,
        "end": chunk.end_ns,
        "symbols": [chunk.request_symbol],
        "schema": chunk.schema,
        "stype_in": chunk.stype_in,
    }
