"""Synthetic GLBX.MDP3 data: valid DBN files (v3 by default, or v2) that ``databento.DBNStore`` reads.

Deterministic from a seed, column-wise (numpy structured arrays in the record layouts of
``databento_dbn``), fast enough for 20 parents x 20 years of daily bars. Prices are int64
fixed-point 1e-9 on each parent's tick grid, times UTC ns, windows ``[start, end)``.

Modules, one concern each: ``parents`` (the product registry), ``calendar`` (expiry rules,
Globex hours), ``contracts`` (listing, ids, symbols, spreads), ``noise`` (counter-based
randomness), ``prices`` (spot and contract price paths), ``volume`` (volume and its roll
migration), ``bars`` (OHLCV records), ``definitions`` (InstrumentDefMsg records), ``faults``
(broken bars for quarantine tests), ``symbology`` (metadata mappings), ``dbn_writer``
(encoding), ``generate`` (entry points and the schema registry), ``layout`` (directories of files),
and the intraday schemas: ``intraday`` (sessions and quoted instruments), ``book`` (order-book
simulation: mbp-10, mbp-1, tbbo), ``trades``, ``statistics``.
"""

from __future__ import annotations

from rst.sources.synthetic.contracts import Contract, Spread, contracts_between, spreads_between
from rst.sources.synthetic.definitions import Cadence
from rst.sources.synthetic.faults import Fault
from rst.sources.synthetic.generate import (
    Options,
    SyntheticData,
    generate,
    register_schema,
    supported_schemas,
    write_dbn_file,
)
from rst.sources.synthetic.layout import Split, file_name, write_dataset

# the intraday schemas register themselves with ``register_schema`` on import
from rst.sources.synthetic import book, statistics, trades  # noqa: E402,F401  isort: skip
from rst.sources.synthetic.parents import REGISTRY, Parent, default_parents, get_parent

__all__ = [
    "REGISTRY",
    "Cadence",
    "Contract",
    "Fault",
    "Options",
    "Parent",
    "Split",
    "Spread",
    "SyntheticData",
    "contracts_between",
    "default_parents",
    "file_name",
    "generate",
    "get_parent",
    "register_schema",
    "spreads_between",
    "supported_schemas",
    "write_dataset",
    "write_dbn_file",
]
