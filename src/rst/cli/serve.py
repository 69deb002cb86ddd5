"""``rst serve``: the HTTP query API over the lake (default) or its PostgreSQL copy.

Parses and checks the options, then hands over to :mod:`rst.serving.api_server`;
FastAPI and uvicorn are imported only once the command runs (``rst serve --help``
and every other command stay light).
"""

from __future__ import annotations

import click

from rst.cli.options import lake_option
from rst.errors import UsageError

DATABASE_ENV = "RST_DATABASE_URL"


@click.command("serve")
@lake_option
@click.option(
    "--database-url",
    default=None,
    envvar=DATABASE_ENV,
    show_envvar=True,
    help="Serve from this PostgreSQL database (filled by `rst publish`) instead of the lake.",
)
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to bind; anything but loopback requires --token."
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="TCP port (0: a free one)."
)
@click.option(
    "--token",
    default=None,
    envvar="RST_API_TOKEN",
    show_envvar=True,
    help="Bearer token clients must send (prefer the environment variable: argv is visible to others).",
)
@click.pass_context
def serve(
    ctx: click.Context, lake: str | None, database_url: str | None, host: str, port: int, token: str | None
) -> None:
    """Serve bars, series and stats over HTTP under /api/v1 (OpenAPI at /openapi.json)."""
    from click.core import ParameterSource

    from rst.serving.api_server import bind, check_bind, run, url_of

    check_bind(host, token)  # before any heavy import: a refusal is instant
    from rst.framework.lake import Lake
    from rst.serving.api_backend import Backend, DatabaseBackend, LakeBackend

    lake_given = ctx.get_parameter_source("lake") is ParameterSource.COMMANDLINE
    url_given = ctx.get_parameter_source("database_url") is ParameterSource.COMMANDLINE
    if lake_given and url_given:
        raise UsageError("--lake/--database-url: serve either the lake or a database, not both")
    backend: Backend
    if database_url and not lake_given:
        backend, what = DatabaseBackend(database_url), "the PostgreSQL database"
    else:
        Lake.resolve(lake).refuse_remote("rst serve")
        the_lake = Lake.open(lake)
        backend, what = LakeBackend(the_lake), f"the lake {the_lake.root}"
    from rst.serving.api import create_app

    app = create_app(backend, token)
    backend.warm_up()
    sock = bind(host, port)
    auth = "bearer token required" if token else "no token"
    click.echo(f"rst serve: {what} at {url_of(sock)}/api/v1 ({auth}; OpenAPI at /openapi.json)", err=True)
    run(app, sock, verbose=bool(ctx.find_root().meta.get("rst.verbose")))
