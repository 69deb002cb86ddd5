"""Fixtures for the synthetic generator tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from synthetic_helpers import WriteFile

from rst.sources.synthetic import write_dbn_file


@pytest.fixture
def write_file(tmp_path: Path) -> WriteFile:
    """Factory: ``write_file(schema, parents="ES", start=..., end=..., **kw)`` -> path of a new file."""
    counter = iter(range(10_000))

    def make(
        schema: str,
        parents: object = "ES",
        start: str = "2024-02-01",
        end: str = "2024-03-01",
        **kwargs: object,
    ) -> Path:
        path = tmp_path / f"f{next(counter)}-{schema}.dbn.zst"
        return write_dbn_file(path, schema, parents, start, end, **kwargs)  # type: ignore[arg-type]

    return make
