"""C-STORE: bytes kept as received, index and files in step, bad datasets refused."""

from __future__ import annotations

import pytest

import socket
import struct
import time

import pydicom
from pydicom import uid
from pynetdicom import build_context
from pynetdicom.sop_class import CTImageStorage, MRImageStorage

from sandbox.archive import status as st
from tests.sandbox.conftest import associate, small_study

# Invalid UIDs in identifiers are the point of some tests; pydicom warns about them.
pytestmark = pytest.mark.filterwarnings("ignore:Invalid value for VR")


def _store(sb, code, datasets, called=None):
    contexts = sorted({(str(d.SOPClassUID), str(d.file_meta.TransferSyntaxUID)) for d in datasets})
    assoc = associate(sb, called or f"{code}_PACS", [build_context(c, [t]) for c, t in contexts])
    assert assoc.is_established
    try:
        return [assoc.send_c_store(d).Status for d in datasets]
    finally:
        assoc.release()


def _files(sb, code):
    root = sb.config.data_dir / code
    return sorted(p for p in root.rglob("*.dcm")) if root.exists() else []


def test_a_stored_study_is_indexed_and_on_disk_byte_for_byte(sandbox, code):
    study = small_study(1)
    assert _store(sandbox, code, study) == [st.SUCCESS] * 3
    [info] = sandbox.studies(code)
    assert info.instance_count == 3 and info.modalities == ("CT",)
    assert info.patient_id == study[0].PatientID
    for ds in study:
        path = sandbox.instance_path(code, ds.SOPInstanceUID)
        stored = pydicom.dcmread(path)
        assert stored.file_meta.TransferSyntaxUID == ds.file_meta.TransferSyntaxUID
        assert stored.PixelData == ds.PixelData
        assert stored.file_meta.SourceApplicationEntityTitle == "TESTSCU"
    assert len(_files(sandbox, code)) == 3
    parts = _files(sandbox, code)[0].relative_to(sandbox.config.data_dir).parts
    assert parts[:3] == (code, "archive", study[0].StudyInstanceUID)
    stored_events = sandbox.journal(code, kind="dimse.c-store")
    assert len(stored_events) == 3 and all(e.status == st.SUCCESS for e in stored_events)
    assert stored_events[0].details["duration_ms"] >= 0
    assert stored_events[0].details["calling_ae"] == "TESTSCU"


def test_compressed_and_big_endian_and_deflated_data_are_stored_as_received(sandbox, code):
    from pydicom.encaps import encapsulate

    base = small_study(2)
    sent = []
    for ds, ts in zip(base, (uid.JPEG2000Lossless, uid.DeflatedExplicitVRLittleEndian,
                             uid.ExplicitVRBigEndian)):
        ds = ds.copy()
        ds.file_meta = ds.file_meta.copy()
        ds.file_meta.TransferSyntaxUID = ts
        if ts == uid.JPEG2000Lossless:  # opaque bytes: the archive must not decode them
            ds.PixelData = encapsulate([b"\xff\x4f\xff\x51" + b"\x00" * 60])
            ds["PixelData"].VR = "OB"
        if ts == uid.ExplicitVRBigEndian:
            del ds.PixelData  # big endian OW would need swapping; keep the test about storage
        sent.append(ds)
    assert _store(sandbox, code, sent) == [st.SUCCESS] * 3
    for ds in sent:
        stored = pydicom.dcmread(sandbox.instance_path(code, ds.SOPInstanceUID))
        assert stored.file_meta.TransferSyntaxUID == ds.file_meta.TransferSyntaxUID
    jpeg = pydicom.dcmread(sandbox.instance_path(code, sent[0].SOPInstanceUID))
    assert jpeg.PixelData == sent[0].PixelData


