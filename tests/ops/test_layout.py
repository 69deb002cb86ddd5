"""The lake layout: the parent's path key never shadows a column, and a lake knows its layout version.

Every table of the demo lake reads the same through DuckDB's defaults, polars with hive
partitioning on, and ``rst.read_table``; a lake of the old ``symbol=`` layout is refused with
a one-line error naming ``rst migrate``, which brings it to the new layout with identical data.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl
import pytest
from click.testing import CliRunner, Result

from rst.cli.main import cli
from rst.framework.lake import PARENT_KEY, Lake, Layer
from rst.framework.layout import LAYOUT_FILE, LAYOUT_VERSION, read_layout
from rst.read import read_table


def _tables(lake: Lake) -> list[tuple[Layer, str, str]]:
    found = []
    for layer in Layer:
        for parent in lake.parents_in(layer):
            for table_dir in sorted(lake.parent_dir(layer, parent).glob("table=*")):
                found.append((layer, parent, table_dir.name.removeprefix("table=")))
    return found


def _sorted(df: pl.DataFrame) -> pl.DataFrame:
    return df.sort(df.columns, nulls_last=True, maintain_order=True)


def _equal_rows(expected: pl.DataFrame, actual: pl.DataFrame, what: str) -> None:
    actual = actual.select(expected.columns).cast(dict(expected.schema), strict=True)  # type: ignore[arg-type]
    assert _sorted(actual).equals(_sorted(expected)), what


def _lake_tables(lake: Lake) -> dict[tuple[Layer, str, str], pl.DataFrame]:
    return {(layer, parent, table): read_table(layer, parent, table, lake=lake) for layer, parent, table in _tables(lake)}


def test_every_table_reads_the_same_through_duckdb_polars_hive_and_read_table(demo_lake: Lake) -> None:
    tables = _tables(demo_lake)
    assert {t for _, _, t in tables} >= {"definition", "ohlcv_1d", "ohlcv_1h", "ohlcv_1d_session"}
    assert any(t.startswith("continuous_") for _, _, t in tables)
    con = duckdb.connect()
    for layer, parent, table in tables:
        expected = read_table(layer, parent, table, lake=demo_lake)
        glob = str(demo_lake.table_dir(layer, parent, table) / "*" / "*.parquet")
        hive = pl.scan_parquet(glob, hive_partitioning=True).collect()
        ducked = pl.from_arrow(con.sql(f"SELECT * FROM read_parquet('{glob}')").to_arrow_table())
        assert isinstance(ducked, pl.DataFrame)
        for name, frame in (("polars hive", hive), ("duckdb", ducked)):
            assert frame.height == expected.height, f"{name} {layer}/{parent}/{table}"
            assert frame[PARENT_KEY].unique().to_list() == [parent], f"{name} sees the parent under {PARENT_KEY}="
            _equal_rows(expected, frame, f"{name} {layer}/{parent}/{table}")
        if "symbol" in expected.columns and layer is not Layer.GOLD:
            symbols = expected["symbol"].cast(pl.String).drop_nulls()
            assert symbols.len() and symbols.str.starts_with(parent).all()
            assert (symbols != parent).all(), "the symbol column is the contract, not the parent"


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _one_line_error(result: Result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code != 0
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: ")
    return lines[0]


def _downgrade_to_layout_1(lake: Lake) -> None:
    """What a lake written by rst before the layout change looks like: ``symbol=`` directories, no layout file."""
    (lake.root / LAYOUT_FILE).unlink()
    roots = [lake.layer_dir(layer) for layer in Layer]
    roots += list((lake.raw / "source=databento").glob("dataset=*/schema=*"))
    for root in roots:
        for d in root.glob(f"{PARENT_KEY}=*"):
            d.rename(d.with_name("symbol=" + d.name.removeprefix(f"{PARENT_KEY}=")))
    for entry in (lake.raw / "_catalog").glob("*.json"):
        doc = json.loads(entry.read_text())
        doc["path"] = doc["path"].replace(f"/{PARENT_KEY}=", "/symbol=")
        os.chmod(entry, 0o644)
        entry.write_text(json.dumps(doc))


def test_old_layout_is_refused_then_migrated_to_identical_tables(demo_lake: Lake) -> None:
    before = _lake_tables(demo_lake)
    _downgrade_to_layout_1(demo_lake)
    for command in (["status"], ["run", "--layer", "all"], ["query", "--symbol", "ES", "--table", "ohlcv_1d"]):
        line = _one_line_error(_invoke(*command, "--lake", str(demo_lake.root)))
        assert "old layout" in line and f"rst migrate --lake {demo_lake.root}" in line
    with pytest.raises(Exception, match="rst migrate"):
        read_table(Layer.BRONZE, "ES", "ohlcv_1d", lake=str(demo_lake.root))

    migrated = _invoke("migrate", "--lake", str(demo_lake.root))
    assert migrated.exit_code == 0, migrated.output
    assert "from layout 1 to 2" in migrated.output and "rst run --layer all" in migrated.output
    assert read_layout(demo_lake) == LAYOUT_VERSION
    assert not [p for p in demo_lake.root.glob("**/symbol=*") if "_trash" not in p.parts]
    rerun = _invoke("migrate", "--lake", str(demo_lake.root))
    assert "nothing to do" in rerun.output

    built = _invoke("run", "--layer", "all", "--lake", str(demo_lake.root))
    assert built.exit_code == 0, built.output
    after = _lake_tables(demo_lake)
    assert after.keys() == before.keys()
    for key, frame in before.items():
        assert after[key].equals(frame), key


@pytest.mark.parametrize(
    "setup",
    [
        pytest.param(lambda p: None, id="missing"),
        pytest.param(lambda p: p.mkdir(), id="empty-dir"),
        pytest.param(lambda p: (p.mkdir(), (p / "notes.txt").write_text("x")), id="foreign-dir"),
    ],
)
def test_a_folder_that_is_not_a_lake_fails_loudly(tmp_path: Path, setup: Callable[[Path], object]) -> None:
    target = tmp_path / "typo"
    setup(target)
    for command in (["status"], ["verify"], ["run", "--layer", "bronze"], ["runs"], ["series", "list"]):
        line = _one_line_error(_invoke(*command, "--lake", str(target)))
        assert str(target) in line, command
    assert not (target / LAYOUT_FILE).exists(), "only import/demo/download/update create a lake"


def test_a_newer_or_corrupt_layout_file_is_refused(demo_lake: Lake) -> None:
    (demo_lake.root / LAYOUT_FILE).write_text(json.dumps({"layout": LAYOUT_VERSION + 1}))
    assert "upgrade rst" in _one_line_error(_invoke("status", "--lake", str(demo_lake.root)))
    (demo_lake.root / LAYOUT_FILE).write_bytes(b"\xff\xfe not json")
    assert LAYOUT_FILE in _one_line_error(_invoke("status", "--lake", str(demo_lake.root)))


def test_import_creates_the_lake_and_says_so(tmp_path: Path, raw_template: Path) -> None:
    source = next((raw_template / "raw").glob("source=databento/dataset=*/schema=ohlcv-1d/*/*.dbn.zst"))
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    shutil.copy(source, incoming / source.name)
    target = tmp_path / "new-lake"
    result = _invoke("import", str(incoming), "--lake", str(target))
    assert result.exit_code == 0, result.output
    assert f"created lake {target}" in result.output
    assert read_layout(Lake(target)) == LAYOUT_VERSION
    again = _invoke("import", str(incoming), "--lake", str(target))
    assert "created lake" not in again.output
