"""The FIX 4.4 exchange simulator: `python -m tools.fix_exchange` (see __main__)."""
