"""Tools, not product: benchmarks and the load generator (`python -m tools.<name>`)."""
