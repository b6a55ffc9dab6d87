"""Tools, not product: benchmarks, the load generator, the fault-injection simulation and
the exchange simulators the tests run as processes of their own (`python -m tools.<name>`)."""
