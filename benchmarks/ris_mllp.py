"""HL7/MLLP benchmark: messages per second acknowledged by the RIS, next to a bare echo server.

    .venv/bin/python benchmarks/ris_mllp.py [--messages 600] [--database-url URL]

In the same run, over one connection and over ten at once (each connection sends
a message and waits for its ACK before the next, as MLLP senders do):
  - a bare MLLP "echo" server on a plain socket that answers every frame with a fixed
    ACK without reading it (the ceiling the transport and Python allow);
  - the sandbox's RIS on the same machine, each message an ADT^A04 for a new
    invented patient: hl7apy parsing, the partition lookup, the patient row, the
    message log and journal rows in one transaction, and an hl7apy-built ACK.
Prints messages/s and the ratio; asserts nothing.
"""

from __future__ import annotations

import argparse
import socket
import socketserver
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox import Sandbox, SandboxConfig  # noqa: E402
from sandbox.ris import hl7text, samples  # noqa: E402
from sandbox.ris.mllp import MllpClient  # noqa: E402

ACK = hl7text.frame("MSH|^~\\&|ECHO|X|||20250101||ACK|1|P|2.5.1\rMSA|AA|1")


class _Echo(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class _EchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = hl7text.FrameReader(1 << 24)
        while data := self.request.recv(65536):
            for kind, _ in reader.feed(data):
                if kind == "frame":
                    self.request.sendall(ACK)


def run(address, messages_per_connection: list[list[str]]) -> float:
    """Send each list on its own connection, all at once; returns messages per second."""
    clients = [MllpClient(*address, timeout=60) for _ in messages_per_connection]
    barrier = threading.Barrier(len(clients) + 1)
    errors = []

    def work(client, texts):
        barrier.wait()
        try:
            for t in texts:
                if b"MSA|A" not in client.send(t).encode():
                    errors.append("no MSA")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c, m))
               for c, m in zip(clients, messages_per_connection)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    for c in clients:
        c.close()
    if errors:
        raise SystemExit(f"errors: {errors[:3]}")
    return sum(len(m) for m in messages_per_connection) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=600, help="messages per scenario")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ris-bench-"))
    url, drop = args.database_url or f"sqlite:///{folder / 'sb.db'}", None
    if url.startswith("postgresql"):
        url, drop = _temporary_database(url)
    config = SandboxConfig(database_url=url, data_dir=folder / "files", dicom_port=0,
                           hl7_port=0, fsync=False)
    try:
        _bench(config, args.messages)
    finally:
        if drop:
            drop()


def _temporary_database(url: str):
    """A fresh PostgreSQL database next to `url`'s, and how to drop it."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"ris_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(url).set(database=name).render_as_string(hide_password=False), drop


def _bench(config: SandboxConfig, n: int) -> None:
    echo = _Echo(("127.0.0.1", 0), _EchoHandler)
    threading.Thread(target=echo.serve_forever, daemon=True).start()
    print(f"HL7/MLLP benchmark: {n} ADT^A04 per scenario, database "
          f"{config.database_url.split(':')[0]}")
    print(f"{'scenario':<26} {'echo msg/s':>12} {'RIS msg/s':>12} {'RIS / echo':>12}")
    with Sandbox(config) as sb:
        sb.start()
        sb.create_partition("BENCH")
        seed = iter(range(10**6))
        for connections in (1, 10):
            per = n // connections
            batches = [[samples.adt("BENCH", "A04", samples.patient(next(seed)))
                        for _ in range(per)] for _ in range(connections)]
            run(sb.hl7_address, [b[:5] for b in batches])  # warm-up
            echo_rate = run(echo.server_address, batches)
            ris_rate = run(sb.hl7_address, batches)
            print(f"{connections:>2} connection(s){'':<11} {echo_rate:>12.0f} {ris_rate:>12.0f} "
                  f"{ris_rate / echo_rate:>12.3f}")
    echo.shutdown()


if __name__ == "__main__":
    main()
