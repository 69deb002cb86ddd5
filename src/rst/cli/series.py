"""``rst series add/list/show/remove``: the saved continuous-series definitions of a lake.

Definitions live in ``<lake>/_config/series/<id>.toml`` (:class:`rst.series.SeriesStore`);
``rst run --layer gold`` builds each as ``gold/…/parent=<PARENT>/table=continuous_<id>/span=all``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from rst.cli.options import lake_option
from rst.cli.render import out_console
from rst.errors import SeriesError
from rst.framework.lake import Lake
from rst.series import Adjustment, PriceField, RollRule

if TYPE_CHECKING:
    from rst.series import SeriesStore


def _store(lake: str | None) -> SeriesStore:
    from rst.series import SeriesStore

    Lake.resolve(lake).refuse_remote("rst series")
    return SeriesStore(Lake.open(lake).root)


@click.group("series")
def series() -> None:
    """Manage continuous-series definitions."""


@series.command("add")
@lake_option
@click.option("--id", "series_id", required=True, help="Series id: lowercase letters, digits, '_' or '-'.")
@click.option("--parent", required=True, help="Parent symbol, e.g. ES.")
@click.option("--roll-rule", type=click.Choice([r.value for r in RollRule]), default=RollRule.DAYS_BEFORE_EXPIRY.value, show_default=True)
@click.option("--roll-offset-days", type=int, default=5, show_default=True, help="Trading dates before expiry (or after a crossover).")
@click.option("--adjustment", type=click.Choice([a.value for a in Adjustment]), default=Adjustment.BACKWARD_RATIO.value, show_default=True)
@click.option("--rank", "contract_rank", type=int, default=0, show_default=True, help="0 = front, 1 = second, ...")
@click.option("--months", "allowed_months", default="", help="Allowed contract months as codes, e.g. HMUZ (default: all).")
@click.option("--price-field", type=click.Choice([p.value for p in PriceField]), default=PriceField.CLOSE.value, show_default=True)
@click.option("--start", default=None, help="First trading date, YYYY-MM-DD (default: all history).")
@click.option("--notes", default="", help="Free text.")
@click.option("--replace", is_flag=True, help="Overwrite an existing definition with this id.")
def add(
    lake: str | None, series_id: str, parent: str, roll_rule: str, roll_offset_days: int, adjustment: str,
    contract_rank: int, allowed_months: str, price_field: str, start: str | None, notes: str, replace: bool,
) -> None:  # fmt: skip
    """Save a series definition (validated; an existing id needs --replace)."""
    from rst.ops.series import build_series
    from rst.series import SeriesDefinition, SeriesStore
    from rst.series.definition import validate_date

    defn = SeriesDefinition(
        series_id=series_id,
        parent=parent,
        roll_rule=RollRule(roll_rule),
        roll_offset_days=roll_offset_days,
        adjustment=Adjustment(adjustment),
        contract_rank=contract_rank,
        allowed_months=allowed_months,
        price_field=PriceField(price_field),
        start=validate_date(start, "start"),
        notes=notes,
    )
    Lake.resolve(lake).refuse_remote("rst series add")
    the_lake = Lake.open(lake)
    path = SeriesStore(the_lake.root).add(defn, replace=replace)
    out_console.print(f"saved {defn.series_id} ({defn.parent}) -> {path}", highlight=False)
    built = build_series(the_lake, defn)
    if built.result is None:
        out_console.print(
            f"not built yet: {defn.parent} has no silver daily bars; run `{built.next_step(the_lake)}`, "
            f"then `rst query --series {defn.series_id}`",
            highlight=False, soft_wrap=True,
        )  # fmt: skip
    elif built.ready:
        out_console.print(
            f"built {built.result.partition.label}: {built.result.rows_out:,} rows; "
            f"`rst query --series {defn.series_id}` reads it",
            highlight=False, soft_wrap=True,
        )  # fmt: skip
    else:
        raise SeriesError(f"series {defn.series_id} saved but its build failed: {built.result.error}")


@series.command("list")
@lake_option
def list_(lake: str | None) -> None:
    """List the saved series."""
    from rich.table import Table

    definitions = _store(lake).list()
    if not definitions:
        out_console.print("no series saved (rst series add --id … --parent …)")
        return
    table = Table(title="continuous series")
    for col in ("id", "parent", "roll rule", "offset", "adjustment", "rank", "months", "price", "start"):
        table.add_column(col)
    for d in definitions:
        table.add_row(
            d.series_id, d.parent, d.roll_rule.value, str(d.roll_offset_days), d.adjustment.value,
            str(d.contract_rank), d.allowed_months or "all", d.price_field.value, str(d.start or ""),
        )  # fmt: skip
    out_console.print(table)


@series.command("show")
@lake_option
@click.argument("series_id")
def show(lake: str | None, series_id: str) -> None:
    """Show one series definition, its file and fingerprint."""
    store = _store(lake)
    defn = store.get(series_id)
    for key, value in defn.to_mapping().items():
        out_console.print(f"{key:17} {'' if value is None else value}", highlight=False)
    out_console.print(f"{'file':17} {store.path(series_id)}", highlight=False)
    out_console.print(f"{'fingerprint':17} {defn.fingerprint()}", highlight=False)


@series.command("remove")
@lake_option
@click.argument("series_id")
def remove(lake: str | None, series_id: str) -> None:
    """Delete a series definition (its gold table stays until invalidated)."""
    _store(lake).remove(series_id)
    out_console.print(f"removed {series_id}", highlight=False)
