"""``rst series add/list/show/remove`` on a tmp lake."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from rst.cli.main import cli
from rst.framework.lake import Lake
from rst.series import SeriesStore


def rst(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_add_list_show_remove(tmp_path: Path) -> None:
    lake = str(Lake.create(tmp_path / "lake")[0].root)
    code, out = rst(
        "series", "add", "--lake", lake, "--id", "es_front", "--parent", "es", "--roll-rule", "volume_crossover",
        "--roll-offset-days", "2", "--adjustment", "backward_additive", "--rank", "1", "--months", "zhum",
        "--price-field", "close",
    )  # fmt: skip
    assert code == 0, out
    defn = SeriesStore(tmp_path / "lake").get("es_front")
    assert (defn.parent, defn.roll_rule.value, defn.roll_offset_days, defn.contract_rank, defn.allowed_months) == (
        "ES", "volume_crossover", 2, 1, "HMUZ",
    )  # fmt: skip
    code, out = rst("series", "list", "--lake", lake)
    assert code == 0 and "es_front" in out and "backward_additive" in out
    code, out = rst("series", "show", "--lake", lake, "es_front")
    assert code == 0 and defn.fingerprint() in out
    code, out = rst("series", "remove", "--lake", lake, "es_front")
    assert code == 0 and SeriesStore(tmp_path / "lake").list() == []


def test_errors_are_one_line(tmp_path: Path) -> None:
    lake = str(Lake.create(tmp_path / "lake")[0].root)
    base = ["series", "add", "--lake", lake, "--id", "a", "--parent", "ES"]
    assert rst(*base)[0] == 0
    code, out = rst(*base)
    assert code == 1 and "already exists" in out
    code, out = rst(*base, "--months", "HX1")
    assert code == 1 and "allowed_months" in out
    code, out = rst("series", "add", "--lake", lake, "--id", "b", "--parent", "ES", "--roll-rule", "sometimes")
    assert code == 2 and "sometimes" in out
    code, out = rst("series", "remove", "--lake", lake, "nope")
    assert code == 1 and "unknown series 'nope'" in out


def test_series_commands_need_an_existing_lake(tmp_path: Path) -> None:
    code, out = rst("series", "add", "--lake", str(tmp_path / "typo"), "--id", "a", "--parent", "ES")
    assert code == 1 and out.startswith("error: no lake at") and out.count("\n") == 1
    assert not (tmp_path / "typo").exists()
