"""`fsck`: a partition's index and file store agree, or fsck says where not and repairs it.

Each test plants one kind of disagreement in its own sandbox (no listener: fsck is
file and database work) and checks the report, the repair and the journal.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pydicom
import pytest
from pynetdicom import AE
from sqlalchemy import create_engine, delete, text, update
from sqlalchemy.engine import make_url

from sandbox import FsckReport, Sandbox, SandboxConfig
from sandbox.__main__ import main
from sandbox.archive import fsck
from sandbox.archive.fsck_repair import read_complete
from sandbox.archive.outgoing import NODELAY_HANDLERS
from sandbox.archive.storage import PREAMBLE, file_meta_bytes
from sandbox.imports import encode
from sandbox.models import Instance
from tests.conftest import NEEDS_POSTGRES, POSTGRES_URL
from tests.sandbox.conftest import free_port, make_sandbox, small_study



@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=NEEDS_POSTGRES)])
def sb(request, tmp_path):
    """A sandbox with partitions FA and FB, on SQLite and (if configured) PostgreSQL."""
    with _database(request.param) as url, make_sandbox(
            tmp_path, start=False, **({"database_url": url} if url else {})) as sb:
        for code in ("FA", "FB"):
            sb.create_partition(code)
        yield sb


@contextmanager
def _database(kind: str):
    """None for SQLite; for PostgreSQL a temporary database, dropped afterwards."""
    if kind == "sqlite":
        yield None
        return
    name = f"sandbox_fsck_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def study(sb: Sandbox, code: str, seed: int, images: int = 2) -> str:
    [uid] = sb.generate(code, seed=seed, rows=16, columns=16, images_per_series=images)
    return uid


def aged(path: Path) -> Path:
    """Make a planted file an hour old: fsck leaves younger ones alone by default."""
    then = time.time() - 3600
    os.utime(path, (then, then), follow_symlinks=False)
    return path


def plant(sb: Sandbox, rel: str, data: bytes) -> Path:
    path = sb.files.path(rel)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return aged(path)


def instance_file(seed: int) -> tuple[pydicom.Dataset, bytes]:
    """A complete instance as the archive writes it (preamble, file meta, dataset)."""
    ds = small_study(seed, rows=16, columns=16, images_per_series=1)[0]
    return ds, encode(ds)


def kinds(report: FsckReport) -> list[str]:
    return sorted(p.kind for p in report.problems)


def fsck_events(sb: Sandbox, code: str) -> list:
    return sb.journal(code, kind="fsck.")


def test_a_partition_written_by_the_archive_is_consistent(sb):
    study(sb, "FA", 1, images=3)
    report = sb.fsck("FA")
    assert report.consistent and report.problems == ()
    assert (report.rows_checked, report.files_checked) == (3, 3)


def test_an_orphan_that_is_a_complete_instance_is_indexed(sb):
    study(sb, "FA", 1)
    ds, data = instance_file(2)
    rel = sb.files.relpath("FA", "archive", ds.StudyInstanceUID, ds.SeriesInstanceUID,
                           ds.SOPInstanceUID)
    plant(sb, rel, data)
    report = sb.fsck("FA")
    assert [(p.kind, p.path) for p in report.problems] == [(fsck.ORPHAN_FILE, rel)]
    assert not report.consistent

    repaired = sb.fsck("FA", repair=True)
    assert repaired.consistent and [p.repair for p in repaired.problems] == ["indexed"]
    [inst] = sb.instances("FA", study_uid=ds.StudyInstanceUID)
    assert (inst.sop_instance_uid, inst.path, inst.size) == (ds.SOPInstanceUID, rel, len(data))
    assert [e.kind for e in fsck_events(sb, "FA")] == ["fsck.reindexed"]
    assert sb.fsck("FA", min_age=0).problems == ()


def test_an_orphan_written_by_c_store_is_indexed_in_its_transfer_syntax(sb):
    ds, _ = instance_file(3)
    body = encode(ds)[128 + 4:]  # as C-STORE writes it: hand-made meta, dataset as received
    meta_end = 12 + int.from_bytes(body[8:12], "little")
    data = PREAMBLE + file_meta_bytes(ds.SOPClassUID, ds.SOPInstanceUID,
                                      str(ds.file_meta.TransferSyntaxUID), "MODALITY1") \
        + body[meta_end:]
    rel = sb.files.relpath("FA", "archive", ds.StudyInstanceUID, ds.SeriesInstanceUID,
                           ds.SOPInstanceUID)
    plant(sb, rel, data)
    sb.fsck("FA", repair=True)
    [inst] = sb.instances("FA")
    assert inst.transfer_syntax == ds.file_meta.TransferSyntaxUID


def test_an_orphan_that_is_not_dicom_or_truncated_is_removed(sb):
    _, data = instance_file(4)
    junk = plant(sb, "FA/archive/1.2/1.2.3/junk.dcm", b"not dicom at all")
    cut = plant(sb, "FA/archive/1.2/1.2.4/cut.dcm", data[: len(data) - 100])
    elsewhere = plant(sb, "FA/notastore/readme.txt", b"x")
    report = sb.fsck("FA", repair=True)
    assert kinds(report) == [fsck.ORPHAN_FILE] * 3
    assert {p.repair for p in report.problems} == {"file removed"}
    assert not junk.exists() and not cut.exists() and not elsewhere.exists()
    assert not (sb.files.root / "FA" / "archive" / "1.2").exists()  # empty directories pruned
    assert sb.instances("FA") == []


def test_a_second_copy_of_an_indexed_instance_is_removed_and_the_first_kept(sb):
    study(sb, "FA", 5, images=1)
    [inst] = sb.instances("FA")
    copy = plant(sb, inst.path + ".copy.dcm", sb.instance_path("FA", inst.sop_instance_uid)
                 .read_bytes())
    report = sb.fsck("FA", repair=True)
    assert [(p.kind, p.repair) for p in report.problems] == [(fsck.ORPHAN_FILE, "file removed")]
    assert not copy.exists()
    assert sb.instances("FA") == [inst] and sb.instance_path("FA", inst.sop_instance_uid).exists()


def test_a_leftover_temp_file_is_reported_and_removed(sb):
    study(sb, "FA", 6, images=1)
    [inst] = sb.instances("FA")
    final = sb.files.path(inst.path)
    tmp = plant(sb, str(Path(inst.path).with_name(f".{final.name}.0badcafe.tmp")), b"half")
    edit = plant(sb, str(Path(inst.path).with_name(f".{final.name}.edit")), b"half")
    report = sb.fsck("FA")
    assert kinds(report) == [fsck.TEMP_FILE, fsck.TEMP_FILE]
    sb.fsck("FA", repair=True)
    assert not tmp.exists() and not edit.exists() and final.exists()
    assert sb.instances("FA") == [inst]


def test_files_younger_than_min_age_are_left_alone(sb):
    path = sb.files.path("FA/archive/1.2/1.2.3/.x.dcm.12345678.tmp")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"a store in progress")
    report = sb.fsck("FA", repair=True)  # default: an hour-old file is a crash, a new one is not
    assert report.consistent and report.problems == ()
    assert report.skipped_recent == ("FA/archive/1.2/1.2.3/.x.dcm.12345678.tmp",)
    assert path.exists()
    assert kinds(sb.fsck("FA", min_age=0)) == [fsck.TEMP_FILE]


def test_a_row_whose_file_is_missing_goes_with_the_parents_it_leaves_empty(sb):
    study(sb, "FA", 7, images=1)
    keep = study(sb, "FA", 8, images=1)
    [gone] = [i for i in sb.instances("FA") if i.study_uid != keep]
    sb.files.path(gone.path).unlink()
    report = sb.fsck("FA")
    assert [(p.kind, p.uid) for p in report.problems] == [
        (fsck.MISSING_FILE, gone.sop_instance_uid)]

    repaired = sb.fsck("FA", repair=True)
    assert kinds(repaired) == sorted([fsck.MISSING_FILE, fsck.EMPTY_SERIES, fsck.EMPTY_STUDY,
                                      fsck.EMPTY_PATIENT])
    assert all(p.repair == "row removed" for p in repaired.problems)
    assert [s.study_uid for s in sb.studies("FA")] == [keep]
    assert len(fsck_events(sb, "FA")) == 4


def test_a_size_mismatch_is_corrected_from_a_complete_file(sb):
    study(sb, "FA", 9, images=1)
    [inst] = sb.instances("FA")
    with sb.db.write() as conn:
        conn.execute(update(Instance).where(Instance.path == inst.path).values(size=1))
    report = sb.fsck("FA")
    assert [(p.kind, p.detail) for p in report.problems] == [
        (fsck.SIZE_MISMATCH, f"{inst.size} bytes on disk, 1 indexed")]
    assert [p.repair for p in sb.fsck("FA", repair=True).problems] == ["row updated from file"]
    assert sb.instances("FA") == [inst]


def test_a_truncated_indexed_file_is_removed_with_its_row(sb):
    study(sb, "FA", 10, images=2)
    first, second = sb.instances("FA")
    path = sb.files.path(first.path)
    path.write_bytes(path.read_bytes()[:-50])
    report = sb.fsck("FA", repair=True)
    assert [(p.kind, p.repair) for p in report.problems] == [
        (fsck.SIZE_MISMATCH, "row and file removed")]
    assert not path.exists() and sb.instances("FA") == [second]


def test_empty_series_study_and_patient_rows_are_removed(sb):
    study(sb, "FA", 11, images=2)
    [one, two] = sb.instances("FA")
    with sb.db.write() as conn:
        conn.execute(delete(Instance).where(Instance.partition_id == sb._pid("FA")))
    for inst in (one, two):
        sb.files.remove(inst.path)
    report = sb.fsck("FA")
    assert [(p.kind, p.uid) for p in report.problems] == [
        (fsck.EMPTY_SERIES, one.series_uid), (fsck.EMPTY_STUDY, one.study_uid),
        (fsck.EMPTY_PATIENT, one.patient_id)]
    assert sb.fsck("FA", repair=True).consistent
    assert sb.studies("FA") == [] and sb.fsck("FA").problems == ()


def test_a_row_pointing_into_another_partition_is_removed_and_that_file_kept(sb):
    study(sb, "FA", 12, images=1)
    study(sb, "FB", 13, images=1)
    [mine], [theirs] = sb.instances("FA"), sb.instances("FB")
    sb.files.remove(mine.path)
    with sb.db.write() as conn:
        conn.execute(update(Instance).where(Instance.path == mine.path).values(
            path=theirs.path, size=theirs.size))
    report = sb.fsck("FA", repair=True)
    assert (report.problems[0].kind, report.problems[0].repair) == (
        fsck.OUTSIDE_PARTITION, "row removed")
    assert sb.files.path(theirs.path).exists() and sb.instances("FB") == [theirs]
    assert sb.fsck("FB").problems == ()


def test_a_symlink_is_removed_never_followed(sb, tmp_path):
    outside = tmp_path / "precious.dcm"
    outside.write_bytes(instance_file(14)[1])
    link = sb.files.path("FA/archive/1.2/1.2.3/link.dcm")
    link.parent.mkdir(parents=True)
    link.symlink_to(outside)
    aged(link)
    report = sb.fsck("FA", repair=True)
    assert [(p.kind, p.repair) for p in report.problems] == [(fsck.ORPHAN_FILE, "file removed")]
    assert not link.is_symlink() and outside.exists() and sb.instances("FA") == []


def plant_one_of_each(sb: Sandbox, code: str, seed: int) -> list[Path]:
    """An orphan instance, a temp file, a missing file: what a crash and a slip leave."""
    study(sb, code, seed, images=2)
    gone = sb.instances(code)[0]
    sb.files.path(gone.path).unlink()
    ds, data = instance_file(seed + 1)
    orphan = plant(sb, sb.files.relpath(code, "archive", ds.StudyInstanceUID,
                                        ds.SeriesInstanceUID, ds.SOPInstanceUID), data)
    temp = plant(sb, f"{code}/archive/9.9/9.9.9/.9.dcm.00000000.tmp", b"half")
    return [orphan, temp]


def test_repair_is_idempotent(sb):
    plant_one_of_each(sb, "FA", 20)
    first = sb.fsck("FA", repair=True)
    assert first.consistent and kinds(first) == sorted(
        [fsck.MISSING_FILE, fsck.ORPHAN_FILE, fsck.TEMP_FILE])
    events = len(fsck_events(sb, "FA"))
    second = sb.fsck("FA", repair=True, min_age=0)
    assert second.problems == () and second.consistent
    assert len(fsck_events(sb, "FA")) == events  # nothing done, nothing journaled


def test_fsck_of_one_partition_never_touches_another(sb):
    plant_one_of_each(sb, "FA", 30)
    theirs = plant_one_of_each(sb, "FB", 40)
    before = kinds(sb.fsck("FB"))
    assert sb.fsck("FA", repair=True).consistent
    assert kinds(sb.fsck("FB")) == before and all(p.exists() for p in theirs)
    assert fsck_events(sb, "FB") == []


def cli(sb: Sandbox, *args) -> int:
    return main(["fsck", *args, "--data-dir", str(sb.config.data_dir),
                 "--database-url", str(sb.config.database_url)])


def test_the_command_checks_all_partitions_and_exits_1_until_repaired(sb, capsys):
    plant_one_of_each(sb, "FA", 50)
    plant_one_of_each(sb, "FB", 60)
    assert cli(sb, "--all") == 1
    out = json.loads(capsys.readouterr().out)
    assert [r["code"] for r in out] == ["FA", "FB"] and not any(r["consistent"] for r in out)
    assert {p["kind"] for p in out[0]["problems"]} == {
        fsck.MISSING_FILE, fsck.ORPHAN_FILE, fsck.TEMP_FILE}

    assert cli(sb, "--all", "--repair") == 0
    out = json.loads(capsys.readouterr().out)
    assert all(r["repaired"] and r["consistent"] for r in out)
    assert cli(sb, "FA", "--min-age", "0") == 0
    assert json.loads(capsys.readouterr().out)[0]["problems"] == []


def test_the_command_needs_a_code_or_all_and_a_known_partition(sb, capsys):
    assert cli(sb) == 2
    assert cli(sb, "FA", "--all") == 2
    assert cli(sb, "NOSUCH") == 2
    assert "no partition" in capsys.readouterr().err


def test_administrative_edits_leave_the_partition_consistent(sb):
    study(sb, "FA", 70, images=2)
    [inst, _] = sb.instances("FA")
    sb.edit_patient("FA", inst.patient_id, patient_name="A^MUCH^LONGER^NAME^THAN^BEFORE")
    assert sb.fsck("FA").problems == ()
    [source, target] = [study(sb, "FA", 71, images=1), study(sb, "FA", 72, images=1)]
    [series] = {i.series_uid for i in sb.instances("FA", study_uid=source)}
    sb.move_series("FA", series, target)
    assert sb.fsck("FA").problems == ()


# -- crash safety: SIGKILL the server while it receives a study --------------------------

ROOT = Path(__file__).resolve().parents[2]


def serve(data: Path, port: int, log: Path):
    """`python -m sandbox serve` as a separate process, once it says it listens."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "serve", "--dicom-port", str(port), "--hl7-port", "0",
         "--data-dir", str(data)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
        stderr=log.open("a"))  # a file: a full stderr pipe would stall the server
    line = proc.stdout.readline()
    assert f":{port}" in line, f"server did not start: {line!r} {log.read_text()[-2000:]}"
    return proc


