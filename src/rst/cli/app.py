"""``rst app``: serve the local web app (Streamlit) on 127.0.0.1 for one lake.

Headless (no browser is opened), no usage statistics, no file watcher. The lake is
passed to the app through ``$RST_LAKE``; Ctrl-C stops the server.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from rst.cli.options import lake_option
from rst.framework.lake import Lake


def server_options(port: int, address: str) -> dict[str, object]:
    """Streamlit config flags: loopback, headless, quiet."""
    return {
        "server.address": address,
        "server.port": port,
        "server.headless": True,
        "server.fileWatcherType": "none",
        "server.runOnSave": False,
        "browser.gatherUsageStats": False,
        "browser.serverAddress": address,
        "global.developmentMode": False,
        "client.toolbarMode": "minimal",
        "logger.level": "warning",
    }


@click.command("app")
@lake_option
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True, help="TCP port.")
@click.option("--address", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default).")
def app(lake: str | None, port: int, address: str) -> None:
    """Serve the web app (data updates, symbol browser, definitions, parent metadata, continuous series, health)."""
    Lake.resolve(lake).refuse_remote("rst app")
    from streamlit.web import bootstrap

    the_lake = Lake.open(lake)
    os.environ["RST_LAKE"] = str(the_lake.root)
    script = str(Path(__file__).resolve().parent.parent / "app" / "main.py")
    flags = server_options(port, address)
    click.echo(f"rst app: http://{address}:{port}  (lake {the_lake.root}; Ctrl-C stops)", err=True)
    bootstrap.load_config_options(flag_options=flags)
    bootstrap.run(script, False, [], flags)
