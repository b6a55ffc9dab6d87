"""The one-command local run (`python -m localrun`, `make run`): the whole OMS in one process
with embedded defaults. A deployable of its own beside `functions/` and `matcher/`: it wires
both, so nothing in `shared/` may import it."""
