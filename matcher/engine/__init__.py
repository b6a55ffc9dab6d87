"""The matching engine: one book per instrument, pure computation, no I/O."""
