"""MLLP over TCP (HL7 v2.5.1 Appendix C, MLLP release 1): the RIS's listener and its sender.

Listener: one thread per connection, many messages per connection, TCP_NODELAY on.
Each complete frame is processed (sandbox/ris/inbound.py) and answered with its
ACK in the same order. Bytes outside a frame, a frame over the size limit, an
unterminated frame and a client that sends nothing before the timeout are each
journaled; the first two are answered with an AR so the sender learns why; the
connection closes on timeout. A failure on one connection never touches another.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
from dataclasses import dataclass

from sandbox import journal
from sandbox.ris import acks, hl7text
from sandbox.ris.messages import DATA_TYPE_ERROR, SEGMENT_SEQUENCE_ERROR, Hl7Error, peek_header

log = logging.getLogger("sandbox.ris.mllp")


@dataclass(frozen=True)
class MllpSettings:
    """From SandboxConfig: hl7_max_bytes, hl7_timeout (seconds of silence)."""

    max_bytes: int = 1_048_576
    timeout: float = 30.0

    @classmethod
    def from_config(cls, config) -> "MllpSettings":
        settings = cls(int(getattr(config, "hl7_max_bytes", cls.max_bytes)),
                       float(getattr(config, "hl7_timeout", cls.timeout)))
        if settings.max_bytes < 64 or settings.timeout <= 0:
            raise ValueError("hl7_max_bytes must be at least 64 and hl7_timeout positive")
        return settings


class _Handler(socketserver.BaseRequestHandler):
    server: "_Server"

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        settings = self.server.settings
        sock.settimeout(settings.timeout)
        peer = f"{self.client_address[0]}:{self.client_address[1]}"
        reader = hl7text.FrameReader(settings.max_bytes)
        db = self.server.sandbox.db
        received = 0
        while True:
            try:
                data = sock.recv(65536)
            except socket.timeout:
                self._timeout(reader, peer, received)
                return
            except OSError:
                return
            if not data:
                if reader.pending:
                    self._unterminated(reader, peer)
                return
            try:
                for kind, value in reader.feed(data):
                    received += 1
                    if kind == "frame":
                        result = self.server.process(value, peer)
                        sock.sendall(hl7text.frame(result.ack))
                    elif kind == "junk":
                        if value.strip(b"\r\n\t \x00"):
                            self._reject(sock, peer, f"{len(value)} byte(s) outside an MLLP "
                                         "frame: a message must start with 0x0B and end with "
                                         "0x1C 0x0D", value)
                    else:
                        self._reject(sock, peer, f"message of {value} bytes exceeds this "
                                     f"listener's limit of {settings.max_bytes} bytes", b"",
                                     code=DATA_TYPE_ERROR)
            except OSError:
                return
            except Exception:  # noqa: BLE001 - one bad connection never stops the listener
                log.exception("MLLP connection %s failed", peer)
                journal.record(db, None, "failure", f"HL7 connection from {peer} failed")
                return

    def _reject(self, sock, peer: str, why: str, data: bytes,
                code: str = SEGMENT_SEQUENCE_ERROR) -> None:
        error = Hl7Error(why, "", 1, 0, 0, code, "AR")
        ack = acks.build_ack(peek_header(hl7text.decode(data)), "AR", error)
        journal.record(self.server.sandbox.db, None, "hl7.rejected", f"from {peer}: {why}",
                       peer=peer, raw=hl7text.storable(hl7text.decode(data[:4096])), ack="AR",
                       ack_raw=ack)
        sock.sendall(hl7text.frame(ack))

    def _timeout(self, reader, peer: str, received: int) -> None:
        if reader.pending:
            self._unterminated(reader, peer, timeout=True)
            return
        what = "sent nothing" if not received else "went quiet"
        journal.record(self.server.sandbox.db, None, "failure",
                       f"HL7 client {peer} {what} for {self.server.settings.timeout:g} s: "
                       "connection closed", peer=peer, messages=received)

    def _unterminated(self, reader, peer: str, timeout: bool = False) -> None:
        partial = bytes(reader.buffer[1:])
        header = peek_header(hl7text.storable(hl7text.decode(partial)))
        code = header.receiving_facility.upper() if header.receiving_facility else None
        from sandbox import partitions

        if code and (not code.isalnum() or len(code) > 8
                     or partitions.load_state(self.server.sandbox.db, code) is None):
            code = None
        journal.record(self.server.sandbox.db, code, "failure",
                       f"unterminated MLLP frame from {peer} ({len(partial)} bytes, no 0x1C 0x0D "
                       f"end block) {'at timeout' if timeout else 'when the connection closed'}"
                       f"{': message ' + header.control_id if header.control_id else ''}",
                       peer=peer, raw=hl7text.storable(hl7text.decode(partial[:4096])))


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    sandbox: object
    settings: MllpSettings

    def process(self, body: bytes, peer: str):
        from sandbox.ris import inbound

        return inbound.handle(self.sandbox, body, peer)


class MllpListener:
    def __init__(self, sandbox, settings: MllpSettings | None = None) -> None:
        self.sandbox = sandbox
        self.settings = settings or MllpSettings.from_config(sandbox.config)
        self.server: _Server | None = None
        self.thread: threading.Thread | None = None

    @property
    def port(self) -> int | None:
        return self.server.server_address[1] if self.server else None

    def start(self, host: str, port: int) -> int:
        server = _Server((host, port), _Handler)
        server.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        server.sandbox, server.settings = self.sandbox, self.settings
        self.server = server
        self.thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                       name="sandbox-hl7", daemon=True)
        self.thread.start()
        log.info("HL7/MLLP listener on %s:%s", host, self.port)
        return self.port

    def stop(self) -> None:
        server, self.server = self.server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self.thread:
            self.thread.join(timeout=5)


class MllpClient:
    """A persistent MLLP connection: send a message, wait for its ACK."""

    def __init__(self, host: str, port: int, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(timeout)
        self.reader = hl7text.FrameReader(16 * 1_048_576)
        self.frames: list[bytes] = []

    def send_bytes(self, data: bytes) -> None:
        self.sock.sendall(data)

    def receive(self) -> str:
        while not self.frames:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("the peer closed the connection without an ACK")
            self.frames += [v for kind, v in self.reader.feed(data) if kind == "frame"]
        return hl7text.decode(self.frames.pop(0))

    def send(self, text: str) -> str:
        self.sock.sendall(hl7text.frame(text))
        return self.receive()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> "MllpClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def send(host: str, port: int, text: str, timeout: float = 10.0) -> str:
    """One message on a fresh connection; returns the ACK's text."""
    with MllpClient(host, port, timeout) as client:
        return client.send(text)
