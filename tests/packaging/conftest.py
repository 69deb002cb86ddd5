"""Fixtures for the packaging tests: the uv executable and a copy of the project outside the repository."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROJECT_FILES = ("pyproject.toml", "uv.lock", "README.md", "src", "scripts")
"""What building and syncing the project reads (no ``.venv``, lake or caches)."""


@pytest.fixture(scope="session")
def uv_exe() -> Path:
    """The uv that ``scripts/bootstrap.py`` installed (``.uv-tool/bin/uv``), else the one on the PATH; skips without."""
    private = REPO / ".uv-tool" / "bin" / "uv"
    found = private if private.is_file() else shutil.which("uv")
    if found is None:
        pytest.skip("no uv: run `python3 scripts/bootstrap.py` or put uv on the PATH")
    return Path(found)


@pytest.fixture
def clean_env() -> dict[str, str]:
    """The environment minus what would point a child at this repository's code, venv or lake; uv stays offline."""
    env = {
        k: v for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "RST_SCHEMAS", "RST_LAKE", "PYTHONHOME")
    }
    env["UV_OFFLINE"] = "1"  # every locked package is in uv's cache once this repo's .venv is synced
    return env


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """The files the build and ``uv sync`` read, copied to ``tmp_path/project`` (caches left behind)."""
    dest = tmp_path / "project"
    dest.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in PROJECT_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=ignore)
        else:
            shutil.copy2(source, dest / name)
    return dest
