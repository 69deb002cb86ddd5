"""Set up the project on any ``python3``: a pinned uv in ``.uv-tool/``, then ``uv sync --locked`` into ``.venv/``.

``python3 scripts/bootstrap.py [uv sync options]`` needs nothing but the Python standard library: no pip, no
``ensurepip``/``python3-venv`` and no ``curl``, so it works on a stock Debian/Ubuntu ``python3`` whose stdlib carries
the PEP 668 ``EXTERNALLY-MANAGED`` marker (where ``pip install uv`` is refused), as well as on pyenv, venv and
Homebrew Pythons. It never installs into the Python that runs it.

uv comes from the uv wheel on the package index (``$PIP_INDEX_URL``, default PyPI; the index's sha256 is checked)
or, offline, from a wheel file named by ``$RST_UV_WHEEL``; only its ``uv`` executable is kept, in
``.uv-tool/bin/uv``. uv then creates ``.venv`` with a Python >= the project's ``requires-python`` (the ``python3`` on
the PATH when it fits, else one uv downloads) and installs exactly ``uv.lock``. Rerunning is cheap: it only syncs.
"""

from __future__ import annotations

import hashlib
import html.parser
import io
import json
import os
import platform
import ssl
import subprocess
import sys
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

UV_VERSION = "0.13.9"
ROOT = Path(__file__).resolve().parents[1]
TOOL_DIR = ROOT / ".uv-tool"
DEFAULT_INDEX = "https://pypi.org/simple"
UV_WHEEL_ENV = "RST_UV_WHEEL"


class BootstrapError(Exception):
    """A setup step failed; the message is one line saying what to do."""


def uv_path() -> Path:
    """Where the private uv executable lives."""
    return TOOL_DIR / "bin" / ("uv.exe" if os.name == "nt" else "uv")


def installed_uv_version(uv: Path) -> str | None:
    """``uv --version``'s version, or None when ``uv`` is absent or broken."""
    try:
        out = subprocess.run([str(uv), "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    parts = out.split()
    return parts[1] if len(parts) > 1 else None


def platform_matches(filename: str) -> bool:
    """Whether a uv wheel's platform tags fit this machine (OS, CPU and, on Linux, glibc vs musl)."""
    tags = filename[: -len(".whl")].split("-")[-1].split(".")
    machine = platform.machine().lower()
    if sys.platform.startswith("linux"):
        arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
        family = "manylinux" if platform.libc_ver()[0] == "glibc" else "musllinux"
        return any(t.startswith(family) and t.endswith("_" + arch) for t in tags)
    if sys.platform == "darwin":
        arch = "arm64" if machine in ("arm64", "aarch64") else "x86_64"
        return any(t.startswith("macosx") and (t.endswith("_" + arch) or t.endswith("_universal2")) for t in tags)
    if os.name == "nt":
        arch = {"x86_64": "amd64", "amd64": "amd64", "arm64": "arm64", "aarch64": "arm64"}.get(machine, "32")
        return any(t == f"win_{arch}" or (arch == "32" and t == "win32") for t in tags)
    return False


class _Anchors(html.parser.HTMLParser):
    """The ``<a href>`` links of a PEP 503 (HTML) simple-index page, with their text."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href")

    def handle_data(self, data: str) -> None:
        if self._href is not None and data.strip():
            self.links.append((data.strip(), self._href))
            self._href = None


def _fetch(url: str, accept: str | None = None) -> tuple[bytes, str]:
    """GET ``url`` (honouring ``$PIP_CERT``/``$SSL_CERT_FILE`` and the proxy variables): body and content type."""
    cafile = os.environ.get("PIP_CERT") or os.environ.get("SSL_CERT_FILE") or None
    context = ssl.create_default_context(cafile=cafile)
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(request, timeout=120, context=context) as response:
        return response.read(), response.headers.get("Content-Type", "")


def find_wheel(index: str) -> tuple[str, str, str | None]:
    """Filename, absolute URL and sha256 (when the index gives one) of this machine's uv wheel on ``index``."""
    page_url = index.rstrip("/") + "/uv/"
    body, content_type = _fetch(page_url, "application/vnd.pypi.simple.v1+json, text/html;q=0.1")
    files: list[tuple[str, str, str | None]] = []
    if "json" in content_type:
        for f in json.loads(body)["files"]:
            files.append((f["filename"], f["url"], f.get("hashes", {}).get("sha256")))
    else:
        anchors = _Anchors()
        anchors.feed(body.decode("utf-8", "replace"))
        for text, href in anchors.links:
            url, _, fragment = href.partition("#")
            digest = fragment[len("sha256="):] if fragment.startswith("sha256=") else None
            files.append((text, url, digest))
    prefix = f"uv-{UV_VERSION}-"
    for filename, url, digest in files:
        if filename.startswith(prefix) and filename.endswith(".whl") and platform_matches(filename):
            return filename, urllib.parse.urljoin(page_url, url), digest
    raise BootstrapError(f"{page_url} has no uv {UV_VERSION} wheel for {sys.platform}/{platform.machine()}")


def wheel_bytes() -> bytes:
    """The uv wheel: the file named by ``$RST_UV_WHEEL``, else downloaded from the index and hash-checked."""
    local = os.environ.get(UV_WHEEL_ENV)
    if local:
        try:
            return Path(local).read_bytes()
        except OSError as exc:
            raise BootstrapError(f"${UV_WHEEL_ENV}={local}: cannot read it ({exc.strerror})") from exc
    index = os.environ.get("PIP_INDEX_URL") or DEFAULT_INDEX
    try:
        filename, url, digest = find_wheel(index)
        print(f"bootstrap: downloading {filename}", file=sys.stderr)
        data, _ = _fetch(url)
    except (OSError, ValueError, KeyError) as exc:
        raise BootstrapError(
            f"cannot download uv {UV_VERSION} from {index} ({exc}); set PIP_INDEX_URL to a reachable index "
            f"or {UV_WHEEL_ENV} to a downloaded uv-{UV_VERSION}-*.whl file"
        ) from exc
    if digest is not None and hashlib.sha256(data).hexdigest() != digest:
        raise BootstrapError(f"{url}: sha256 differs from the index's; download again")
    return data


def install_uv() -> Path:
    """Unpack the wheel's ``uv`` executable into ``.uv-tool/bin`` (written aside, then renamed into place)."""
    target = uv_path()
    member = f"uv-{UV_VERSION}.data/scripts/{target.name}"
    try:
        with zipfile.ZipFile(io.BytesIO(wheel_bytes())) as wheel:
            executable = wheel.read(member)
    except (zipfile.BadZipFile, KeyError) as exc:
        raise BootstrapError(f"the uv wheel holds no {member}: is it uv {UV_VERSION}'s wheel?") from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(executable)
    partial.chmod(0o755)
    os.replace(partial, target)
    return target


def ensure_uv() -> Path:
    """The private uv at the pinned version, installed first when missing or another version."""
    uv = uv_path()
    if installed_uv_version(uv) != UV_VERSION:
        uv = install_uv()
        if installed_uv_version(uv) != UV_VERSION:
            raise BootstrapError(f"{uv} does not run on this machine; set {UV_WHEEL_ENV} to a fitting uv wheel")
    return uv


def main(argv: list[str]) -> int:
    """Install uv if needed, then ``uv sync --locked`` (bytecode compiled unless ``$UV_COMPILE_BYTECODE`` says no)."""
    try:
        uv = ensure_uv()
    except BootstrapError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    env = {**os.environ}
    env.setdefault("UV_COMPILE_BYTECODE", "1")
    return subprocess.run([str(uv), "sync", "--locked", *argv], cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
