"""Helpers the long-running processes use at run time (not the domain, not an adapter)."""