def send(port: int, datasets: list, acked: list) -> None:
    """C-STORE each dataset; record the SOP Instance UIDs answered Success (PS3.4 B.2.3)."""
    ae = AE("TESTSCU")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
    ae.maximum_pdu_size = 262144
    ae.add_requested_context(datasets[0].SOPClassUID, datasets[0].file_meta.TransferSyntaxUID)
    assoc = ae.associate("127.0.0.1", port, ae_title="CRASH_PACS", evt_handlers=NODELAY_HANDLERS)
    if not assoc.is_established:
        return
    for ds in datasets:
        if assoc.send_c_store(ds).get("Status") != 0x0000:  # an abort answers nothing
            break
        acked.append(str(ds.SOPInstanceUID))
    if assoc.is_established:
        assoc.release()


def run_fsck(data: Path, *args) -> tuple[int, list]:
    done = subprocess.run([sys.executable, "-m", "sandbox", "fsck", "CRASH", "--min-age", "0",
                           "--data-dir", str(data), *args], check=False, cwd=ROOT,
                          capture_output=True,
                          text=True, timeout=60)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)[0]["problems"]


def open_sandbox(data: Path) -> Sandbox:
    return Sandbox(SandboxConfig(data_dir=data, database_url=f"sqlite:///{data / 'sandbox.db'}"))


