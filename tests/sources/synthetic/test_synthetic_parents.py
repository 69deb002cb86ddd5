"""The parent registry and its derived synthetic parents."""

from __future__ import annotations

import pytest

from rst.errors import UsageError
from rst.sources.synthetic import REGISTRY, default_parents, get_parent


def test_real_parents() -> None:
    assert list(REGISTRY) == ["ES", "NQ", "ZN", "CL", "GC", "6E"]
    assert get_parent("es.fut") is REGISTRY["ES"]
    assert REGISTRY["GC"].liquid_months == (2, 4, 6, 8, 10, 12)
    assert len(REGISTRY["GC"].listed_months) == 12
    assert REGISTRY["ZN"].tick == 15_625_000


def test_derived_parents_are_deterministic_and_varied() -> None:
    parents = default_parents(20)

    assert [p.root for p in parents[6:8]] == ["P07", "P08"]
    assert get_parent("P13") == parents[12]
    assert len({p.tick for p in parents}) >= 5
    assert len({p.listed_months for p in parents}) >= 3
    assert len({p.number for p in parents}) == 20


@pytest.mark.parametrize("symbol", ["XX", "P05", "P100", "ES!"])
def test_unknown_parent_is_a_usage_error(symbol: str) -> None:
    with pytest.raises(UsageError, match="parent"):
        get_parent(symbol)
