"""Money is never spent past the cap: cost caps and the gateway's prices are checked, once, here.

A cap (``--max-cost``, ``max_cost_usd`` in the update config) and every price the gateway
returns (``metadata.get_cost``) must be a finite, non-negative number of USD: ``nan``
compares false with everything (a NaN cap or price would let any plan through), ``inf``
is no cap at all, and a negative price lowers a plan's total below the cap. Anything
else refuses the plan with one line, before a byte is downloaded.
"""

from __future__ import annotations

import math

from rst.errors import DownloadError, Terminal, UsageError


class InvalidPrice(DownloadError, Terminal):
    """The gateway priced (or sized) a request with something other than a finite, non-negative number."""


def _amount(value: object) -> float | None:
    """``value`` as a finite, non-negative float, else None (bools and strings are not amounts)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    amount = float(value)
    return amount if math.isfinite(amount) and amount >= 0 else None


def validate_cost_cap(value: object, param: str) -> float:
    """A cost cap in USD (``param`` names the option or key); ``"2.5"`` and ``2.5`` are accepted.

    Raises :class:`UsageError` for ``nan``, ``inf``, negatives and non-numbers.
    """
    number: object = value
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    amount = _amount(number)
    if amount is None:
        raise UsageError(f"{param}: {value!r} is not a finite, non-negative amount in USD (e.g. 25 or 2.50)")
    return amount


def validate_price(value: object, what: str) -> float:
    """The gateway's price for ``what``, in USD; :class:`InvalidPrice` unless finite and non-negative."""
    amount = _amount(value)
    if amount is None:
        raise InvalidPrice(
            f"{what}: the gateway returned {value!r}, not a finite, non-negative amount in USD; "
            "refusing the plan (nothing downloaded)"
        )
    return amount


def validate_size(value: object, what: str) -> int:
    """The gateway's billable size for ``what``, in bytes; :class:`InvalidPrice` unless a non-negative integer."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidPrice(
            f"{what}: the gateway returned {value!r}, not a non-negative number of bytes; "
            "refusing the plan (nothing downloaded)"
        )
    return value
