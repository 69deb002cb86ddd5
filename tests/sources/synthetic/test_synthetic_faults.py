"""Optional faults: off by default, present on request, deterministic."""

from __future__ import annotations

import numpy as np
import pytest
from databento_dbn import UNDEF_PRICE
from synthetic_helpers import WriteFile, read_store

from rst.sources.synthetic import Fault, generate


def _counts(records: np.ndarray) -> dict[Fault, int]:
    return {
        Fault.HIGH_BELOW_LOW: int((records["high"] < records["low"]).sum()),
        Fault.UNDEF_PRICE: int((records["close"] == UNDEF_PRICE).sum()),
        Fault.ZERO_VOLUME: int((records["volume"] == 0).sum()),
        Fault.NON_POSITIVE_PRICE: int((records["low"] <= 0).sum()),
    }


def test_no_faults_by_default() -> None:
    records = generate("ohlcv-1d", "ES", "2024-01-01", "2024-03-01").records
    outright = records[(records["instrument_id"] % 1_000_000) < 500_000]

    assert all(n == 0 for n in _counts(outright).values())


@pytest.mark.parametrize("fault", list(Fault))
def test_each_fault_kind_breaks_the_requested_number_of_bars(fault: Fault) -> None:
    clean = generate("ohlcv-1h", "CL", "2024-01-01", "2024-01-15").records
    broken = generate("ohlcv-1h", "CL", "2024-01-01", "2024-01-15", faults=[fault.value], fault_count=3).records

    assert _counts(broken)[fault] == 3
    assert int((clean != broken).sum()) == 3


def test_faulty_file_is_still_readable_and_deterministic(write_file: WriteFile) -> None:
    kinds = ["high_below_low", "undef_price", "zero_volume"]
    a = write_file("ohlcv-1d", faults=kinds)
    b = write_file("ohlcv-1d", faults=kinds)
    records = read_store(a).to_ndarray()

    assert a.read_bytes() == b.read_bytes()
    assert _counts(records)[Fault.HIGH_BELOW_LOW] == 2
    assert _counts(records)[Fault.UNDEF_PRICE] == 2
    assert _counts(records)[Fault.ZERO_VOLUME] == 2
