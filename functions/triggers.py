"""Service Bus (and timer) triggers: each turns a message into a service call.

- `executions` (session queue, one session per instrument): the matcher's event batches,
  applied by the projector. An exception abandons the message: it is delivered again
  (out-of-order events wait for the missing ones) and dead-lettered after too many tries.
- `order-requests`: bots' orders, the HTTP body as the message body and the account id in
  the `account_id` application property; answers go to the account's live feed.
- `outbox_sweep` (timer): sends orders stored but never dispatched, and resends the pending
  command of orders that have waited too long for the matcher's answer.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import azure.functions as func
import orjson
from opentelemetry.trace import SpanKind
from pydantic import ValidationError

from functions.requests import order_request
from functions.runtime import ContainerProvider
from functions.schemas import PlaceOrder
from shared.bootstrap import Container
from shared.messages import decode_event_batch
from shared.observability import metrics, tracing
from shared.services import codes, order_requests, projector, sweep
from shared.services.errors import InvalidRequest

log = logging.getLogger(__name__)

CONNECTION = "ServiceBusConnection"
ACCOUNT_PROPERTY = "account_id"
SWEEP_SCHEDULE = "*/30 * * * * *"


async def on_execution_message(container: Container, message: func.ServiceBusMessage) -> int:
    """Project one event batch (in the traces of its commands); returns how many events
    changed an order."""
    batch = decode_event_batch(message.get_body())
    properties = message.application_properties or message.user_properties or {}
    with tracing.consuming_batch("projector apply", properties):
        applied = await projector.project_batch(container, batch)
    if batch.events:
        metrics.projected(batch.symbol, (container.clock() - batch.events[-1].ts) / 1e9)
    return applied


async def on_order_request(container: Container, message: func.ServiceBusMessage) -> None:
    """Place a bot's order. Unknown account or a body that is not a JSON object: raise (the
    message ends in the dead-letter queue). Invalid fields or a refusal: the account is told."""
    properties = message.application_properties or message.user_properties or {}
    with tracing.root_span("order-requests process", SpanKind.CONSUMER, properties):
        await _order_request(container, message, properties)


async def _order_request(
    container: Container, message: func.ServiceBusMessage, properties: Mapping[str, object]
) -> None:
    account = await order_requests.account_for(container, str(properties.get(ACCOUNT_PROPERTY, "")))
    body = message.get_body()
    data = orjson.loads(body)
    if not isinstance(data, dict):
        raise ValueError("an order request must be a JSON object")
    try:
        request = order_request(PlaceOrder.model_validate(data))
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        refusal = InvalidRequest(codes.VALIDATION_FAILED, str(first["msg"]), field)
        metrics.order_refused(refusal.reason)
        client_order_id = data.get("client_order_id")
        await order_requests.reject(
            container,
            account.account_id,
            client_order_id if isinstance(client_order_id, str) else None,
            refusal,
        )
        return
    await order_requests.submit(container, account, message.message_id or "", request, body)


def make_blueprint(provider: ContainerProvider) -> func.Blueprint:
    """The trigger functions, bound to the worker's container provider."""
    bp = func.Blueprint()  # type: ignore[no-untyped-call]

    @bp.function_name("executions")
    @bp.service_bus_queue_trigger(
        arg_name="message",
        queue_name="%EXECUTIONS_QUEUE%",
        connection=CONNECTION,
        is_sessions_enabled=True,
    )
    async def executions(message: func.ServiceBusMessage) -> None:
        await on_execution_message(await provider.get(), message)

    @bp.function_name("order_requests")
    @bp.service_bus_queue_trigger(
        arg_name="message", queue_name="%ORDER_REQUESTS_QUEUE%", connection=CONNECTION
    )
    async def order_requests_trigger(message: func.ServiceBusMessage) -> None:
        await on_order_request(await provider.get(), message)

    @bp.function_name("outbox_sweep")
    @bp.timer_trigger(arg_name="timer", schedule=SWEEP_SCHEDULE, run_on_startup=False)
    async def outbox_sweep(timer: func.TimerRequest) -> None:
        report = await sweep.sweep_outbox(await provider.get())
        if report.dispatched or report.resent or report.states or report.projected:
            log.info(
                "outbox sweep dispatched %d orders, resent the commands of %d pending ones"
                " and the trading states of %d instruments, and applied %d journal entries",
                report.dispatched,
                report.resent,
                report.states,
                report.projected,
            )

    return bp
