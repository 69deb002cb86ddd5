"""The HTTP query API (``rst serve``): bars, continuous series and stats under ``/api/v1``, with its OpenAPI schema.

Endpoints (all ``GET``; OpenAPI at ``/openapi.json``):

- ``/api/v1/health``: liveness and which backend serves (never needs the token);
- ``/api/v1/stats?symbol=ES&table=ohlcv_1d&layer=silver``: the origin document's stats shape;
- ``/api/v1/bars?symbol=ES&table=ohlcv_1d&layer=silver&start=&end=&format=json|csv|arrow``;
- ``/api/v1/series/{series_id}?start=&end=&format=``.

Every parameter is checked whole (regex patterns in the schema, then the same validators as
the CLI) and against what exists: an unknown parent, table or series is a 404 naming what
exists. Every error is a one-line JSON body ``{"error": "..."}`` (400 bad parameter, 401
missing or wrong token, 404 unknown name or unknown path, 500 a corrupt partition or a bug,
logged server-side); no traceback ever reaches a client. Dates are inclusive trading dates
between 1970-01-01 and 2200-12-31. Renderings are exact (see :mod:`rst.serving.api_encode`).

With a ``token``, every endpoint but ``/health`` requires ``Authorization: Bearer <token>``.
This module imports FastAPI: only ``rst serve`` loads it.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
from collections.abc import Callable
from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from rst import __version__
from rst.errors import PartitionCorrupt, RstError, UsageError
from rst.framework.lake import Layer
from rst.ops.names import normalise_table
from rst.redaction import redact
from rst.series.definition import validate_series_id
from rst.serving.api_backend import Backend, NotBuilt, NotFound, Unavailable
from rst.serving.api_encode import OutputFormat, render_rows, stats
from rst.validation import shown, validate_dt, validate_symbol

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
SYMBOL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9.]{0,19}$"
TABLE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
SERIES_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
DATE_PATTERN = r"^(19[7-9][0-9]|2[01][0-9]{2}|2200)-[0-9]{2}-[0-9]{2}$"
"""YYYY-MM-DD with a year in 1970..2200 (the schema also says ``format: date``; the server checks the calendar)."""


class ApiError(RstError):
    """An error the API answers with ``status`` and a one-line JSON body."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


# --------------------------------------------------------------------------- documented shapes


class ErrorBody(BaseModel):
    """Every error: one line saying what is wrong with which parameter."""

    model_config = ConfigDict(extra="forbid")
    error: str


class Health(BaseModel):
    status: str
    backend: str
    version: str


class Column(BaseModel):
    name: str
    type: str


class RowsBody(BaseModel):
    """JSON rows: prices int64 fixed-point 1e-9; each timestamp ``c`` as ns integer ``c`` plus ISO ``c_iso``."""

    backend: str
    row_count: int
    columns: list[Column]
    rows: list[dict[str, Any]]
    layer: str | None = None
    symbol: str | None = None
    table: str | None = None
    series: str | None = None
    start: str | None = None
    end: str | None = None


