"""API keys: random, shown once, stored only as a sha256 hash."""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "oms_"


def new_api_key() -> str:
    """A fresh API key (256 random bits)."""
    return PREFIX + secrets.token_urlsafe(32)


def hash_api_key(api_key: str) -> str:
    """The sha256 hex digest the accounts store keeps instead of the key."""
    return hashlib.sha256(api_key.encode()).hexdigest()