def test_a_second_copy_replaces_the_first_and_is_journaled(sandbox, code):
    ds = small_study(3)[0]
    assert _store(sandbox, code, [ds]) == [st.SUCCESS]
    changed = ds.copy()
    changed.InstanceNumber = 99
    assert _store(sandbox, code, [changed]) == [st.SUCCESS]
    [inst] = sandbox.instances(code)
    assert inst.instance_number == "99"
    assert len(_files(sandbox, code)) == 1
    assert sandbox.journal(code, kind="store.replaced")


def test_a_partition_can_refuse_second_copies(sandbox, code):
    sandbox.update_partition(code, replace_duplicates=False)
    ds = small_study(4)[0]
    assert _store(sandbox, code, [ds]) == [st.SUCCESS]
    assert _store(sandbox, code, [ds]) == [st.DUPLICATE_SOP_INSTANCE]
    assert len(_files(sandbox, code)) == 1
    assert sandbox.journal(code, kind="store.duplicate-refused")


def _send_raw(sandbox, code, tmp_path, sop_class, sop_instance, payload: bytes,
              monkeypatch) -> int:
    """Send `payload` as the dataset of a C-STORE, untouched (pynetdicom's chunked file mode)."""
    from pynetdicom import _config

    from sandbox.archive.storage import PREAMBLE, file_meta_bytes

    path = tmp_path / "raw.dcm"
    path.write_bytes(PREAMBLE + file_meta_bytes(sop_class, sop_instance,
                                                uid.ImplicitVRLittleEndian, "X") + payload)
    monkeypatch.setattr(_config, "STORE_SEND_CHUNKED_DATASET", True)
    assoc = associate(sandbox, f"{code}_PACS",
                      [build_context(sop_class, [uid.ImplicitVRLittleEndian])])
    try:
        return assoc.send_c_store(path).Status
    finally:
        assoc.release()


def _implicit(ds) -> bytes:
    from pynetdicom.dsutils import encode

    return encode(ds, True, True)


def test_a_dataset_without_sop_instance_uid_is_refused_with_a900(sandbox, code, tmp_path,
                                                                 monkeypatch):
    ds = small_study(5)[0]
    del ds.SOPInstanceUID
    status = _send_raw(sandbox, code, tmp_path, CTImageStorage, "1.2.3.4", _implicit(ds),
                       monkeypatch)
    assert status == st.DATASET_DOES_NOT_MATCH_SOP_CLASS
    assert not sandbox.instances(code) and not _files(sandbox, code)
    assert "no SOP Instance UID" in sandbox.journal(code, kind="dimse.c-store")[-1].summary


def test_a_sop_class_that_does_not_match_its_context_is_refused(sandbox, code, tmp_path,
                                                                monkeypatch):
    ds = small_study(6)[0]  # a CT image sent on an MR context
    status = _send_raw(sandbox, code, tmp_path, MRImageStorage, ds.SOPInstanceUID,
                       _implicit(ds), monkeypatch)
    assert status == st.DATASET_DOES_NOT_MATCH_SOP_CLASS
    assert not sandbox.instances(code)
    assert "does not match" in sandbox.journal(code, kind="dimse.c-store")[-1].summary


def test_a_dataset_pydicom_cannot_parse_is_answered_cannot_understand(sandbox, code, tmp_path,
                                                                      monkeypatch):
    garbage = struct.pack("<HHI", 0x0008, 0x0016, 0xFFFFFFF0) + b"\x01" * 10
    status = _send_raw(sandbox, code, tmp_path, CTImageStorage, "1.2.3.4.5", garbage,
                       monkeypatch)
    assert status == st.CANNOT_UNDERSTAND
    assert not sandbox.instances(code) and not _files(sandbox, code)
    assert sandbox.journal(code, kind="dimse.c-store")[-1].status == st.CANNOT_UNDERSTAND


