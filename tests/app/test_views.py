"""Every view of the app, driven by Streamlit's AppTest on a demo lake: no exception, and what each must show."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import rst.app
from rst.app import jobs
from rst.framework.lake import Lake

TIMEOUT = 60
APP_SCRIPT = Path(rst.app.__file__).parent / "main.py"


def open_view(name: str) -> AppTest:
    at = AppTest.from_file(str(APP_SCRIPT), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    at.sidebar.radio(key="nav_view").set_value(name).run()
    assert not at.exception, at.exception
    return at


def frame(at: AppTest, *columns: str) -> pd.DataFrame:
    """The first dataframe in the page holding all ``columns`` (AppTest does not expose a dataframe's key)."""
    for element in at.dataframe:
        value = element.value
        if set(columns) <= set(value.columns):
            return value
    raise AssertionError(f"no dataframe with columns {columns} in the page")


def texts(at: AppTest) -> str:
    parts = [e.value for e in (*at.error, *at.warning, *at.info, *at.success, *at.markdown, *at.caption)]
    return "\n".join(str(p) for p in parts)


def test_symbol_browser_shows_contracts_coverage_and_candles(app_lake: Lake) -> None:
    at = open_view("Symbol browser")
    assert not at.error, [e.value for e in at.error]
    contracts = frame(at, "symbol", "month", "last_definition")
    assert "ESH4" in set(contracts["symbol"])
    charts = [c for c in at.get("vega_lite_chart")]
    assert len(charts) >= 3  # coverage per schema, trading dates, candlesticks


def test_definitions_viewer_orders_by_expiry_and_shows_history(app_lake: Lake) -> None:
    at = open_view("Definitions")
    table = frame(at, "symbol", "instrument_id", "exchange")
    assert list(table.columns[:4]) == ["symbol", "instrument_id", "activation", "expiration"]
    assert table["expiration"].is_monotonic_increasing
    history = frame(at, "ts_recv", "raw_symbol")
    assert len(history) >= 1


def test_parent_metadata_save_reload_and_stale(app_lake: Lake) -> None:
    at = open_view("Parent metadata")
    form_keys = [w.key for w in at.text_input]
    tz_key = next(k for k in form_keys if k.startswith("parents_timezone_ES"))
    at.text_input(key=tz_key).set_value("Mars/Olympus")
    at.button(key=next(b.key for b in at.button if b.key.startswith("parents_save_ES"))).click().run()
    assert any("Mars/Olympus" in e.value and "timezone" in e.value for e in at.error), texts(at)
    assert "\n" not in at.error[0].value
    tz_key = next(w.key for w in at.text_input if w.key.startswith("parents_timezone_ES"))
    at.text_input(key=tz_key).set_value("America/New_York")
    at.button(key=next(b.key for b in at.button if b.key.startswith("parents_save_ES"))).click().run()
    assert not at.error, [e.value for e in at.error]
    assert "saved overrides of ES" in texts(at)
    stale = frame(at, "state", "reason", "layer")
    assert set(stale["state"]) == {"stale"} and (stale["layer"] == "silver").any()
    assert 'timezone = "America/New_York"' in (app_lake.root / "_config" / "parents.toml").read_text()
    at.button(key="parents_reload").click().run()
    tz_key = next(w.key for w in at.text_input if w.key.startswith("parents_timezone_ES"))
    assert at.text_input(key=tz_key).value == "America/New_York"


def test_continuous_series_validate_create_build_chart_rolls_export_delete(app_lake: Lake) -> None:
    at = open_view("Continuous series")
    assert "es_front_ratio" in set(frame(at, "series_id", "roll_rule")["series_id"])
    at.text_input(key="series_id_new").set_value("Bad Id")
    at.text_input(key="series_parent_new").set_value("ES")
    at.button(key="series_save_new").click().run()
    assert at.error and "not saved: field 'series_id'" in at.error[0].value
    at.text_input(key="series_id_new").set_value("es_c5")
    at.text_input(key="series_months_new").set_value("HMUZ")
    at.button(key="series_save_new").click().run()
    assert not at.error, [e.value for e in at.error]
    assert at.selectbox(key="series_pick").value == "es_c5"
    assert "not built yet" in texts(at)
    at.button(key="series_build").click().run()
    job = jobs.current(str(app_lake.root), "series-build")
    assert job is not None
    again = at.button(key="series_build").click().run()  # a second click while it runs starts nothing new
    assert jobs.current(str(app_lake.root), "series-build") is job or job.finished
    jobs.wait(job)
    assert not job.error, job.error
    at = again.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "built" in texts(at)
    rolls = frame(at, "roll_date", "ref_date")
    assert len(rolls) >= 1 and {"roll_date", "ref_date", "from_price", "to_price"} <= set(rolls.columns)
    assert at.get("vega_lite_chart")
    at.button(key="series_delete_es_c5").click().run()
    assert "deleted es_c5" in texts(at)
    assert not (app_lake.root / "_config" / "series" / "es_c5.toml").exists()


def test_data_updates_import_folder_and_refused_download(app_lake: Lake, tmp_path) -> None:
    import datetime as dt

    from rst.demo import generate_raw

    incoming = tmp_path / "incoming"
    generate_raw(incoming, ("NQ",), dt.date(2024, 1, 1), dt.date(2024, 2, 1))
    (incoming / "junk.dbn").write_bytes(b"not dbn at all")
    at = open_view("Data updates")
    at.text_input(key="upd_folder").set_value(str(tmp_path / "nope")).run()
    at.button(key="upd_list").click().run()
    assert at.error and "does not exist" in at.error[0].value
    at.text_input(key="upd_folder").set_value(str(incoming)).run()
    at.button(key="upd_list").click().run()
    files = frame(at, "file", "schema", "problem")
    assert set(files["parent"]) >= {"NQ"} and (files["problem"] != "").sum() == 1
    at.multiselect(key="upd_selected").set_value(list(files["file"])).run()
    at.button(key="upd_import").click().run()
    outcome = frame(at, "file", "status", "detail")
    assert (outcome["status"] == "refused").sum() == 1 and (outcome["status"] == "imported").sum() == len(files) - 1
    at.button(key="upd_import").click().run()  # importing again skips what is there
    outcome = frame(at, "file", "status", "detail")
    assert (outcome["status"] == "skipped").sum() == len(files) - 1
    # download: plan without a key, then estimate refused with one line
    at.text_input(key="dl_parents").set_value("ES").run()
    assert len(frame(at, "request")) >= 1
    at.button(key="dl_estimate").click().run()
    refused = [e.value for e in at.error if "API key" in e.value]
    assert refused and "\n" not in refused[0] and "Traceback" not in refused[0]
    at.date_input(key="dl_end").set_value(dt.date(2023, 1, 1)).run()
    assert any("must be after start" in e.value for e in at.error)


@pytest.mark.parametrize("view", ["Lake health"])
def test_lake_health_status_verify_and_run_log(app_lake: Lake, view: str) -> None:
    at = open_view(view)
    tables = frame(at, "layer", "table", "done")
    assert {"bronze", "silver", "gold"} <= set(tables["layer"])
    assert "No run recorded yet." in texts(at)
    at.button(key="health_verify").click().run()
    assert any("verify:" in s.value for s in at.success), texts(at)
    # a planted stray entry shows as a lake problem and verify names it
    stray = next((app_lake.root / "silver").rglob("table=ohlcv_1d")) / "year=2024.bak"
    stray.mkdir()
    at.run()
    assert any("year=2024.bak" in w.value for w in at.warning), texts(at)
    at.button(key="health_verify").click().run()
    assert "year=2024.bak" in "".join(frame(at, "problem")["problem"])