def send_all(port: int, batches: list[list]) -> tuple[list[str], list[threading.Thread]]:
    """Several associations at once (more stores in flight when the kill lands)."""
    acked: list[str] = []
    senders = [threading.Thread(target=send, args=(port, b, acked), daemon=True)
               for b in batches]
    for t in senders:
        t.start()
    return acked, senders


@pytest.mark.slow
def test_a_server_killed_while_receiving_leaves_an_archive_fsck_can_make_consistent(tmp_path):
    data, log = tmp_path / "data", tmp_path / "serve.log"
    with open_sandbox(data) as sb:
        sb.create_partition("CRASH")
        sb.add_node("CRASH", "TESTSCU", "127.0.0.1", 1)
    sent = {str(ds.SOPInstanceUID): ds
            for ds in small_study(90, rows=256, columns=256, images_per_series=240)}
    datasets = list(sent.values())
    port = free_port()
    server = serve(data, port, log)
    try:
        # three associations storing one study (concurrent inserts of its series too)
        acked, senders = send_all(port, [datasets[i::3] for i in range(3)])
        deadline = time.monotonic() + 15
        while len(acked) < 60 and time.monotonic() < deadline:
            time.sleep(0.002)
        assert 0 < len(acked) < len(datasets), "the kill must land while the study arrives"
        os.kill(server.pid, signal.SIGKILL)  # no shutdown, no clean-up, no last commit
        server.wait(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
    for t in senders:
        t.join(timeout=15)
    told_success = set(acked)

    # Ingest writes the file before the index commits, so a crash may leave files without
    # rows (renamed or temp), never a row without its file.
    code, problems = run_fsck(data)
    assert {p["kind"] for p in problems} <= {fsck.ORPHAN_FILE, fsck.TEMP_FILE}, problems
    assert code == (1 if problems else 0)
    assert run_fsck(data, "--repair")[0] == 0
    assert run_fsck(data) == (0, [])
    with open_sandbox(data) as sb:
        indexed = sb.instances("CRASH")
        # every instance the sender was told is stored survived the crash ...
        assert told_success <= {i.sop_instance_uid for i in indexed}
        # ... and every indexed instance is whole, byte for byte what was sent
        for inst in indexed:
            stored, why = read_complete(sb.files.path(inst.path))
            assert stored is not None, why
            assert stored.PixelData == sent[inst.sop_instance_uid].PixelData
            assert inst.size == sb.files.path(inst.path).stat().st_size

    # Restarted, the archive takes what the sender resends (as a modality would after
    # an abort), whether or not fsck had indexed it already, and stays consistent.
    server = serve(data, port, log)
    try:
        rest = [ds for ds in datasets if str(ds.SOPInstanceUID) not in told_success]
        acked, senders = send_all(port, [rest])
        senders[0].join(timeout=30)
        assert len(acked) == len(rest)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
    assert run_fsck(data) == (0, [])
    with open_sandbox(data) as sb:
        assert sb.studies("CRASH")[0].instance_count == len(datasets)
