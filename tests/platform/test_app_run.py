"""`python app.py` as a person runs it: it starts, prints the URL and the demo accounts once, serves the
site and the sandbox, and stops cleanly on Ctrl-C."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_CONTENT

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(data_dir: Path, port: int) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "ACADEMY_CURRICULA_DIR": str(FIXTURE_CONTENT / "curricula"),
           "ACADEMY_QUESTION_BANKS_DIR": str(FIXTURE_CONTENT / "question_banks"), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--dicom-port", "0", "--hl7-port", "0",
                                "--data-dir", str(data_dir)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    output = ""
    deadline = time.monotonic() + 60
    while "Press Ctrl-C to stop." not in output:
        line = process.stdout.readline()
        if not line:
            pytest.fail(f"app.py exited early:\n{output}")
        output += line
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"app.py did not start within 60 s:\n{output}")
    return process, output


def stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()


@pytest.mark.slow
def test_app_py_starts_serves_and_stops_and_a_second_start_creates_nothing_twice(tmp_path):
    port = free_port()
    process, output = start(tmp_path, port)
    try:
        assert f"PACS Academy is running at http://127.0.0.1:{port}/" in output
        accounts = re.findall(r"^\s+(org_admin|instructor|trainee)\s+(\S+@\S+)\s+(\S+)$", output, re.MULTILINE)
        assert [a[0] for a in accounts] == ["org_admin", "instructor", "trainee"]
        assert re.search(r"Sandbox: DICOM on port \d+, HL7 on port \d+", output)
        health = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10)
        assert health.status == 200 and b'"listening":true' in health.read()
        login = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10)
        assert login.status == 200 and login.headers["Server"] == "PACS Academy"  # waitress, not Flask's server
    finally:
        assert stop(process) == 0
    process, output = start(tmp_path, port)
    try:
        assert "Demo accounts" not in output and "demo accounts were printed on the first start" in output
    finally:
        assert stop(process) == 0
