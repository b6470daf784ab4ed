"""Peers that throw fuzzed bytes at the sandbox's DICOM and MLLP listeners and notice hangs, shared by
tests/fuzz/test_listeners_fuzz.py and benchmarks/fuzz_long.py.

A hang is a connection the server neither answers nor closes within `hang_seconds` of our last byte
(the server's own timeouts are far shorter). Unhandled exceptions are exceptions that escaped a server
thread (threading.excepthook) or were logged with a traceback.
"""
from __future__ import annotations

import logging
import socket
import threading
import time


class Troubles(logging.Handler):
    """Counts exceptions that escape threads or are logged with a traceback, while installed."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.seen: list[str] = []
        self.library: list[str] = []

    # pynetdicom's DUL logs the protocol errors it handles itself (a truncated PDU, a peer gone silent)
    # with a traceback, then aborts or closes as PS3.8 says: those are answers, not escapes.
    HANDLED = ("pynetdicom.dul", "pynetdicom.utils")  # utils: undecodable AE titles and UIDs, replaced

    # pynetdicom's state machine catches an exception from any action (e.g. a P-DATA PDV with an even
    # presentation context id), logs it and kills the connection: a library weakness, counted apart.
    LIBRARY = ("pynetdicom.fsm",)

    def emit(self, record):
        if record.exc_info and not record.name.startswith(self.HANDLED):
            text = f"{record.name}: {record.getMessage()} {record.exc_info[1]!r}"
            (self.library if record.name.startswith(self.LIBRARY) else self.seen).append(text)

    def _thread_died(self, args):
        # Any thread dying counts, pynetdicom's DUL reactor included: its InvalidEventError race (a local
        # answer in Sta13) is closed by sandbox/archive/negotiation.py, and this is its regression test.
        self.seen.append(f"thread {args.thread.name}: {args.exc_value!r}")

    def __enter__(self):
        self._hook = threading.excepthook
        threading.excepthook = self._thread_died
        logging.getLogger().addHandler(self)
        return self

    def __exit__(self, *exc):
        threading.excepthook = self._hook
        logging.getLogger().removeHandler(self)


class DicomPeer:
    def __init__(self, sb, called: str = "FZD_PACS", hang_seconds: float = 8.0, max_open: int = 24):
        self.sb, self.called, self.hang_seconds, self.max_open = sb, called, hang_seconds, max_open
        self.pending: list[tuple[socket.socket, float]] = []
        self.hangs = 0

    def send(self, data: bytes) -> None:
        s = socket.create_connection(("127.0.0.1", self.sb.dicom_port), timeout=5)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            s.sendall(data)
        except OSError:
            pass  # the server hung up mid-way: allowed
        s.setblocking(False)
        self.pending.append((s, time.monotonic()))
        while len(self.pending) >= self.max_open:
            self.drain()
            time.sleep(0.02)

    def drain(self, wait: bool = False) -> None:
        """Forget connections the server closed; count those open too long as hangs."""
        while True:
            still = []
            for s, started in self.pending:
                try:
                    while chunk := s.recv(65536):
                        pass
                    closed = chunk == b""
                except BlockingIOError:
                    closed = False
                except OSError:
                    closed = True
                if closed:
                    s.close()
                elif time.monotonic() - started > self.hang_seconds:
                    self.hangs += 1
                    s.close()
                else:
                    still.append((s, started))
            self.pending = still
            if not (wait and self.pending):
                return
            time.sleep(0.05)

    def alive(self) -> bool:
        from pynetdicom import AE

        ae = AE("FUZZ")
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 5
        ae.add_requested_context("1.2.840.10008.1.1")
        assoc = ae.associate("127.0.0.1", self.sb.dicom_port, ae_title=self.called)
        if not assoc.is_established:
            return False
        ok = getattr(assoc.send_c_echo(), "Status", None) == 0
        assoc.release()
        return ok


FRAME_BYTES = (b"\x0b", b"\x1c")


def mllp_exchange(sb, text: str, junk: bytes = b"", timeout: float = 8.0) -> str:
    """Send `junk` on one connection, then `text` framed on another; 'ack' when an ACK frame with a valid
    MSA-1 came back, 'closed' when the server hung up, 'hang' when neither happened in time, 'skipped'
    when the text holds MLLP's own frame bytes (the frame then legitimately waits for more)."""
    from sandbox.ris import hl7text

    host, port = sb.hl7_address
    if junk:
        with socket.create_connection((host, port), timeout=5) as s:
            try:
                s.sendall(junk)
            except OSError:
                pass
    data = hl7text.frame(text)
    if any(b in data[1:-2] for b in FRAME_BYTES):
        with socket.create_connection((host, port), timeout=5) as s:
            s.sendall(data)
        return "skipped"
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(data)
        got = b""
        deadline = time.monotonic() + timeout
        while b"\x1c\r" not in got:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                return "hang"
            except OSError:
                return "closed"
            if not chunk:
                return "closed"
            got += chunk
    reply = got.decode("utf-8", "replace")
    msa = next((seg for seg in reply.strip("\x0b\x1c\r").split("\r") if seg.startswith("MSA")), "")
    return "ack" if msa[4:6] in ("AA", "AE", "AR") else f"bad ack {reply[:200]!r}"
