"""Fixtures for the app tests: one small demo lake (ES, Jan-Mar 2024) built per session, copied per test."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from rst.demo import run_demo
from rst.framework.lake import Lake


@pytest.fixture(scope="session")
def app_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lake, _ = Lake.create(tmp_path_factory.mktemp("app") / "lake")
    result = run_demo(lake, parents=("ES",), start=dt.date(2024, 1, 1), end=dt.date(2024, 4, 1))
    assert not [r for r in result.results if r.outcome.value == "failed"]
    return lake.root


@pytest.fixture
def app_lake(app_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lake:
    """A copy of the demo lake, served to the app through ``$RST_LAKE``; no Databento key anywhere."""
    dest = tmp_path / "lake"
    shutil.copytree(app_template, dest, symlinks=True)
    monkeypatch.setenv("RST_LAKE", str(dest))
    monkeypatch.delenv("DATABENTO_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)  # config/databento.env is looked up relative to here: absent
    return Lake.open(dest)
