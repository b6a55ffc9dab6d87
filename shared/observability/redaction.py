"""Secrets out of log lines: API keys, tokens, and the secret parts of connection strings.

Two layers: patterns for every secret this system makes or receives (its own API keys, the
secret fields of Azure connection strings, passwords in URLs, bearer tokens and JWTs, an
X-API-Key header), and the exact values of the secret settings the process was given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Account keys (shared.api_keys) and the local run's admin key.
    (re.compile(r"\b(oms|adm)_[A-Za-z0-9_-]{16,}"), rf"\1_{MASK}"),
    # Connection-string fields that hold a secret (Storage, Service Bus, SignalR, ...).
    (
        re.compile(
            r"(?i)\b(AccountKey|SharedAccessKey|SharedAccessSignature|AccessKey|Password|Pwd"
            r"|InstrumentationKey|sig)=([^;&\s\"'\\]+)"
        ),
        rf"\1={MASK}",
    ),
    # user:password@ in a URL (mongodb://, redis://, amqps://, https://).
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@\"'\\]*):([^@\s\"'\\]+)@"), rf"\1:{MASK}@"),
    (re.compile(r"(?i)\bBearer\s+[A-Za-z0-9._~+/=-]+"), f"Bearer {MASK}"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"), MASK),
    (re.compile(r"(?i)(x-api-key[\"']?\s*[:=,]\s*[\"']?)([^\s\"',)}\]]+)"), rf"\1{MASK}"),
)

_values: list[str] = []

# Settings that may hold a secret, whole or in part (a URI with a password, a connection
# string with a key). Their exact values are masked wherever they appear.
SECRET_SETTINGS = (
    "OMS_ADMIN_API_KEY",
    "MONGODB_URI",
    "SERVICEBUS_CONNECTION_STRING",
    "REDIS_URL",
    "SIGNALR_ACCESS_KEY",
    "SNAPSHOTS_CONNECTION_STRING",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
)
_NOT_SECRET = {"UseDevelopmentStorage=true"}


def add_secret_values(values: Iterable[str | None]) -> None:
    """Mask these exact strings too (the values of the secret settings)."""
    for value in values:
        if value and len(value) >= 8 and value not in _NOT_SECRET and value not in _values:
            _values.append(value)
    _values.sort(key=len, reverse=True)  # a longer secret first, when one contains another


def redact(text: str) -> str:
    """`text` with every secret it holds replaced by ***."""
    for value in _values:
        if value in text:
            text = text.replace(value, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
