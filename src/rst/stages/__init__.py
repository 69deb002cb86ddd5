"""The medallion stages: ``bronze`` (DBN → Parquet), ``silver`` (definitions joined, exchange time), ``gold`` (continuous series, session windows)."""
