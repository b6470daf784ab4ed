"""Fixtures for the sandbox tests: a running sandbox on a free port, fresh partitions, peers.

One sandbox (SQLite in a temp dir, listener on port 0) serves the whole session;
each test gets its own partition, so tests stay isolated without restarting
servers. Tests that need other settings build their own with `make_sandbox`.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from pydicom.dataset import Dataset
from pynetdicom import AE, build_context, evt
from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind, Verification

from sandbox import Sandbox, SandboxConfig
from sandbox import synth
from sandbox.archive.outgoing import NODELAY_HANDLERS

_codes = itertools.count(1)
DCMTK_TOOLS = ("echoscu", "storescu", "findscu", "movescu", "getscu")


def small_study(seed: int, modality: str = "CT", **kw) -> list[Dataset]:
    """A tiny synthetic study (64x64) for tests."""
    kw.setdefault("rows", 64)
    kw.setdefault("columns", 64)
    return synth.generate_study(seed, modality, **kw)


def make_config(tmp: Path, **overrides) -> SandboxConfig:
    values = dict(database_url=f"sqlite:///{tmp / 'sandbox.db'}", data_dir=tmp / "files",
                  hl7_port=0,
                  dicom_port=0, fsync=False, acse_timeout=5, dimse_timeout=5,
                  network_timeout=5, forward_retry_seconds=0.05)
    values.update(overrides)
    return SandboxConfig(**values)


@contextmanager
def make_sandbox(tmp: Path, *, start: bool = True, **overrides):
    sb = Sandbox(make_config(tmp, **overrides))
    if start:
        sb.start()
    try:
        yield sb
    finally:
        sb.close()


@contextmanager
def postgres_sandbox(tmp: Path, postgres_url: str, code: str, **overrides):
    """A started sandbox on a fresh PostgreSQL database (dropped after) with partition `code` and a test node."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"sandbox_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    try:
        with make_sandbox(tmp, database_url=url, **overrides) as sb:
            sb.create_partition(code)
            sb.add_node(code, "TESTSCU", "127.0.0.1", 1)
            yield sb
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    with make_sandbox(tmp_path_factory.mktemp("sandbox")) as sb:
        yield sb


@pytest.fixture
def code(sandbox) -> str:
    """A fresh partition in the session sandbox that accepts the test SCU's AE title."""
    code = f"T{next(_codes)}"
    sandbox.create_partition(code)
    sandbox.add_node(code, "TESTSCU", "127.0.0.1", 1)
    return code


@pytest.fixture
def other_code(sandbox) -> str:
    code = f"U{next(_codes)}"
    sandbox.create_partition(code)
    sandbox.add_node(code, "TESTSCU", "127.0.0.1", 1)
    return code


def associate(sb: Sandbox, called: str, contexts=None, calling: str = "TESTSCU", **kw):
    """An association from a pynetdicom SCU to the sandbox (TCP_NODELAY on)."""
    ae = AE(calling)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
    ae.maximum_pdu_size = 262144
    for cx in contexts or [build_context(Verification)]:
        ae.add_requested_context(cx.abstract_syntax, cx.transfer_syntax)
    return ae.associate("127.0.0.1", sb.dicom_port, ae_title=called,
                        evt_handlers=[*NODELAY_HANDLERS, *kw.pop("evt_handlers", [])], **kw)


def find(sb: Sandbox, code: str, identifier: Dataset | dict, model=None) -> tuple[int, list]:
    """C-FIND over a real association; returns (final status, list of identifier datasets)."""
    model = model or StudyRootQueryRetrieveInformationModelFind
    if isinstance(identifier, dict):
        ds = Dataset()
        for k, v in identifier.items():
            setattr(ds, k, v)
        identifier = ds
    assoc = associate(sb, f"{code}_PACS", [build_context(model)])
    assert assoc.is_established
    matches, final = [], None
    try:
        for rsp, ds in assoc.send_c_find(identifier, model):
            if rsp.Status in (0xFF00, 0xFF01):
                matches.append(ds)
            else:
                final = rsp.Status
    finally:
        assoc.release()
    return final, matches


def wait_for(predicate, timeout: float = 5.0) -> bool:
    """Poll `predicate` (journal rows are written by server threads) until true or timeout."""
    import time

    deadline = time.time() + timeout
    while not predicate() and time.time() < deadline:
        time.sleep(0.05)
    return bool(predicate())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def storage_peer():
    """A pynetdicom Storage SCP (and commitment report receiver) on a free port."""
    from pynetdicom.presentation import AllStoragePresentationContexts
    from pynetdicom.sop_class import StorageCommitmentPushModel

    received: list[Dataset] = []
    reports: list[tuple[int, Dataset]] = []

    def on_store(event):
        received.append(event.dataset)
        return 0x0000

    def on_report(event):
        reports.append((event.event_type, event.event_information))
        return 0x0000, None

    ae = AE("PEER")
    for cx in AllStoragePresentationContexts:
        ae.add_supported_context(cx.abstract_syntax)
    ae.add_supported_context(StorageCommitmentPushModel, scu_role=True, scp_role=True)
    ae.add_supported_context(Verification)
    port = free_port()
    server = ae.start_server(("127.0.0.1", port), block=False,
                             evt_handlers=[(evt.EVT_C_STORE, on_store),
                                           (evt.EVT_N_EVENT_REPORT, on_report)])

    class Peer:
        pass

    peer = Peer()
    peer.port, peer.received, peer.reports, peer.ae = port, received, reports, ae
    yield peer
    server.shutdown()


def dcmtk_available() -> bool:
    return all(shutil.which(t) for t in DCMTK_TOOLS)


@pytest.fixture
def dcmtk():
    """Run a dcmtk tool with TCP_NODELAY=1 (dcmtk keeps Nagle on otherwise)."""
    if not dcmtk_available():
        if os.environ.get("ACADEMY_REQUIRE_DCMTK") == "1":
            pytest.fail("dcmtk tools are required (ACADEMY_REQUIRE_DCMTK=1) but missing")
        pytest.skip("dcmtk (echoscu, storescu, findscu, movescu, getscu) is not installed")

    def run(*args, timeout: float = 30, cwd=None) -> subprocess.CompletedProcess:
        env = {**os.environ, "TCP_NODELAY": "1"}
        return subprocess.run([str(a) for a in args], capture_output=True, text=True,
                              timeout=timeout, env=env, cwd=cwd)

    return run
