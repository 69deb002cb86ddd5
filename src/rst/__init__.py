"""rst: an exact, rerunnable medallion lakehouse for Databento futures data."""

from __future__ import annotations

__version__ = "0.1.0"
