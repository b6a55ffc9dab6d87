"""Throughput of the in-memory bus: messages sent, received and completed per second.

Run as `python -m tools.bench_bus [messages]`. One producer and one consumer per session run
concurrently on one event loop, with duplicate detection on (as on the real queues). Prints
one line per case (best of three runs, per wall-clock second and per CPU second) and,
last, one JSON object with the figures.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from shared.adapters.bus_memory import InMemoryBus, QueueOptions
from shared.ports.bus import BusMessage

BODY = b'{"type":"NewOrder","order_id":"0123456789abcdef","side":"BUY","qty":"100","px":"150.25"}'


async def throughput(sessions: int, messages: int, batch: int) -> tuple[float, float]:
    """Messages per second through send + receive + complete, all sessions together: per
    wall-clock second, and per CPU second of this process (steady on a busy machine)."""
    bus = InMemoryBus({"orders": QueueOptions(requires_session=True)})
    per_session = messages // sessions

    async def produce(session_id: str) -> None:
        for start in range(0, per_session, batch):
            await bus.send(
                "orders",
                [
                    BusMessage(BODY, f"{session_id}-{i}", session_id, {"type": "NewOrder"})
                    for i in range(start, min(start + batch, per_session))
                ],
            )
            await asyncio.sleep(0)  # let the consumers in, as a real sender would

    async def consume(session_id: str) -> None:
        receiver = await bus.accept_session("orders", session_id)
        assert receiver is not None
        done = 0
        while done < per_session:
            received = await receiver.receive(max_count=batch, max_wait=1.0)
            for message in received:
                await receiver.complete(message)
            done += len(received)
        await receiver.close()

    ids = [f"SYM{n:03d}" for n in range(sessions)]
    started, cpu_started = time.perf_counter(), time.process_time()
    await asyncio.gather(*(consume(s) for s in ids), *(produce(s) for s in ids))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    await bus.close()
    return per_session * sessions / elapsed, per_session * sessions / cpu


async def main(messages: int, repeats: int = 3) -> dict[str, int]:
    """Best of `repeats` runs per case (the machine may be shared)."""
    figures: dict[str, int] = {}
    for sessions in (1, 100):
        for batch in (100, 1):
            runs = [await throughput(sessions, messages, batch) for _ in range(repeats)]
            wall = max(rate for rate, _ in runs)
            cpu = max(rate for _, rate in runs)
            key = f"sessions_{sessions}_batch_{batch}"
            figures[f"{key}_msgs_per_s"] = round(wall)
            figures[f"{key}_msgs_per_cpu_s"] = round(cpu)
            print(
                f"in-memory bus: {sessions:>3} session(s), batch {batch:>3}: "
                f"{wall:>9,.0f} messages/s, {cpu:>9,.0f} per CPU second "
                f"(send + receive + complete, {messages:,} messages, best of {repeats})"
            )
    return figures


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    print(json.dumps(asyncio.run(main(count))))
