"""QuickFIX's side of the connector: the session settings and the Application callbacks.

QuickFIX runs each initiator on a thread of its own and calls the Application there. The
callbacks below never raise (a Python exception in most QuickFIX callbacks ends the
process), read what they need from the message while it is valid, and hand plain values to
the asyncio side through `Bridge`. `fromApp` blocks until the connector has taken the report
(the sink returned): QuickFIX counts an incoming message as processed, and persists the next
expected sequence number, only when `fromApp` returns, so a process killed before that is
sent the message again after the restart (session-level resend).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sysconfig
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import quickfix as fix

from gateway.fix import codec

log = logging.getLogger(__name__)

LOGON, LOGOUT, REJECT = "A", "5", "3"
# QuickFIX's words (and many venues'): "MsgSeqNum too low, expecting 25 but received 10".
TOO_LOW = re.compile(r"MsgSeqNum too low, expecting (\d+)", re.IGNORECASE)


def data_dictionary(begin_string: str) -> Path:
    """The FIX data dictionary the QuickFIX wheel installs (share/quickfix/FIX44.xml)."""
    name = begin_string.replace(".", "") + ".xml"  # FIX.4.4 -> FIX44.xml
    return Path(sysconfig.get_path("data")) / "share" / "quickfix" / name


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """One FIX session: who we are, who they are, where, and where its state lives."""

    host: str
    port: int
    sender_comp_id: str
    target_comp_id: str
    store_dir: Path
    begin_string: str = "FIX.4.4"
    heartbeat_seconds: int = 30
    session_start: str = "00:00:00"  # UTC; equal start and end: a 24-hour session
    session_end: str = "00:00:00"
    reconnect_seconds: int = 1
    connection_type: str = "initiator"

    def settings_text(self) -> str:
        """QuickFIX settings. No sequence reset on logon, logout or disconnect: after a
        reconnect the session layer asks for (and resends) what the other side missed.
        The data dictionary validates what arrives, tolerating fields venues add."""
        lines = [
            "[DEFAULT]",
            f"ConnectionType={self.connection_type}",
            f"BeginString={self.begin_string}",
            f"HeartBtInt={self.heartbeat_seconds}",
            f"StartTime={self.session_start}",
            f"EndTime={self.session_end}",
            "UseDataDictionary=Y",
            f"DataDictionary={data_dictionary(self.begin_string)}",
            "ValidateUserDefinedFields=N",
            "AllowUnknownMsgFields=Y",
            "ValidateFieldsOutOfOrder=N",
            "PersistMessages=Y",
            "ResetOnLogon=N",
            "ResetOnLogout=N",
            "ResetOnDisconnect=N",
            "RefreshOnLogon=Y",
            "SocketNodelay=Y",
            "SocketReuseAddress=Y",
            "CheckLatency=N",
            f"FileStorePath={self.store_dir}",
            f"FileLogPath={self.store_dir / 'log'}",
        ]
        if self.connection_type == "initiator":
            lines += [
                f"ReconnectInterval={self.reconnect_seconds}",
                f"SocketConnectHost={self.host}",
                f"SocketConnectPort={self.port}",
                "LogonTimeout=10",
            ]
        else:
            lines += [f"SocketAcceptHost={self.host}", f"SocketAcceptPort={self.port}"]
        lines += [
            "[SESSION]",
            f"SenderCompID={self.sender_comp_id}",
            f"TargetCompID={self.target_comp_id}",
        ]
        return "\n".join(lines) + "\n"

    def session_settings(self) -> Any:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        settings = fix.SessionSettings()
        settings.setFromString(self.settings_text())
        return settings

    def session_id(self) -> Any:
        return fix.SessionID(self.begin_string, self.sender_comp_id, self.target_comp_id)


def build_message(msg_type: str, fields: codec.Fields) -> Any:
    """A QuickFIX message from (tag, value) strings; PossResend goes in the header."""
    message = fix.Message()
    header = message.getHeader()
    header.setField(fix.MsgType(msg_type))
    for tag, value in fields:
        if tag == codec.POSS_RESEND:
            header.setField(tag, value)
        else:
            message.setField(tag, value)
    return message


_UNFREED: list[object] = []  # initiators whose loop did not end (freeing them would crash)


class Initiator:
    """A QuickFIX SocketInitiator whose loop runs on a thread we own and join (QuickFIX's
    Python `start()` makes a thread it never joins), freed explicitly when done."""

    def __init__(self, initiator: Any, thread: threading.Thread) -> None:
        self._initiator = initiator
        self._thread = thread

    @classmethod
    def start(cls, config: SessionConfig, application: Any, name: str) -> Initiator:
        settings = config.session_settings()
        initiator = fix.SocketInitiator(
            application, fix.FileStoreFactory(settings), settings, fix.FileLogFactory(settings)
        )
        thread = threading.Thread(target=initiator.block, name=name, daemon=True)
        thread.start()
        # `stop()` does nothing to an initiator whose loop has not begun: wait for it.
        deadline = time.monotonic() + 10
        while initiator.isStopped() and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.005)
        return cls(initiator, thread)

    def free(self, session_id: Any) -> None:
        """Log out, stop the loop, and free the initiator: its sessions leave QuickFIX's
        process-wide registry, so the venue can be connected again later."""
        initiator, self._initiator = self._initiator, None
        if initiator is None:
            return
        # Disable the session first: QuickFIX's stop() re-enables the sessions it logs out
        # itself, and its loop would then dial the venue once more.
        session = fix.Session.lookupSession(session_id)
        if session is not None:
            session.logout()
        initiator.stop()
        self._thread.join(timeout=30)
        if self._thread.is_alive():
            log.error("QuickFIX's loop did not end; the initiator is kept, not freed")
            _UNFREED.append(initiator)
            return
        # Free it now, whatever still refers to it: an exception raised from a callback
        # (DoNotSend) leaks a traceback whose frames reach the initiator, and a live
        # initiator keeps its sessions in the registry, where a later connection to the
        # same venue would find them instead of its own.
        type(initiator).__swig_destroy__(initiator)


async def diagnose(host: str, port: int) -> str:
    """Why no logon came: the TCP endpoint refuses, does not answer, or takes the
    connection and says nothing (a FIX problem: CompIDs, credentials, sequence numbers)."""
    where = f"{host}:{port}"
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 3.0)
    except TimeoutError:
        return f"no answer from {where}"
    except OSError as error:
        return f"cannot connect to {where}: {error.strerror or error}"
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return f"{where} took the connection but no FIX logon followed"


class Bridge:
    """How the QuickFIX thread reaches the asyncio side (set by the connector)."""

    def __init__(
        self,
        on_logon: Callable[[], None],
        on_logout: Callable[[str], None],
        on_message: Callable[[str], bool],
        on_resend: Callable[[str], bool],
        credentials: Callable[[], tuple[str | None, str | None]],
        on_sending: Callable[[int, bool], bool] = lambda seq, app: True,
    ) -> None:
        self.on_logon = on_logon  # called on QuickFIX's thread; must not block
        self.on_logout = on_logout
        self.on_message = on_message  # blocks until taken; False: not taken (resend it)
        self.on_resend = on_resend  # False: do not resend this message (gap-fill it)
        self.credentials = credentials
        # Before a new message (not a resend) gets its sequence number out: may block
        # until that number is reserved; False: do not send it (application messages).
        self.on_sending = on_sending


class FixApplication(fix.Application):  # type: ignore[misc]
    """QuickFIX callbacks for one session; all on QuickFIX's thread, none may raise."""

    def __init__(self, bridge: Bridge) -> None:
        super().__init__()
        self._bridge = bridge
        self._logout_text = ""

    def onCreate(self, session_id: Any) -> None:
        return None

    def onLogon(self, session_id: Any) -> None:
        try:
            self._logout_text = ""
            self._bridge.on_logon()
        except Exception:
            log.exception("onLogon failed")

    def onLogout(self, session_id: Any) -> None:
        try:
            self._bridge.on_logout(self._logout_text)
            self._logout_text = ""
        except Exception:
            log.exception("onLogout failed")

    @staticmethod
    def _new_seq(header: Any) -> int:
        """The sequence number of a message about to go out for the first time (0 for a
        resend, whose number was used before)."""
        if header.isSetField(codec.POSS_DUP_FLAG) and header.getField(codec.POSS_DUP_FLAG) == "Y":
            return 0
        return int(header.getField(codec.MSG_SEQ_NUM))

    def toAdmin(self, message: Any, session_id: Any) -> None:
        try:
            header = message.getHeader()
            seq = self._new_seq(header)
            if seq:
                self._bridge.on_sending(seq, False)
            msg_type = header.getField(codec.MSG_TYPE)
            if msg_type == LOGON:
                username, password = self._bridge.credentials()
                if username:
                    message.setField(codec.USERNAME, username)
                if password:
                    message.setField(codec.PASSWORD, password)
        except Exception:
            log.exception("toAdmin failed")

    def fromAdmin(self, message: Any, session_id: Any) -> None:
        try:
            fields = codec.parse(message.toString())
            msg_type = fields.get(codec.MSG_TYPE)
            if msg_type == LOGOUT:
                self._logout_text = fields.get(codec.TEXT, "") or "the venue logged out"
                self._keep_gap(session_id, int(fields.get(codec.MSG_SEQ_NUM, "0") or 0))
                self._catch_up(session_id, self._logout_text)
            elif msg_type == REJECT:
                log.warning(
                    "session-level reject of our message %s: %s",
                    fields.get(codec.REF_SEQ_NUM, "?"),
                    fields.get(codec.TEXT, ""),
                )
        except Exception:
            log.exception("fromAdmin failed")

    @staticmethod
    def _keep_gap(session_id: Any, seq: int) -> None:
        """QuickFIX takes a Logout whatever its sequence number and then counts one more
        message as received. A Logout past a gap (the venue reported while we were away,
        then refused our logon) would so swallow the first missed message: the report it
        carried would never be asked for again. Step back one so the count stays where the
        gap starts, and the next logon asks for all of it."""
        session = fix.Session.lookupSession(session_id)
        if session is None or seq <= 0:
            return
        expected = int(session.getExpectedTargetNum())
        if seq != expected and expected > 1:
            session.setNextTargetMsgSeqNum(expected - 1)

    @staticmethod
    def _catch_up(session_id: Any, text: str) -> None:
        """The venue refused our numbers as used before (a session restored from a store
        that lagged): continue from the number it expects. The messages it has under the
        numbers in between are the ones a previous holder of the session sent."""
        match = TOO_LOW.search(text)
        session = fix.Session.lookupSession(session_id)
        if match is None or session is None:
            return
        expected = int(match.group(1))
        if expected > int(session.getExpectedSenderNum()):
            log.warning("the venue expects our sequence number %d; continuing from it", expected)
            session.setNextSenderMsgSeqNum(expected)

    def toApp(self, message: Any, session_id: Any) -> None:
        send = True
        try:
            header = message.getHeader()
            seq = self._new_seq(header)
            if seq == 0:
                send = self._bridge.on_resend(message.toString())
            else:
                send = self._bridge.on_sending(seq, True)
        except Exception:
            log.exception("toApp failed")
        if not send:
            raise fix.DoNotSend()

    def fromApp(self, message: Any, session_id: Any) -> None:
        try:
            raw = message.toString()
        except Exception:
            log.exception("fromApp could not read a message")
            return
        try:
            taken = self._bridge.on_message(raw)
        except Exception:
            log.exception("fromApp failed")
            taken = False
        if not taken:
            # Not taken (we are stopping): count it as unseen, so the session layer asks
            # for it again after the next logon. QuickFIX adds one when we return.
            try:
                session = fix.Session.lookupSession(session_id)
                seq = int(codec.parse(raw).get(codec.MSG_SEQ_NUM, "0"))
                if session is not None and seq > 0:
                    session.setNextTargetMsgSeqNum(seq - 1)
            except Exception:
                log.exception("could not rewind the incoming sequence number")
