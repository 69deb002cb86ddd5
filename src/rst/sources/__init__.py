"""Where data comes from: DBN files, the immutable raw zone, the synthetic generator, the Databento API."""
