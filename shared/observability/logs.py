"""Log configuration: one JSON object a line on stderr (or text for a terminal), level from
OMS_LOG_LEVEL, the ids of the work in hand on every line, and no secret in any line.

Fields of a JSON line: `time` (UTC, ISO 8601), `level`, `logger`, `message`, then whichever
apply: `request_id` (the HTTP request, also answered in the X-Request-ID header),
`trace_id` and `span_id` (the OpenTelemetry span), and what the code logged with `extra`:
`order_id`, `command_id`, `symbol`, `seq`, ... `exc_info` holds a traceback.

The stages of an order log one DEBUG line each, carrying its `order_id` (intake, the
command sent to the bus, the matcher's journal entry, the projector, the live-feed push):
set OMS_LOG_LEVEL=DEBUG to follow orders (INFO, the default, logs no line per order).
"""

from __future__ import annotations

import logging
import sys
import time
from contextvars import ContextVar
from typing import Any, TextIO

from opentelemetry import trace
from pythonjsonlogger.orjson import OrjsonFormatter

from shared.observability.redaction import SECRET_SETTINGS, add_secret_values, redact

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
"""The id of the HTTP request being served (set by the request middleware)."""

_OURS = "_oms_handler"
_RESERVED = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_QUIET = ("azure", "uvicorn.access", "urllib3", "httpx", "aiohttp.access")


def _context(fields: dict[str, Any]) -> None:
    rid = request_id.get()
    if rid is not None:
        fields.setdefault("request_id", rid)
    span = trace.get_current_span().get_span_context()
    if span.is_valid:
        fields.setdefault("trace_id", f"{span.trace_id:032x}")
        fields.setdefault("span_id", f"{span.span_id:016x}")


class JsonLines(OrjsonFormatter):
    """python-json-logger's formatter with the context fields, and the line redacted."""

    def __init__(self) -> None:
        super().__init__(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        _context(log_data)
        return log_data

    def serialize_log_record(self, log_data: dict[str, Any]) -> str:
        return redact(super().serialize_log_record(log_data))


class TextLines(logging.Formatter):
    """For a terminal: `time LEVEL logger message key=value ...`, redacted."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = {k: v for k, v in vars(record).items() if k not in _RESERVED}
        _context(fields)
        if fields:
            pairs = " ".join(f"{k}={v}" for k, v in fields.items())
            head, newline, rest = line.partition("\n")  # keep a traceback below the line
            line = f"{head} {pairs}{newline}{rest}"
        return redact(line)


class RedactingFilter(logging.Filter):
    """Masks secrets in the message, the string extras and a traceback of every record a
    handler takes, so handlers with their own formatting (the Functions worker's, the
    Azure Monitor exporter's) send no secret either."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if record.args or clean != message:
            record.msg, record.args = clean, None
        for key, value in vars(record).items():
            if key not in _RESERVED and isinstance(value, str):
                setattr(record, key, redact(value))
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            clean = redact(text)
            if clean != text:  # the traceback names a secret: keep only its redacted text
                record.exc_info, record.exc_text = None, clean
        return True


def configure_logging(
    level: str = "INFO",
    fmt: str = "json",
    *,
    secrets: dict[str, str | None] | None = None,
    stream: TextIO | None = sys.stderr,
) -> None:
    """Set the root level and, unless `stream` is None (a host that ships the process's
    logs itself, as the Functions worker does), one handler writing `fmt` lines to it.
    Every root handler gets the redacting filter. Idempotent."""
    add_secret_values((secrets or {}).get(name) for name in SECRET_SETTINGS)
    root = logging.getLogger()
    root.setLevel(level.upper())
    for handler in list(root.handlers):
        if getattr(handler, _OURS, False):
            root.removeHandler(handler)
    if stream is not None:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(TextLines() if fmt == "text" else JsonLines())
        setattr(handler, _OURS, True)
        root.addHandler(handler)
    protect_handlers()
    # Client libraries log each HTTP call at INFO; their warnings still come through.
    for name in _QUIET:
        logging.getLogger(name).setLevel(max(root.level, logging.WARNING))
    logging.captureWarnings(True)


def protect_handlers() -> None:
    """Give every root handler the redacting filter (call again after adding handlers)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
