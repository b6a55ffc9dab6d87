"""The one-command local run: the whole OMS in one process with embedded defaults."""
