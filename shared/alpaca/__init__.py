"""Alpaca's Trading API dialect, shared by its two entrypoints: the REST routes
(`functions/alpaca`) and the `trade_updates` stream (`alpaca_stream`). Translation only: ids,
names and JSON shapes; every rule stays in `shared.services` and `shared.domain`."""
