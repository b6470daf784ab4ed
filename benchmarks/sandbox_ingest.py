"""Ingest benchmark: dcmtk's storescu -> dcmtk's storescp vs -> the sandbox, same run, same data.

    .venv/bin/python benchmarks/sandbox_ingest.py [--images 1000] [--database-url URL] [--no-fsync]

Generates one synthetic CT series (512x512, 16 bit; cached under /tmp), sends it
over ONE association with storescu (TCP_NODELAY=1) to storescp writing files,
then to the sandbox (index written, files fsynced unless --no-fsync), and prints
images/s for each and the ratio. The sandbox runs in a child process so that the
timing covers only what a real deployment does. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dataset(images: int) -> list[Path]:
    from sandbox import synth

    folder = Path(tempfile.gettempdir()) / f"sandbox-bench-ct-{images}"
    files = sorted(folder.glob("*.dcm")) if folder.exists() else []
    if len(files) != images:
        shutil.rmtree(folder, ignore_errors=True)
        print(f"generating {images} CT images 512x512 ...", flush=True)
        files = synth.write_study(synth.iter_ct_series(2024, images), folder)
    return sorted(files)


def wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def storescu(folder: Path, port: int, called: str, count: int) -> float:
    env = {**os.environ, "TCP_NODELAY": "1"}
    started = time.perf_counter()
    done = subprocess.run(["storescu", "-aet", "BENCH", "-aec", called, "+sd", "127.0.0.1",
                           str(port), str(folder)], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return count / elapsed


def run_storescp(folder: Path, count: int) -> float:
    out = Path(tempfile.mkdtemp(prefix="storescp-"))
    port = free_port()
    env = {**os.environ, "TCP_NODELAY": "1"}
    proc = subprocess.Popen(["storescp", "-od", str(out), "--max-pdu", "131072", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        return storescu(folder, port, "STORESCP", count)
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(out, ignore_errors=True)


SERVE = """
import sys, signal, threading
sys.path.insert(0, {root!r})
from sandbox import Sandbox, SandboxConfig
sb = Sandbox(SandboxConfig(database_url={url!r}, data_dir={data!r}, dicom_port={port},
                           fsync={fsync}, max_pdu={pdu}))
if not any(p.code == "BENCH" for p in sb.list_partitions()):
    sb.create_partition("BENCH", accept_any_calling_ae=True)
else:
    sb.reset_partition("BENCH")
    sb.update_partition("BENCH", accept_any_calling_ae=True)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: stop.set())
sb.start(); print("ready", flush=True); stop.wait(); sb.close()
"""


def run_sandbox(folder: Path, count: int, url: str | None, fsync: bool,
                pdu: int) -> tuple[float, int]:
    data = Path(tempfile.mkdtemp(prefix="sandbox-bench-"))
    url = url or f"sqlite:///{data / 'sandbox.db'}"
    port = free_port()
    code = SERVE.format(root=str(ROOT), url=url, data=str(data / "files"), port=port,
                        fsync=fsync, pdu=pdu)
    cmd = [sys.executable, "-c", code]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        proc.stdout.readline()
        wait_port(port)
        rate = storescu(folder, port, "BENCH_PACS", count)
    finally:
        proc.terminate()
        proc.wait()
    stored = len(list((data / "files").rglob("*.dcm")))
    shutil.rmtree(data, ignore_errors=True)
    return rate, stored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--database-url", default=os.environ.get("SANDBOX_BENCH_DATABASE_URL"))
    parser.add_argument("--no-fsync", action="store_true")
    parser.add_argument("--max-pdu", type=int, default=262144)
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs; medians shown")
    args = parser.parse_args()
    if not shutil.which("storescu") or not shutil.which("storescp"):
        sys.exit("dcmtk's storescu and storescp are needed")
    files = dataset(args.images)
    folder = files[0].parent
    size = sum(f.stat().st_size for f in files) / 1e6
    print(f"{len(files)} CT images 512x512 16-bit, {size:.0f} MB, one association, "
          f"storescu with TCP_NODELAY=1")
    theirs, ours = [], []
    for n in range(args.rounds):
        theirs.append(run_storescp(folder, len(files)))
        rate, stored = run_sandbox(folder, len(files), args.database_url, not args.no_fsync,
                                   args.max_pdu)
        ours.append(rate)
        print(f"round {n + 1}: storescp {theirs[-1]:7.1f}/s   sandbox {rate:7.1f}/s "
              f"({stored} files indexed)", flush=True)
    storescp_rate, rate = statistics.median(theirs), statistics.median(ours)
    backend = (args.database_url or "sqlite").split(":")[0]
    print(f"dcmtk storescp (files, no fsync)      : {storescp_rate:7.1f} images/s (median)")
    print(f"sandbox ({backend}, index + fsync={'off' if args.no_fsync else 'on'}) : "
          f"{rate:7.1f} images/s (median)")
    print(f"ratio sandbox/storescp                : {rate / storescp_rate:7.2f}")


if __name__ == "__main__":
    main()
