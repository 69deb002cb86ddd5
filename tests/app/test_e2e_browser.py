"""End to end in a real browser: ``rst app`` on a free loopback port, driven by Playwright through Debian's chromium.

Opens every view (a screenshot of each under ``tests/artifacts/app/``), defines a series,
builds it, sees the chart and the roll table, asks for a download estimate without an API
key and sees the one-line refusal; fails on any exception in the page or the server log.
Playwright never downloads a browser: it drives ``/usr/bin/chromium`` (``.ci/run`` installs it).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from rst.framework.lake import Lake

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "app"
VIEWS = ["Data updates", "Symbol browser", "Definitions", "Parent metadata", "Continuous series", "Lake health"]
BAD_WORDS = ("Traceback", "Exception", "WARNING", "Error:")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(app_lake: Lake, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``rst app`` as a subprocess; yields its URL and log file; stopped (by its pid) afterwards."""
    port = free_port()
    log = tmp_path / "server.log"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABENTO_API_KEY", "RST_LAKE")}
    rst = Path(sys.executable).parent / "rst"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(rst), "app", "--lake", str(app_lake.root), "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path, env=env,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as resp:
                    if resp.read() == b"ok":
                        break
            except OSError:
                pass
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"app not healthy after 30 s: {log.read_text()}"
            time.sleep(0.2)
        yield url, log
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_every_view_series_build_and_refused_download(server: tuple[str, Path]) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, log = server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page_errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        page.on("pageerror", lambda exc: page_errors.append(str(exc)))
        page.goto(url)
        sidebar = page.get_by_test_id("stSidebar")

        def open_view(name: str) -> None:
            sidebar.get_by_text(name, exact=True).click()
            expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible(timeout=20_000)
            slug = name.lower().replace(" ", "-")
            page.locator(f"#rst-ready-{slug}").wait_for(state="attached", timeout=30_000)  # the view ran to its end
            page.wait_for_timeout(800)  # vega-lite draws after the script ends

        def no_exception() -> None:
            assert page.get_by_test_id("stException").count() == 0, page.get_by_test_id("stException").first.inner_text()
            assert "Traceback" not in page.content()

        for name in VIEWS:
            open_view(name)
            no_exception()
            page.screenshot(path=str(ARTIFACTS / f"{name.lower().replace(' ', '-')}.png"), full_page=True)

        # define a series, build it, see the chart and the roll table
        open_view("Continuous series")
        page.get_by_role("textbox", name="Series id", exact=True).fill("es_e2e")
        page.get_by_role("textbox", name="Parent", exact=True).fill("ES")
        page.get_by_role("spinbutton", name="Roll offset (trading days)").fill("3")
        page.get_by_role("button", name="Save series").click()
        expect(page.get_by_text("saved es_e2e")).to_be_visible(timeout=20_000)
        page.get_by_role("button", name="Build / update").click()
        expect(page.get_by_text("Roll events")).to_be_visible(timeout=60_000)
        expect(page.get_by_test_id("stVegaLiteChart").first).to_be_visible()
        expect(page.get_by_test_id("stDataFrame").last).to_be_visible()
        expect(page.get_by_role("button", name="Export CSV")).to_be_visible()
        page.wait_for_timeout(1500)  # let vega finish drawing
        no_exception()
        page.screenshot(path=str(ARTIFACTS / "continuous-series-built.png"), full_page=True)

        # a download without a key is refused with one line in the page
        open_view("Data updates")
        page.get_by_role("tab", name="Download from Databento").click()
        page.get_by_role("button", name="Estimate cost").click()
        refusal = page.get_by_test_id("stAlertContentError").filter(has_text="API key")
        expect(refusal).to_be_visible(timeout=20_000)
        assert "\n" not in refusal.inner_text().strip()
        no_exception()
        page.screenshot(path=str(ARTIFACTS / "download-refused.png"), full_page=True)
        browser.close()
    assert not page_errors, page_errors
    server_log = log.read_text()
    assert not [w for w in BAD_WORDS if w in server_log], server_log
