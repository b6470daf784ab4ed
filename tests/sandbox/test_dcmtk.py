"""Interoperability with an independent DICOM implementation: dcmtk's command-line tools."""

from __future__ import annotations

import pydicom
import pytest

from sandbox import synth

pytestmark = pytest.mark.dcmtk


@pytest.fixture
def dc(sandbox, dcmtk):
    """A partition that knows the dcmtk tools' AE titles, and a way to run them at it."""
    code = "DC" + str(len(sandbox.list_partitions()))
    sandbox.create_partition(code)
    for ae in ("ECHOSCU", "STORESCU", "FINDSCU", "MOVESCU", "GETSCU"):
        sandbox.add_node(code, ae, "127.0.0.1", 1)

    def run(tool, *args, files=(), **kw):
        return dcmtk(tool, "-aet", tool.upper(), *args, "127.0.0.1", sandbox.dicom_port, *files,
                     **kw)

    return code, run


def _files(tmp_path, seed, n=2):
    return synth.write_study(synth.generate_study(seed, rows=64, columns=64,
                                                  images_per_series=n), tmp_path / f"s{seed}")


def test_echoscu_is_accepted(dc):
    code, run = dc
    done = run("echoscu", "-aec", f"{code}_PACS")
    assert done.returncode == 0, done.stderr


def test_echoscu_sees_the_standard_rejection_reasons(dc, dcmtk, sandbox):
    code, run = dc
    done = run("echoscu", "-aec", "NOSUCH_PACS")
    assert done.returncode != 0 and "Called AE Title Not Recognized" in done.stderr
    done = dcmtk("echoscu", "-aet", "STRANGER", "-aec", f"{code}_PACS", "127.0.0.1",
                 sandbox.dicom_port)
    assert done.returncode != 0 and "Calling AE Title Not Recognized" in done.stderr
    assert "Rejected Permanent, Source: Service User" in done.stderr


def test_storescu_stores_and_the_bytes_arrive_unchanged(dc, sandbox, tmp_path):
    code, run = dc
    files = _files(tmp_path, 61, n=3)
    done = run("storescu", "-aec", f"{code}_PACS", files=files)
    assert done.returncode == 0, done.stderr
    assert sandbox.studies(code)[0].instance_count == 3
    for f in files:
        sent = pydicom.dcmread(f)
        stored = pydicom.dcmread(sandbox.instance_path(code, sent.SOPInstanceUID))
        assert stored.PixelData == sent.PixelData
        assert stored.file_meta.TransferSyntaxUID == sent.file_meta.TransferSyntaxUID


def test_findscu_at_study_level_with_wildcards(dc, sandbox, tmp_path):
    code, run = dc
    patient = {"PatientID": "DCM001", "PatientName": "DCMTK^TEST"}
    sandbox.generate(code, seed=62, patient=patient, rows=32, columns=32, images_per_series=1)
    done = run("findscu", "-S", "-aec", f"{code}_PACS", "-k", "QueryRetrieveLevel=STUDY",
               "-k", "PatientName=DCMTK*", "-k", "StudyInstanceUID", "-k", "PatientID")
    assert done.returncode == 0, done.stderr
    out = done.stdout + done.stderr
    assert "DCM001" in out and out.count("Find Response") >= 1
    done = run("findscu", "-P", "-aec", f"{code}_PACS", "-k", "QueryRetrieveLevel=PATIENT",
               "-k", "PatientID=DCM*", "-k", "PatientName")
    assert done.returncode == 0 and "DCMTK^TEST" in done.stdout + done.stderr


def test_movescu_moves_a_study_to_the_workstation(dc, sandbox):
    code, run = dc
    [uid] = sandbox.generate(code, seed=63, rows=32, columns=32, images_per_series=2)
    done = run("movescu", "-S", "-aec", f"{code}_PACS", "-aem", f"{code}_WS",
               "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={uid}")
    assert done.returncode == 0, done.stderr
    assert sandbox.studies(code, store="workstation")[0].instance_count == 2


def test_movescu_to_an_unknown_destination_reports_a801(dc, sandbox):
    code, run = dc
    [uid] = sandbox.generate(code, seed=64, rows=32, columns=32, images_per_series=1)
    done = run("movescu", "-v", "-S", "-aec", f"{code}_PACS", "-aem", "NOWHERE",
               "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={uid}")
    out = (done.stdout + done.stderr).lower()
    assert "movedestinationunknown" in out.replace(" ", "")


def test_getscu_retrieves_a_study(dc, sandbox, tmp_path):
    code, run = dc
    [uid] = sandbox.generate(code, seed=65, rows=32, columns=32, images_per_series=2)
    out_dir = tmp_path / "got"
    out_dir.mkdir()
    done = run("getscu", "-S", "-aec", f"{code}_PACS", "-od", out_dir,
               "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={uid}")
    assert done.returncode == 0, done.stderr
    assert len(list(out_dir.iterdir())) == 2


@pytest.mark.parametrize("tool, propose, syntax", [
    ("dcmcjpls", "-xt", "1.2.840.10008.1.2.4.80"),   # JPEG-LS lossless
    ("dcmcrle", "-xr", "1.2.840.10008.1.2.5"),       # RLE lossless
    ("dcmcjpeg", "-xs", "1.2.840.10008.1.2.4.70"),   # JPEG lossless SV1
])
def test_compressed_files_from_storescu_are_stored_as_received(dc, sandbox, tmp_path, dcmtk,
                                                               tool, propose, syntax):
    import shutil

    if not shutil.which(tool):
        pytest.skip(f"{tool} not installed")
    code, run = dc
    [plain] = _files(tmp_path, 66, n=1)
    packed = tmp_path / "packed.dcm"
    assert dcmtk(tool, plain, packed).returncode == 0
    sent = pydicom.dcmread(packed)
    assert sent.file_meta.TransferSyntaxUID == syntax
    # propose the compressed syntax, so storescu sends the file as it is
    done = run("storescu", propose, "-aec", f"{code}_PACS", files=[packed])
    assert done.returncode == 0, done.stderr
    stored = pydicom.dcmread(sandbox.instance_path(code, sent.SOPInstanceUID))
    assert stored.file_meta.TransferSyntaxUID == syntax
    assert stored.PixelData == sent.PixelData  # the compressed bytes, untouched