class Stats(BaseModel):
    """The origin document's stats shape (plus exact twins: ``*_ns`` integers, a decimal-string price)."""

    row_count: int
    min_ts: str | None
    max_ts: str | None
    min_ts_ns: int | None
    max_ts_ns: int | None
    latest_close: int | None
    latest_close_price: str | None
    latest_ts: str | None
    latest_ts_ns: int | None
    latest_contract: str | None
    symbol: str
    table: str
    layer: str
    timeframe: str | None
    vendor: str
    backend: str
    message: str | None = None


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "A parameter is invalid."},
    401: {"model": ErrorBody, "description": "Bearer token missing or wrong."},
    404: {"model": ErrorBody, "description": "No such parent, table or series (the body names those that exist)."},
    500: {"model": ErrorBody, "description": "A corrupt partition, or a bug (logged by the server)."},
    503: {"model": ErrorBody, "description": "The database is unreachable; retry later."},
}
_ROWS_200: dict[int | str, dict[str, Any]] = {
    200: {
        "model": RowsBody,
        "description": "Rows as JSON, CSV, or an Arrow IPC stream (the exact lake schema).",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/vnd.apache.arrow.stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}

SymbolQ = Annotated[str, Query(pattern=SYMBOL_PATTERN, description="Parent symbol, e.g. ES (ES.FUT accepted).")]
TableQ = Annotated[str, Query(pattern=TABLE_PATTERN, description="Table, e.g. ohlcv_1d, ohlcv_1h.")]
DateQ = Annotated[
    str | None,
    Query(
        pattern=DATE_PATTERN, json_schema_extra={"format": "date"},
        description="Inclusive trading date YYYY-MM-DD, 1970-01-01..2200-12-31; start <= end.",
    ),
]  # fmt: skip
FormatQ = Annotated[OutputFormat, Query(description="json, csv or arrow (Arrow IPC stream).")]


# --------------------------------------------------------------------------- validation


def _dates(start: str | None, end: str | None) -> tuple[dt.date | None, dt.date | None]:
    first = validate_dt(start, "start") if start is not None else None
    last = validate_dt(end, "end") if end is not None else None
    if first and last and last < first:
        raise UsageError(f"end: {last} is before start {first}")
    return first, last


def _meta(backend: Backend, start: dt.date | None, end: dt.date | None, **names: str) -> dict[str, Any]:
    return {"backend": backend.name, **names, "start": start and start.isoformat(), "end": end and end.isoformat()}


# --------------------------------------------------------------------------- the app

BEARER = HTTPBearer(auto_error=False, description="The token the server was started with.")


class TokenCheck:
    """Dependency: with a token set, the request must carry ``Authorization: Bearer <token>`` (compared in constant time)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]) -> None:
        given = credentials.credentials if credentials is not None else ""
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            raise ApiError(401, "missing or wrong bearer token (send 'Authorization: Bearer <token>')")


def create_app(backend: Backend, token: str | None = None) -> FastAPI:
    """The API over ``backend``; with ``token``, every endpoint but ``/health`` requires it as a bearer token."""
    app = FastAPI(
        title="rst query API", version=__version__, docs_url=None, redoc_url=None,
        description="Bars, continuous series and stats of an rst lake (or of its PostgreSQL copy). "
        "Prices are exact int64 fixed-point 1e-9 integers; dates are inclusive trading dates.",
    )  # fmt: skip
    errors = {k: v for k, v in _ERRORS.items() if token or k != 401}
    open_router = APIRouter(prefix=PREFIX, responses=errors)
    guard = [Depends(TokenCheck(token))] if token else []  # the schema declares bearer auth only when it is required
    router = APIRouter(prefix=PREFIX, dependencies=guard, responses=errors)

    @open_router.get("/health", summary="Liveness and backend")
    def health() -> Health:
        return Health(status="ok", backend=backend.name, version=__version__)

    @router.get("/stats", summary="Row count, first/last time and latest close of one table")
    def get_stats(symbol: SymbolQ, table: TableQ = "ohlcv_1d", layer: Layer = Layer.SILVER) -> Stats:
        parent, name = validate_symbol(symbol, "symbol"), normalise_table(table)
        try:
            df = backend.table_rows(layer, parent, name, None, None)
        except NotBuilt:
            df = pl.DataFrame()
        return Stats(**stats(df, symbol=parent, table=name, layer=layer.value, backend=backend.name))

    @router.get(
        "/bars", summary="Rows of one table of one parent between dates", response_model=None, responses=_ROWS_200
    )
    def bars(
        symbol: SymbolQ, table: TableQ = "ohlcv_1d", layer: Layer = Layer.SILVER,
        start: DateQ = None, end: DateQ = None, format: FormatQ = OutputFormat.JSON,
    ) -> Response:  # fmt: skip
        parent, name = validate_symbol(symbol, "symbol"), normalise_table(table)
        first, last = _dates(start, end)
        df = backend.table_rows(layer, parent, name, first, last)
        meta = _meta(backend, first, last, layer=layer.value, symbol=parent, table=name)
        return Response(render_rows(df, format, meta), media_type=format.media_type)

    @router.get(
        "/series/{series_id}", summary="A continuous series between dates", response_model=None, responses=_ROWS_200
    )
    def series(
        series_id: Annotated[str, Path(pattern=SERIES_PATTERN, description="Series id, e.g. es_front.")],
        start: DateQ = None, end: DateQ = None, format: FormatQ = OutputFormat.JSON,
    ) -> Response:  # fmt: skip
        first, last = _dates(start, end)
        df = backend.series_rows(series_id, first, last)
        return Response(
            render_rows(df, format, _meta(backend, first, last, series=series_id)), media_type=format.media_type
        )

    app.include_router(open_router)
    app.include_router(router)
    _install_error_handlers(app)
    return app


# --------------------------------------------------------------------------- errors


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    line = " ".join(redact(message).split())  # one line, secrets redacted
    return JSONResponse({"error": line}, status_code=status, headers=headers)


_FRIENDLY: dict[str, Callable[[str, str], object]] = {
    "start": validate_dt, "end": validate_dt, "symbol": validate_symbol, "series_id": validate_series_id,
}  # fmt: skip
"""Parameters whose schema-pattern failures are explained by the validator the CLI uses."""


def _install_error_handlers(app: FastAPI) -> None:
    """Every failure becomes ``{"error": "<one line>"}`` with its status; tracebacks stay in the server log."""

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
        value = first.get("input")
        friendly = _FRIENDLY.get(where)
        if friendly is not None and isinstance(value, str):
            try:
                friendly(value, where)
            except RstError as reason:  # the CLI's own wording: "start: '1969-12-31' is outside 1970-01-01..2200-12-31"
                return _error(400, str(reason))
        given = f" (got {shown(value)})" if value is not None else ""
        return _error(400, f"{where}: {first.get('msg', 'invalid')}{given}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return _error(exc.status, str(exc), headers)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> JSONResponse:
        return _error(404, str(exc))

    @app.exception_handler(UsageError)
    async def usage(request: Request, exc: UsageError) -> JSONResponse:
        return _error(400, str(exc))

    @app.exception_handler(Unavailable)
    async def unavailable(request: Request, exc: Unavailable) -> JSONResponse:
        return _error(503, str(exc), {"Retry-After": "5"})

    @app.exception_handler(PartitionCorrupt)
    async def corrupt(request: Request, exc: PartitionCorrupt) -> JSONResponse:
        log.error("refused to serve a corrupt partition: %s", exc)
        return _error(500, str(exc))

    @app.exception_handler(RstError)
    async def rst_error(request: Request, exc: RstError) -> JSONResponse:
        log.error("error serving %s: %s", request.url.path, exc)
        return _error(500, str(exc))

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error serving %s", request.url.path)
        return _error(500, f"internal error ({type(exc).__name__}); see the server log")
