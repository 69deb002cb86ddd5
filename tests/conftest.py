"""Shared fixtures: the real Databento sample files, found through ``RST_SAMPLES_DIR``."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

# wall-clock deadlines make property tests flaky on a loaded 2-core CI machine; budgets are set by max_examples
settings.register_profile("rst", deadline=None, print_blob=True)
settings.load_profile("rst")

SAMPLES_ENV = "RST_SAMPLES_DIR"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """The Databento sample directory (``RST_SAMPLES_DIR``); skips when unset or missing."""
    value = os.environ.get(SAMPLES_ENV)
    if not value:
        pytest.skip(f"{SAMPLES_ENV} is not set (point it at the databento-samples directory)")
    path = Path(value)
    if not path.is_dir():
        pytest.skip(f"{SAMPLES_ENV}={value} is not a directory")
    return path


@pytest.fixture(scope="session")
def sample_file(samples_dir: Path) -> Callable[[str], Path]:
    """Factory: ``sample_file("dbn/test_data.mbp-10.dbn")`` -> path; skips if that file is absent."""

    def get(relative: str) -> Path:
        path = samples_dir / relative
        if not path.is_file():
            pytest.skip(f"sample file {relative} not found under {samples_dir}")
        return path

    return get
