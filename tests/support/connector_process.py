"""A FIX connector in a process of its own, for crash tests (`kill -9`).

`python -m tests.support.connector_process --port P --store DIR --out FILE [--place ID]
[--hang-on-trade] [--db FILE]` connects to the simulator, optionally places one order, and
writes every report it takes to FILE as a JSON line. With --hang-on-trade, its sink never
returns on the first fill (written to FILE as "seen" first): the process is then killed
while that report is not yet taken. With --db, the session's numbers are also kept in that
SQLite store (gateway.fix.durable), as a gateway replica keeps them in the OMS's store.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from decimal import Decimal
from pathlib import Path

from gateway.fix.connector import FixConnector
from gateway.fix.durable import DurableSession, session_key
from gateway.fix.session import SessionConfig
from shared.adapters.sqlite.store import open_sqlite_store
from shared.domain.enums import OrderType, Side, TimeInForce
from shared.ports.venue import ReportKind, VenueOrder, VenueReport


def _line(out: Path, data: dict[str, object]) -> None:
    with out.open("a") as file:
        file.write(json.dumps(data) + "\n")
        file.flush()
        os.fsync(file.fileno())


async def main(args: argparse.Namespace) -> None:
    out = Path(args.out)
    config = SessionConfig(
        "127.0.0.1", args.port, "OMS", "EXCH", Path(args.store), heartbeat_seconds=5
    )
    durable = None
    if args.db:
        store = await open_sqlite_store(args.db)
        durable = DurableSession(
            store.venues, session_key("crash", config), block=args.block, sync_every=0.2
        )
    connector = FixConnector("crash", config, logon_timeout=5, first_backoff=0.2, durable=durable)

    async def sink(report: VenueReport) -> None:
        data = {
            "kind": report.kind.value,
            "cl_ord_id": report.cl_ord_id,
            "exec_id": report.exec_id,
            "last_qty": str(report.last_qty),
            "cum_qty": str(report.cum_qty),
            "poss_dup": report.poss_dup,
            "seq": report.seq_num,
        }
        if args.hang_on_trade and report.kind is ReportKind.TRADE:
            _line(out, {"seen": data})
            await asyncio.Event().wait()  # never taken: the process is killed here
        _line(out, {"taken": data})

    await connector.start(sink)
    if not await connector.wait_connected(30):
        _line(out, {"error": "not connected"})
        return
    _line(out, {"connected": True, "restored": bool(durable and durable.restored)})
    if args.place:
        order = VenueOrder(
            args.place, "AAPL", Side.BUY, OrderType.LIMIT, TimeInForce.GTC, Decimal(5),
            1_750_000_000_000_000_000, price=Decimal(100),
        )  # fmt: skip
        await connector.place(order)
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--place", default="")
    parser.add_argument("--hang-on-trade", action="store_true")
    parser.add_argument("--db", default="")
    parser.add_argument("--block", type=int, default=1000)
    asyncio.run(main(parser.parse_args()))
