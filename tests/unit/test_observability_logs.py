"""Log lines: one JSON object each, the ids of the work in hand, the level from the
settings, text for a terminal when asked, and never a secret."""

from __future__ import annotations

import io
import json
import logging

import pytest
from opentelemetry.trace import SpanKind

from shared.api_keys import new_api_key
from shared.config.settings import Settings
from shared.observability import tracing
from shared.observability.logs import RedactingFilter, configure_logging, request_id
from shared.observability.redaction import redact
from tests.support.telemetry import captured_spans, json_logs, log_records

log = logging.getLogger("tests.observability")

_KEY = new_api_key()
# (what, the secret as it may appear, the part that must never be seen)
SECRETS = [
    ("an account key", _KEY, _KEY[4:]),
    ("the local admin key", "adm_Xk2Qv9Lp0Zr7Tn4Wm1Bc8Hd5Jf3Gs6", "Xk2Qv9Lp0Zr7Tn4Wm1Bc8Hd5Jf3Gs6"),
    (
        "a storage account key",
        "DefaultEndpointsProtocol=https;AccountName=st;"
        "AccountKey=c2VjcmV0a2V5MTIzNDU2Nzg5MA==;EndpointSuffix=core.windows.net",
        "c2VjcmV0a2V5MTIzNDU2Nzg5MA==",
    ),
    (
        "a Service Bus key",
        "Endpoint=sb://oms.servicebus.windows.net/;SharedAccessKeyName=root;"
        "SharedAccessKey=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5=",
        "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5=",
    ),
    (
        "a MongoDB password",
        "mongodb://oms:s3cr3t-Passw0rd@oms.mongo.cosmos.azure.com:10255/?ssl=true",
        "s3cr3t-Passw0rd",
    ),
    (
        "a Redis password",
        "rediss://:r3dis-Passw0rd-xyz@oms.redis.cache.windows.net:6380/0",
        "r3dis-Passw0rd-xyz",
    ),
    (
        "a bearer token",
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhY2MtMSJ9.c2lnbmF0dXJl",
        "c2lnbmF0dXJl",
    ),
]


@pytest.mark.parametrize(("kind", "secret", "hidden"), SECRETS, ids=[s[0] for s in SECRETS])
def test_no_secret_reaches_a_log_line_in_message_arguments_extras_or_tracebacks(
    kind: str, secret: str, hidden: str
):
    with json_logs("DEBUG") as out:
        log.info("connecting with %s", secret)
        log.warning(f"inline {secret}")
        log.info("as an extra", extra={"connection": secret})
        try:
            raise RuntimeError(f"could not connect: {secret}")
        except RuntimeError:
            log.exception("failed")
    text = out.getvalue()
    assert hidden not in text
    assert text.count("***") >= 4
    assert len(log_records(out)) == 4  # still one JSON object a line


def test_the_exact_values_of_secret_settings_are_masked_too():
    settings = Settings(OMS_ADMIN_API_KEY="correct-horse-battery-staple")
    out = io.StringIO()
    secrets = {"OMS_ADMIN_API_KEY": settings.OMS_ADMIN_API_KEY}
    configure_logging("INFO", "json", secrets=secrets, stream=out)
    try:
        log.warning("the admin key is correct-horse-battery-staple")
    finally:
        configure_logging("WARNING", "json", stream=None)
        for handler in logging.getLogger().handlers:
            for f in list(handler.filters):
                if isinstance(f, RedactingFilter):
                    handler.removeFilter(f)
    assert "correct-horse" not in out.getvalue()
    assert "the admin key is ***" in out.getvalue()


def test_a_handler_with_its_own_formatting_gets_redacted_records():
    # The Functions worker and the Azure Monitor exporter format records themselves.
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    handler = Keep()
    handler.addFilter(RedactingFilter())
    log.addHandler(handler)
    try:
        key = new_api_key()
        log.warning("key %s", key, extra={"header": f"X-API-Key: {key}"})
    finally:
        log.removeHandler(handler)
    (record,) = seen
    assert key not in record.getMessage() and key not in str(vars(record))


def test_a_line_is_one_json_object_with_level_logger_time_and_the_ids_in_hand():
    with json_logs("INFO") as out, captured_spans():
        token = request_id.set("r-42")
        try:
            with tracing.root_span("test", SpanKind.SERVER) as span:
                assert span is not None
                log.info("order accepted", extra={"order_id": "o-1", "command_id": "o-1.new"})
        finally:
            request_id.reset(token)
        log.debug("not at INFO")
    (line,) = log_records(out)
    assert line["level"] == "INFO" and line["logger"] == "tests.observability"
    assert line["message"] == "order accepted" and line["time"].endswith("Z")
    assert (line["order_id"], line["command_id"], line["request_id"]) == ("o-1", "o-1.new", "r-42")
    assert line["trace_id"] == f"{span.get_span_context().trace_id:032x}"


def test_text_lines_for_a_terminal_keep_the_ids():
    out = io.StringIO()
    configure_logging("INFO", "text", stream=out)
    try:
        log.info("order accepted", extra={"order_id": "o-7"})
    finally:
        configure_logging("WARNING", "json", stream=None)
    line = out.getvalue().strip()
    assert " INFO tests.observability order accepted order_id=o-7" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


@pytest.mark.parametrize("value", ["debug", "WARNING"])
def test_the_level_and_format_settings_take_any_case(value: str, monkeypatch):
    monkeypatch.setenv("OMS_LOG_LEVEL", value)
    monkeypatch.setenv("OMS_LOG_FORMAT", "TEXT")
    settings = Settings()
    assert (value.upper(), "text") == (settings.OMS_LOG_LEVEL, settings.OMS_LOG_FORMAT)


def test_redaction_leaves_ordinary_text_alone():
    text = "order 0190f3a2 placed by acc_603ff4f7 at 190.00 (client order id my-first-order)"
    assert redact(text) == text