def test_an_abort_in_the_middle_of_a_transfer_leaves_nothing_stored(sandbox, code):
    """Abort after the first P-DATA fragments of a 2 MB image: no file, no row."""
    import threading

    from pynetdicom import evt
    from pynetdicom.pdu import P_DATA_TF

    ds = small_study(7)[0]
    ds.Rows = ds.Columns = 1024
    ds.PixelData = b"\x00\x01" * (1024 * 1024)
    fragments = []
    aborted = threading.Event()

    def on_sent(event):
        if isinstance(event.pdu, P_DATA_TF):
            fragments.append(1)
            if len(fragments) == 3 and not aborted.is_set():
                aborted.set()
                # A-ABORT (PS3.8 9.3.8) straight onto the wire, then hang up
                sock = event.assoc.dul.socket.socket
                sock.sendall(bytes([0x07, 0, 0, 0, 0, 4, 0, 0, 0, 0]))
                sock.shutdown(socket.SHUT_RDWR)

    assoc = associate(sandbox, f"{code}_PACS", [build_context(CTImageStorage,
                                                              [uid.ExplicitVRLittleEndian])],
                      evt_handlers=[(evt.EVT_PDU_SENT, on_sent)])
    try:
        assoc.send_c_store(ds)
    except Exception:
        pass
    assert aborted.wait(5)
    deadline = time.time() + 5
    while time.time() < deadline and not sandbox.journal(code, kind="association.aborted"):
        time.sleep(0.05)
    assert sandbox.journal(code, kind="association.aborted")
    assert not sandbox.instances(code) and not _files(sandbox, code)
    assert not sandbox.journal(code, kind="dimse.c-store")


def test_out_of_resources_fault_answers_a700_and_stores_nothing(sandbox, code):
    sandbox.set_fault(code, "store_out_of_resources")
    assert _store(sandbox, code, small_study(8)[:1]) == [st.OUT_OF_RESOURCES]
    assert not sandbox.instances(code)
    assert sandbox.journal(code, kind="fault.fired")[-1].details["fault"] == "store_out_of_resources"
    sandbox.clear_fault(code, "store_out_of_resources")
    assert _store(sandbox, code, small_study(8)[:1]) == [st.SUCCESS]


def test_an_index_failure_removes_the_written_file(sandbox, code, monkeypatch):
    from sandbox.archive import index

    def boom(*a, **k):
        raise RuntimeError("disk full (simulated)")

    monkeypatch.setattr(index, "add_instance", boom)
    assert _store(sandbox, code, small_study(9)[:1]) == [st.OUT_OF_RESOURCES]
    assert not _files(sandbox, code)
    assert "disk full" in sandbox.journal(code, kind="failure")[-1].summary


def test_the_workstation_keeps_its_own_store(sandbox, code):
    study = small_study(10)
    assert _store(sandbox, code, study, called=f"{code}_WS") == [st.SUCCESS] * 3
    assert not sandbox.studies(code)
    assert sandbox.studies(code, store="workstation")[0].instance_count == 3


def test_concurrent_senders_of_one_study_end_in_one_consistent_study(sandbox, code):
    import threading

    study = small_study(11, images_per_series=8)
    results = []

    def send(part):
        results.extend(_store(sandbox, code, part))

    threads = [threading.Thread(target=send, args=(study[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [st.SUCCESS] * 8
    [info] = sandbox.studies(code)
    assert info.instance_count == 8 and info.series_count == 1
    assert len(_files(sandbox, code)) == 8


def test_a_file_that_cannot_be_written_is_not_indexed_and_answers_a700(sandbox, code,
                                                                       monkeypatch):
    from sandbox.archive.filestore import FileStore

    def full(self, relpath, chunks):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(FileStore, "write", full)
    assert _store(sandbox, code, small_study(12)[:1]) == [st.OUT_OF_RESOURCES]
    assert sandbox.instances(code) == []
    assert "No space left" in sandbox.journal(code, kind="failure")[-1].summary
    assert not sandbox.journal(code, kind="dimse.c-store")  # the row was rolled back
