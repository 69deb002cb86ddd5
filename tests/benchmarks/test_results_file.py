"""``python -m benchmarks --quick`` never replaces the committed ``benchmarks/RESULTS.md``; ``--out`` still writes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks import run  # noqa: E402


@pytest.mark.slow
def test_quick_run_leaves_results_md_alone_and_out_writes(tmp_path: Path) -> None:
    committed = ROOT / "benchmarks" / "RESULTS.md"
    before = committed.read_bytes()
    tables = run.main(["--quick", "--only", "startup"])
    assert committed.read_bytes() == before
    labels = [row[0] for row in tables[0].rows]
    assert labels[0] == "`python -c pass (peer)`" and "`rst --help`" in labels
    assert "`python -m rst.runner --help`" in labels and "`rst demo --help`" in labels

    out = tmp_path / "quick.md"
    run.main(["--quick", "--only", "startup", "--out", str(out)])
    assert "### Startup: help commands" in out.read_text()
    assert committed.read_bytes() == before
