"""`python -m tools.fix_exchange`: a FIX 4.4 exchange simulator for tests and benchmarks.

A QuickFIX acceptor (its own session layer: sequence numbers, resends, a FileStore) plus a
control channel over local HTTP. It prints one JSON line when both listen:
`{"fix_port": N, "control_port": M}`, and runs until SIGTERM / SIGINT.

Control (JSON bodies; answers are JSON):
  GET  /state                          logged_on, orders, received message types, the
                                       initiator's logon sequence numbers, next numbers,
                                       the ClOrdIDs of held requests
  POST /fill      {cl_ord_id, quantity, price?}      a partial or full fill
  POST /report    {cl_ord_id, exec_type, text?, ref?} any other ExecType (C, 3, 7, 9, B, D,
                                                      G, H) for an order
  POST /arm       {action, text?, times?}             the next request(s) of a kind:
                  reject_new, reject_cancel, reject_replace, throttle_new, drop_new,
                  hold_new, hold_replace, hold_cancel (kept unread until /release)
  POST /release                                       read the held requests, in order
  POST /mode      {auto_fill?, pending_first?}        ack+fill everything; send PendingNew /
                                                      PendingCancel / PendingReplace first
  POST /drop      {refuse_logon?}                     drop the connection (and refuse logons)
  POST /allow                                         take logons again
  POST /duplicate {cl_ord_id, flag}                   resend an order's reports flagged
                                                      poss_dup or poss_resend
  POST /foreign   {symbol, side, quantity, price}     an order the initiator never sent
  POST /rewind    {seq}                               forget the initiator's messages from
                                                      seq on (it is asked to resend them)
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import quickfix as fix

from gateway.fix.session import SessionConfig
from tools.fix_exchange.exchange import Exchange
from tools.fix_exchange.orders import Rule

log = logging.getLogger("fix_exchange")

Handler = Callable[[Exchange, dict[str, Any]], object]


def _fill(ex: Exchange, body: dict[str, Any]) -> object:
    price = body.get("price")
    order = ex.fill(
        str(body["cl_ord_id"]), Decimal(str(body["quantity"])), Decimal(price) if price else None
    )
    return order.view()


def _report(ex: Exchange, body: dict[str, Any]) -> object:
    order = ex.send_report(
        str(body["cl_ord_id"]),
        str(body["exec_type"]),
        str(body.get("text", "")),
        str(body.get("ref", "")),
    )
    return order.view()


def _arm(ex: Exchange, body: dict[str, Any]) -> object:
    with ex.lock:
        ex.rules.append(
            Rule(str(body["action"]), str(body.get("text", "")), int(body.get("times", 1)))
        )
    return {"armed": body["action"]}


def _mode(ex: Exchange, body: dict[str, Any]) -> object:
    with ex.lock:
        ex.auto_fill = bool(body.get("auto_fill", ex.auto_fill))
        ex.pending_first = bool(body.get("pending_first", ex.pending_first))
    return {"auto_fill": ex.auto_fill, "pending_first": ex.pending_first}


def _drop(ex: Exchange, body: dict[str, Any]) -> object:
    ex.drop(bool(body.get("refuse_logon", False)))
    return {"dropped": True}


def _allow(ex: Exchange, body: dict[str, Any]) -> object:
    with ex.lock:
        ex.refuse_logon = False
    return {"refuse_logon": False}


def _release(ex: Exchange, body: dict[str, Any]) -> object:
    return {"released": ex.release()}


def _rewind(ex: Exchange, body: dict[str, Any]) -> object:
    ex.rewind(int(body["seq"]))
    return {"next_expected": int(body["seq"])}


def _duplicate(ex: Exchange, body: dict[str, Any]) -> object:
    return {"resent": ex.duplicate(str(body["cl_ord_id"]), str(body.get("flag", "poss_dup")))}


def _foreign(ex: Exchange, body: dict[str, Any]) -> object:
    order = ex.foreign(
        str(body["symbol"]),
        "1" if body.get("side", "buy") == "buy" else "2",
        Decimal(str(body["quantity"])),
        Decimal(str(body["price"])),
    )
    return order.view()


ROUTES: dict[str, Handler] = {
    "/fill": _fill,
    "/report": _report,
    "/arm": _arm,
    "/mode": _mode,
    "/drop": _drop,
    "/allow": _allow,
    "/duplicate": _duplicate,
    "/rewind": _rewind,
    "/release": _release,
    "/foreign": _foreign,
}


def control_server(exchange: Exchange) -> ThreadingHTTPServer:
    class Control(BaseHTTPRequestHandler):
        def _answer(self, status: int, payload: object) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path != "/state":
                self._answer(404, {"error": "not found"})
                return
            with exchange.lock:
                state = {
                    "logged_on": exchange.logged_on,
                    "orders": exchange.view(),
                    "received": list(exchange.received),
                    "logon_seqs": list(exchange.logon_seqs),
                    "held": exchange.held_ids(),
                    **exchange.numbers(),
                }
            self._answer(200, state)

        def do_POST(self) -> None:
            handler = ROUTES.get(self.path)
            if handler is None:
                self._answer(404, {"error": "not found"})
                return
            length = int(self.headers.get("Content-Length", "0") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
                self._answer(200, handler(exchange, body))
            except (KeyError, ValueError) as error:
                self._answer(400, {"error": repr(error)})

        def log_message(self, format: str, *args: Any) -> None:
            return None

    return ThreadingHTTPServer(("127.0.0.1", 0), Control)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A FIX 4.4 exchange simulator (acceptor).")
    parser.add_argument("--data-dir", type=Path, required=True, help="QuickFIX store folder")
    parser.add_argument("--sender-comp-id", default="EXCH", help="the exchange's CompID")
    parser.add_argument("--target-comp-id", default="OMS", help="the initiator's CompID")
    parser.add_argument("--port", type=int, default=0, help="FIX port (0: a free one)")
    parser.add_argument("--heartbeat", type=int, default=30)
    parser.add_argument("--auto-fill", action="store_true", help="ack and fill every order")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    exchange = Exchange()
    exchange.auto_fill = args.auto_fill
    port = args.port or free_port()
    config = SessionConfig(
        host="127.0.0.1",
        port=port,
        sender_comp_id=args.sender_comp_id,
        target_comp_id=args.target_comp_id,
        store_dir=args.data_dir,
        heartbeat_seconds=args.heartbeat,
        connection_type="acceptor",
    )
    settings = config.session_settings()
    acceptor = fix.SocketAcceptor(
        exchange, fix.FileStoreFactory(settings), settings, fix.FileLogFactory(settings)
    )
    acceptor.start()
    deadline = time.monotonic() + 10
    while not listening(port):
        if time.monotonic() > deadline:
            print(json.dumps({"error": f"the acceptor did not listen on {port}"}), flush=True)
            return 1
        time.sleep(0.05)
    server = control_server(exchange)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps({"fix_port": port, "control_port": server.server_address[1]}), flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.shutdown()
    acceptor.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
