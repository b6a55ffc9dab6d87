"""The local run's trigger dispatcher: session slots take turns, as the matcher's do."""

from __future__ import annotations

import asyncio

import azure.functions as func

from localrun.dispatcher import TriggerDispatcher
from shared.adapters.bus_memory import InMemoryBus, QueueOptions
from shared.config.settings import Settings
from shared.ports.bus import BusMessage


async def test_a_session_gets_a_slot_while_more_busy_sessions_than_slots_keep_coming():
    bus = InMemoryBus({"executions": QueueOptions(requires_session=True)})
    seen: list[str] = []
    app = func.FunctionApp()

    @app.function_name("executions")
    @app.service_bus_queue_trigger(
        arg_name="message", queue_name="executions", connection="c", is_sessions_enabled=True
    )
    async def executions(message: func.ServiceBusMessage) -> None:
        seen.append(str(message.session_id))
        await asyncio.sleep(0.001)

    dispatcher = TriggerDispatcher(app, bus, Settings(), session_slots=2, batch=4)
    busy = [f"BUSY{n}" for n in range(6)]
    sending = True

    async def keep_busy() -> None:
        n = 0
        while sending:
            n += 1
            await bus.send("executions", [BusMessage(b"e", f"{s}:{n}", s) for s in busy])
            await asyncio.sleep(0.005)

    await dispatcher.start()
    feeder = asyncio.create_task(keep_busy())
    try:
        await asyncio.sleep(0.2)
        await bus.send("executions", [BusMessage(b"e", "NEW:1", "NEW")])
        for _ in range(2000):  # up to 20 s; answered within a few turns of 0.25 s
            if "NEW" in seen:
                break
            await asyncio.sleep(0.01)
        assert "NEW" in seen and not feeder.done()
    finally:
        sending = False
        await feeder
        await dispatcher.stop()
