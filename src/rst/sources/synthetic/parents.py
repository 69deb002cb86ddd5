"""The futures parents the generator knows: six real CME Group products and derived synthetic ones.

Prices and ticks are int64 fixed-point, 1 unit = 1e-9. ``P07`` .. ``P99`` are synthetic parents
derived deterministically from their number (varied exchange, tick, cycle and expiry rule), so
that benchmarks can ask for 20 or more parents.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rst.errors import UsageError
from rst.sources.synthetic.calendar import ExpiryRule
from rst.validation import validate_symbol

FIXED_PRICE_SCALE = 1_000_000_000

QUARTERLY = (3, 6, 9, 12)
MONTHLY = tuple(range(1, 13))
BIMONTHLY = (2, 4, 6, 8, 10, 12)
MAX_PARENTS = 99


@dataclass(frozen=True)
class Parent:
    """One futures parent (product), e.g. ES.

    Prices are fixed-point 1e-9; ``expiry_time_utc`` is seconds after 00:00 UTC on the last
    trading day; ``carry`` is the annualised basis of a contract over spot (price x carry x years
    to expiry; negative = backwardation).
    """

    number: int
    """Stable 1-based number; instrument ids are ``number * 1_000_000 + ...``."""
    root: str
    exchange: str
    """MIC of the listing exchange: XCME, XCBT, XNYM or XCEC."""
    tick: int
    """Minimum price increment, fixed-point 1e-9."""
    point_value: int
    """Currency units per 1.0 of price (``unit_of_measure_qty`` / 1e9)."""
    listed_months: tuple[int, ...]
    liquid_months: tuple[int, ...]
    expiry_rule: ExpiryRule
    expiry_time_utc: int
    listing_months: int
    """A contract is activated this many calendar months before its expiration."""
    start_price: float
    annual_vol: float
    carry: float
    daily_volume: int
    """Typical whole-parent daily volume (all contracts)."""
    roll_days: int
    """Business days before expiration by which volume has moved to the next liquid contract."""
    unit_of_measure: str
    cfi: str
    migration_days: int = 8
    """Business days over which volume migrates to the next contract, ending at the roll point."""
    currency: str = "USD"
    max_trade_vol: int = 2_000

    @property
    def symbol(self) -> str:
        """Databento parent symbol, e.g. ``ES.FUT``."""
        return f"{self.root}.FUT"

    @property
    def id_base(self) -> int:
        """First instrument id of the parent's id block."""
        return self.number * 1_000_000

    @property
    def tick_price(self) -> float:
        """Tick size as a float in price units."""
        return self.tick / FIXED_PRICE_SCALE


def _px(value: float) -> int:
    return round(value * FIXED_PRICE_SCALE)


_REAL: tuple[Parent, ...] = (
    Parent(
        number=1, root="ES", exchange="XCME", tick=_px(0.25), point_value=50,
        listed_months=QUARTERLY, liquid_months=QUARTERLY, expiry_rule=ExpiryRule.THIRD_FRIDAY,
        expiry_time_utc=13 * 3600 + 30 * 60, listing_months=12, start_price=4500.0,
        annual_vol=0.18, carry=0.02, daily_volume=1_500_000, roll_days=8,
        unit_of_measure="IPNT", cfi="FFIXSX", max_trade_vol=3_000,
    ),
    Parent(
        number=2, root="NQ", exchange="XCME", tick=_px(0.25), point_value=20,
        listed_months=QUARTERLY, liquid_months=QUARTERLY, expiry_rule=ExpiryRule.THIRD_FRIDAY,
        expiry_time_utc=13 * 3600 + 30 * 60, listing_months=12, start_price=15500.0,
        annual_vol=0.24, carry=0.02, daily_volume=600_000, roll_days=8,
        unit_of_measure="IPNT", cfi="FFIXSX",
    ),
    Parent(
        number=3, root="ZN", exchange="XCBT", tick=_px(1 / 64), point_value=1_000,
        listed_months=QUARTERLY, liquid_months=QUARTERLY, expiry_rule=ExpiryRule.TREASURY,
        expiry_time_utc=18 * 3600 + 1 * 60, listing_months=9, start_price=112.0,
        annual_vol=0.06, carry=-0.01, daily_volume=1_300_000, roll_days=22,
        unit_of_measure="USD", cfi="FFDXSX", max_trade_vol=5_000,
    ),
    Parent(
        number=4, root="CL", exchange="XNYM", tick=_px(0.01), point_value=1_000,
        listed_months=MONTHLY, liquid_months=MONTHLY, expiry_rule=ExpiryRule.CRUDE,
        expiry_time_utc=19 * 3600 + 30 * 60, listing_months=6, start_price=75.0,
        annual_vol=0.35, carry=0.04, daily_volume=800_000, roll_days=4,
        unit_of_measure="BBL", cfi="FCEXSX",
    ),
    Parent(
        number=5, root="GC", exchange="XCEC", tick=_px(0.10), point_value=100,
        listed_months=MONTHLY, liquid_months=(2, 4, 6, 8, 10, 12), expiry_rule=ExpiryRule.METALS,
        expiry_time_utc=17 * 3600 + 30 * 60, listing_months=6, start_price=2000.0,
        annual_vol=0.15, carry=0.045, daily_volume=250_000, roll_days=3,
        unit_of_measure="OZTR", cfi="FCEXSX",
    ),
    Parent(
        number=6, root="6E", exchange="XCME", tick=_px(0.00005), point_value=125_000,
        listed_months=QUARTERLY, liquid_months=QUARTERLY, expiry_rule=ExpiryRule.FX_IMM,
        expiry_time_utc=20 * 3600 + 16 * 60, listing_months=12, start_price=1.09,
        annual_vol=0.08, carry=0.015, daily_volume=200_000, roll_days=5,
        unit_of_measure="EUR", cfi="FFCXSX",
    ),
)

