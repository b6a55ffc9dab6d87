"""Observability: structured logs, OpenTelemetry traces and metrics.

- `logs`: one JSON object a line (or text, for a terminal), with the ids that follow an
  order (request id, order id, command id, instrument seq) and no secret in any line.
- `tracing`: one trace per order command, from the HTTP request through the bus (context in
  the message properties), the matcher, the journal, the projector and the live feed.
- `metrics`: order acceptance and refusals, latencies, matcher batches and backlog,
  projector lag, feed messages, dead letters.
- `setup`: the exporters from the settings (Azure Monitor, OTLP, Prometheus), all off and
  not even imported when nothing asks for them.

Importing this package imports no OpenTelemetry SDK; hot paths pay a `None` check when off.
"""