_DERIVED_NAME = re.compile(r"^P(\d{2})$")
_EXCHANGES = ("XCME", "XCBT", "XNYM", "XCEC")
_TICKS = (0.25, 0.01, 1 / 32, 0.005, 0.10, 0.0001, 0.5, 0.02)
_TICKS_PER_PRICE = (18_000, 9_000, 4_000, 30_000, 12_000, 7_000)
_POINT_VALUES = (50, 1_000, 100, 10, 5_000, 20, 400)
_CYCLES = ((QUARTERLY, QUARTERLY), (MONTHLY, MONTHLY), (MONTHLY, BIMONTHLY), (BIMONTHLY, BIMONTHLY))
_RULES = (ExpiryRule.THIRD_FRIDAY, ExpiryRule.CRUDE, ExpiryRule.METALS, ExpiryRule.TREASURY, ExpiryRule.FX_IMM)
_UNITS = ("IPNT", "USD", "BBL", "OZTR", "MMBTU", "BU")


def derived_parent(number: int) -> Parent:
    """Synthetic parent ``P<number>`` (7 <= number <= 99), a pure function of ``number``."""
    if not 7 <= number <= MAX_PARENTS:
        raise UsageError(f"parent number must be within 7..{MAX_PARENTS}, got {number}")
    i = number - 7
    tick = _TICKS[i % len(_TICKS)]
    listed, liquid = _CYCLES[i % len(_CYCLES)]
    rule = _RULES[(i // 2) % len(_RULES)]
    monthly = len(listed) == 12
    return Parent(
        number=number,
        root=f"P{number:02d}",
        exchange=_EXCHANGES[i % len(_EXCHANGES)],
        tick=_px(tick),
        point_value=_POINT_VALUES[i % len(_POINT_VALUES)],
        listed_months=listed,
        liquid_months=liquid,
        expiry_rule=rule,
        expiry_time_utc=(14 + i % 6) * 3600,
        listing_months=6 if monthly else 12,
        start_price=tick * _TICKS_PER_PRICE[i % len(_TICKS_PER_PRICE)],
        annual_vol=0.08 + 0.03 * (i % 7),
        carry=-0.02 + 0.01 * (i % 6),
        daily_volume=20_000 + 37_000 * (i % 9),
        roll_days=4 + 3 * (i % 4),
        unit_of_measure=_UNITS[i % len(_UNITS)],
        cfi="FFIXSX" if i % 3 == 0 else "FCEXSX",
    )


REGISTRY: dict[str, Parent] = {p.root: p for p in _REAL}
"""The real parents by root: ES, NQ, ZN, CL, GC, 6E."""


def get_parent(symbol: str | Parent) -> Parent:
    """The parent for a root (``ES``), a parent symbol (``ES.FUT``) or ``P07``..``P99``.

    Raises :class:`rst.errors.UsageError` for unknown symbols.
    """
    if isinstance(symbol, Parent):
        return symbol
    root = validate_symbol(symbol, "parent")
    if root in REGISTRY:
        return REGISTRY[root]
    match = _DERIVED_NAME.match(root)
    if match and 7 <= int(match.group(1)) <= MAX_PARENTS:
        return derived_parent(int(match.group(1)))
    known = ", ".join(REGISTRY)
    raise UsageError(f"parent: unknown synthetic parent {symbol!r} (known: {known}, P07..P{MAX_PARENTS})")


def default_parents(n: int) -> list[Parent]:
    """The first ``n`` parents: ES, NQ, ZN, CL, GC, 6E, then P07, P08, ..."""
    if not 1 <= n <= MAX_PARENTS:
        raise UsageError(f"number of parents must be within 1..{MAX_PARENTS}, got {n}")
    return [*_REAL[:n], *(derived_parent(k) for k in range(7, n + 1))]


def resolve_parents(symbols: str | Parent | Iterable[str | Parent]) -> list[Parent]:
    """Parents for one symbol or many, de-duplicated, in the given order."""
    items = [symbols] if isinstance(symbols, str | Parent) else list(symbols)
    if not items:
        raise UsageError("parent: no parent given")
    out: dict[str, Parent] = {}
    for item in items:
        parent = get_parent(item)
        out.setdefault(parent.root, parent)
    return list(out.values())
