"""Tests for sandbox.synth: synthetic patients and studies.

The objects must be valid DICOM (checked with dicom3tools' dciodvfy and dcmtk's
dcmdump where installed), deterministic for a seed, and must honour what the
caller pins (patient, UIDs, dates, extra attributes).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from datetime import date
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydicom import dcmread, dcmwrite
from pydicom.uid import ExplicitVRLittleEndian

from sandbox import synth

# Modality -> the SOP classes its study must contain.
EXPECTED_SOP_CLASSES = {
    "CT": {"1.2.840.10008.5.1.4.1.1.2"},
    "MR": {"1.2.840.10008.5.1.4.1.1.4"},
    "CR": {"1.2.840.10008.5.1.4.1.1.1"},
    "DX": {"1.2.840.10008.5.1.4.1.1.1.1"},
    "US": {"1.2.840.10008.5.1.4.1.1.6.1"},
    "ECHO": {"1.2.840.10008.5.1.4.1.1.3.1"},
    "NM": {"1.2.840.10008.5.1.4.1.1.20"},
    "XA": {"1.2.840.10008.5.1.4.1.1.12.1"},
    "RTSTRUCT": {"1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.481.3"},
    "RT": {"1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.481.3", "1.2.840.10008.5.1.4.1.1.481.5"},
}
UID_PATTERN = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")


@lru_cache(maxsize=None)
def small_study(modality: str, seed: int = 11) -> tuple:
    """Two series of two small images (or short multi-frame objects), cached."""
    return tuple(synth.generate_study(seed, modality, series_count=2, images_per_series=2,
                                      rows=32, columns=48, frames=4))


def encoded(ds) -> bytes:
    buffer = io.BytesIO()
    dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()


def dicom_tool(name: str) -> str:
    """Path of a DICOM command-line tool, or skip (fail if ACADEMY_REQUIRE_DCMTK=1)."""
    path = shutil.which(name)
    if path is None:
        reason = f"{name} is not installed (Debian: dcmtk for dcmdump, dicom3tools for dciodvfy)"
        if os.environ.get("ACADEMY_REQUIRE_DCMTK") == "1":
            pytest.fail(reason + " and ACADEMY_REQUIRE_DCMTK=1")
        pytest.skip(reason)
    return path


# --- patients -----------------------------------------------------------------


def test_a_patient_has_every_patient_module_value_in_dicom_form():
    patient = synth.generate_patient(42)
    assert set(patient) == {"PatientName", "PatientID", "IssuerOfPatientID", "PatientBirthDate", "PatientSex"}
    family, given_name = patient["PatientName"].split("^")
    assert family.isalpha() and given_name.isalpha()
    assert re.fullmatch(r"\d{8}", patient["PatientID"])
    assert patient["IssuerOfPatientID"]
    born = date(int(patient["PatientBirthDate"][:4]), int(patient["PatientBirthDate"][4:6]),
                int(patient["PatientBirthDate"][6:]))
    assert date(1925, 1, 1) < born < synth.REFERENCE_DAY
    assert patient["PatientSex"] in {"M", "F", "O"}


def test_the_same_seed_gives_the_same_patient_and_different_seeds_different_ids():
    assert synth.generate_patient(7) == synth.generate_patient(7)
    ids = {synth.generate_patient(seed)["PatientID"] for seed in range(2000)}
    assert len(ids) == 2000
    names = {synth.generate_patient(seed)["PatientName"] for seed in range(200)}
    assert len(names) > 100, "names should vary, not repeat a handful"
    sexes = {synth.generate_patient(seed)["PatientSex"] for seed in range(200)}
    assert {"M", "F"} <= sexes


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(min_value=-(10**12), max_value=10**12))
def test_any_seed_gives_a_valid_patient_and_a_consistent_age(seed):
    patient = synth.generate_patient(seed)
    assert re.fullmatch(r"[A-Za-z]+\^[A-Za-z]+", patient["PatientName"])
    assert re.fullmatch(r"\d{8}", patient["PatientID"])
    (ds,) = synth.generate_study(seed, "CR", images_per_series=1, rows=8, columns=8)
    born, seen = (date.fromisoformat(f"{v[:4]}-{v[4:6]}-{v[6:]}") for v in (ds.PatientBirthDate, ds.StudyDate))
    assert born < seen <= synth.REFERENCE_DAY
    years = seen.year - born.year - ((seen.month, seen.day) < (born.month, born.day))
    if years >= 2:
        assert ds.PatientAge == f"{years:03d}Y"
    else:
        assert re.fullmatch(r"\d{3}[DM]", ds.PatientAge)


# --- every modality -------------------------------------------------------------


@pytest.mark.parametrize("modality", synth.MODALITIES)
def test_each_modality_gives_complete_part10_instances_of_its_sop_classes(modality):
    study = small_study(modality)
    assert {ds.SOPClassUID for ds in study} == EXPECTED_SOP_CLASSES[modality]
    for ds in study:
        meta = ds.file_meta
        assert meta.TransferSyntaxUID == ExplicitVRLittleEndian
        assert meta.MediaStorageSOPClassUID == ds.SOPClassUID
        assert meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert meta.ImplementationClassUID == synth.IMPLEMENTATION_CLASS_UID
        for keyword in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID",
                        "StudyDate", "StudyTime", "AccessionNumber", "Modality", "SeriesInstanceUID"):
            assert keyword in ds, f"{modality} lacks {keyword}"
        # Round trip through a Part 10 file keeps everything.
        again = dcmread(io.BytesIO(encoded(ds)))
        assert again.SOPInstanceUID == ds.SOPInstanceUID
        assert again == ds


@pytest.mark.parametrize("modality", synth.MODALITIES)
def test_pixel_data_is_exactly_rows_columns_samples_frames_and_bits(modality):
    images = [ds for ds in small_study(modality) if "PixelData" in ds]
    assert images
    for ds in images:
        frames = int(ds.get("NumberOfFrames", 1))
        expected = ds.Rows * ds.Columns * ds.SamplesPerPixel * frames * ds.BitsAllocated // 8
        assert len(ds.PixelData) == expected
        assert ds.HighBit == ds.BitsStored - 1
        assert ds.PixelRepresentation == 0
        pixels = ds.pixel_array
        assert pixels.max() < 2 ** ds.BitsStored
        assert pixels.std() > 0, "the image should show something, not a flat field"


def test_multi_frame_objects_honour_the_frame_count_and_index_every_frame():
    for modality in ("NM", "XA", "ECHO"):
        (ds,) = synth.generate_study(3, modality, images_per_series=1, rows=16, columns=16, frames=6)
        assert ds.NumberOfFrames == 6
        assert ds.pixel_array.shape[0] == 6
    (nm,) = synth.generate_study(3, "NM", images_per_series=1, rows=16, columns=16, frames=6)
    for vector in ("EnergyWindowVector", "DetectorVector", "RotationVector", "AngularViewVector"):
        assert len(nm[vector].value) == 6
    assert nm.RotationInformationSequence[0].NumberOfFramesInRotation == 6
    assert nm.CountsAccumulated == int(nm.pixel_array.sum())


def test_us_is_rgb_and_echo_is_grey_cine():
    (us,) = synth.generate_study(4, "US", images_per_series=1, rows=32, columns=32)
    assert (us.PhotometricInterpretation, us.SamplesPerPixel, us.PlanarConfiguration) == ("RGB", 3, 0)
    (echo,) = synth.generate_study(4, "ECHO", images_per_series=1, rows=32, columns=32, frames=3)
    assert echo.PhotometricInterpretation == "MONOCHROME2"
    assert echo.FrameIncrementPointer == 0x00181063 and float(echo.FrameTime) > 0


# --- validity with independent tools ----------------------------------------------


@pytest.fixture(scope="module")
def written_studies(tmp_path_factory) -> dict[str, list[Path]]:
    root = tmp_path_factory.mktemp("synth")
    return {m: synth.write_study(small_study(m), root / m) for m in synth.MODALITIES}


@pytest.mark.dcmtk
@pytest.mark.parametrize("modality", synth.MODALITIES)
def test_dciodvfy_finds_no_errors(modality, written_studies):
    tool = dicom_tool("dciodvfy")
    for path in written_studies[modality]:
        result = subprocess.run([tool, str(path)], capture_output=True, text=True, timeout=60)
        report = result.stdout + result.stderr
        errors = [line for line in report.splitlines() if line.startswith("Error")]
        assert not errors, f"{path.name}:\n" + "\n".join(errors)
        # dciodvfy names the IOD it recognised on its first line.
        assert report.split("\n", 1)[0].strip() in {
            "CTImage", "MRImage", "CRImage", "DXImageForPresentation", "USImage",
            "USMultiFrameImage", "NMImage", "XAImage", "RTStructureSet", "RTPlan",
        }


@pytest.mark.dcmtk
@pytest.mark.parametrize("modality", synth.MODALITIES)
def test_dcmdump_parses_every_file(modality, written_studies):
    tool = dicom_tool("dcmdump")
    for path in written_studies[modality]:
        result = subprocess.run([tool, "-q", str(path)], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert "E:" not in result.stderr
        assert "(0008,0018) UI [" in result.stdout


# --- determinism and uniqueness -----------------------------------------------------


@pytest.mark.parametrize("modality", synth.MODALITIES)
def test_the_same_seed_gives_byte_identical_files(modality):
    first = [encoded(ds) for ds in synth.generate_study(5, modality, rows=16, columns=16, frames=2)]
    second = [encoded(ds) for ds in synth.generate_study(5, modality, rows=16, columns=16, frames=2)]
    assert first == second


def test_different_seeds_give_different_patients_and_uids():
    a = synth.generate_study(1, "CT", images_per_series=2, rows=16, columns=16)
    b = synth.generate_study(2, "CT", images_per_series=2, rows=16, columns=16)
    assert a[0].PatientID != b[0].PatientID
    assert a[0].StudyInstanceUID != b[0].StudyInstanceUID
    assert a[0].AccessionNumber != b[0].AccessionNumber
    assert not {ds.SOPInstanceUID for ds in a} & {ds.SOPInstanceUID for ds in b}
    assert a[0].PixelData != b[0].PixelData


@pytest.mark.parametrize("modality", synth.MODALITIES)
def test_uids_are_valid_unique_and_consistently_shared_within_a_study(modality):
    study = small_study(modality)
    instance_uids = [ds.SOPInstanceUID for ds in study]
    assert len(set(instance_uids)) == len(study)
    assert len({ds.StudyInstanceUID for ds in study}) == 1
    by_series: dict[str, set[str]] = {}
    for ds in study:
        by_series.setdefault(ds.SeriesInstanceUID, set()).add(ds.Modality)
        for uid in (ds.SOPInstanceUID, ds.SeriesInstanceUID, ds.StudyInstanceUID):
            assert len(uid) <= 64 and UID_PATTERN.fullmatch(uid), uid
            assert uid.startswith(synth.ORG_ROOT)
    assert all(len(modalities) == 1 for modalities in by_series.values())
    all_uids = set(instance_uids) | set(by_series) | {study[0].StudyInstanceUID}
    assert len(all_uids) == len(instance_uids) + len(by_series) + 1
    if modality not in ("RT", "RTSTRUCT"):
        assert len(by_series) == 2
        numbers = sorted((ds.SeriesNumber, ds.InstanceNumber) for ds in study)
        assert numbers == [(1, 1), (1, 2), (2, 1), (2, 2)]


def test_ct_slices_are_a_stack_with_varying_anatomy_in_hounsfield_units():
    study = synth.generate_study(9, "CT", images_per_series=20, rows=64, columns=64)
    z = [float(ds.ImagePositionPatient[2]) for ds in study]
    assert z == sorted(z, reverse=True) and len(set(z)) == 20
    hu = [ds.pixel_array.astype(np.int32) * int(ds.RescaleSlope) + int(ds.RescaleIntercept) for ds in study]
    middle = hu[10]
    assert middle.min() < -900, "air around the body"
    assert middle.max() > 500, "bone"
    assert abs(np.median(middle[24:40, 24:40])) < 200, "soft tissue near the centre"
    assert not np.array_equal(hu[0], hu[10]), "slices should differ along the scan"
    assert {ds.FrameOfReferenceUID for ds in study} == {study[0].FrameOfReferenceUID}


def test_iter_ct_series_matches_generate_study():
    lazy = [encoded(ds) for ds in synth.iter_ct_series(8, 3, rows=32, columns=32)]
    eager = [encoded(ds) for ds in synth.generate_study(8, "CT", images_per_series=3, rows=32, columns=32)]
    assert lazy == eager


# --- patients across studies ---------------------------------------------------------


def test_a_patient_can_be_reused_for_another_study():
    patient = synth.generate_patient(100)
    first = synth.generate_study(1, "CT", patient=patient, rows=16, columns=16)
    second = synth.generate_study(2, "MR", patient=patient, rows=16, columns=16)
    for ds in first + second:
        for key, value in patient.items():
            assert str(ds[key].value) == value
    assert first[0].StudyInstanceUID != second[0].StudyInstanceUID


def test_a_partial_patient_is_completed_from_the_seed():
    (ds, *_) = synth.generate_study(1, "CR", patient={"PatientName": "Test^Pinned"}, rows=16, columns=16)
    assert ds.PatientName == "Test^Pinned"
    assert ds.PatientID == synth.generate_patient(1)["PatientID"]


def test_generate_studies_gives_several_patients_some_with_earlier_priors():
    studies = list(synth.generate_studies(4, 30, modalities=("CT", "CR", "US"),
                                          images_per_series=1, rows=16, columns=16))
    assert len(studies) == 30
    by_patient: dict[str, list] = {}
    for study in studies:
        head = study[0]
        assert head.Modality in {"CT", "CR", "US"}
        assert head.PatientBirthDate < head.StudyDate <= synth.REFERENCE_DAY.strftime("%Y%m%d")
        by_patient.setdefault(head.PatientID, []).append(head)
    assert 5 <= len(by_patient) < 30
    with_priors = [heads for heads in by_patient.values() if len(heads) > 1]
    assert with_priors, "some patients should have prior studies"
    for heads in with_priors:
        dates = [h.StudyDate for h in heads]
        assert dates == sorted(dates) and len(set(dates)) == len(dates)
        assert len({h.PatientName for h in heads}) == 1
    assert len({s[0].StudyInstanceUID for s in studies}) == 30
    assert len({s[0].AccessionNumber for s in studies}) == 30


# --- overrides --------------------------------------------------------------------------


def test_study_level_values_can_be_pinned():
    uid = synth.ORG_ROOT + "999.1"
    study = synth.generate_study(
        3, "MR", series_count=2, images_per_series=2, rows=16, columns=16,
        study_uid=uid, accession_number="ACC123", study_description="MRI KNEE LEFT",
        study_date="20240229", referring_physician="Doe^Jane", station_ae="MR_EAST",
    )
    for ds in study:
        assert ds.StudyInstanceUID == uid
        assert ds.AccessionNumber == "ACC123"
        assert ds.StudyDescription == "MRI KNEE LEFT"
        assert ds.StudyDate == "20240229"
        assert ds.ReferringPhysicianName == "Doe^Jane"
        assert ds.StationName == "MR_EAST"
        assert ds.file_meta.SourceApplicationEntityTitle == "MR_EAST"
    assert not any(ds.SeriesInstanceUID == uid for ds in study)


def test_extra_overrides_and_adds_top_level_attributes_on_every_instance():
    study = synth.generate_study(3, "RT", images_per_series=3, rows=16, columns=16,
                                 extra={"InstitutionName": "Lab Hospital", "PatientComments": "synthetic"})
    for ds in study:
        assert ds.InstitutionName == "Lab Hospital"
        assert ds.PatientComments == "synthetic"


def test_extra_none_removes_an_attribute_to_stage_a_broken_object():
    (ds,) = synth.generate_study(3, "CR", images_per_series=1, rows=16, columns=16,
                                 extra={"PatientID": None, "AccessionNumber": ""})
    assert "PatientID" not in ds
    assert ds.AccessionNumber == ""


def test_a_misspelt_extra_keyword_is_refused_instead_of_silently_ignored():
    with pytest.raises(ValueError, match="PatientsName"):
        synth.generate_study(3, "CR", extra={"PatientsName": "Typo^Ed"})


def test_an_unknown_modality_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="CT"):
        synth.generate_study(1, "PET")


# --- radiation therapy references -----------------------------------------------------------


def test_rt_structure_set_and_plan_reference_the_planning_ct():
    study = synth.generate_study(6, "RT", images_per_series=4, rows=16, columns=16)
    ct = [ds for ds in study if ds.Modality == "CT"]
    (structures,) = [ds for ds in study if ds.Modality == "RTSTRUCT"]
    (plan,) = [ds for ds in study if ds.Modality == "RTPLAN"]
    ct_uids = {ds.SOPInstanceUID for ds in ct}
    frame = ct[0].FrameOfReferenceUID

    (ref_frame,) = structures.ReferencedFrameOfReferenceSequence
    assert ref_frame.FrameOfReferenceUID == frame
    (ref_study,) = ref_frame.RTReferencedStudySequence
    assert ref_study.ReferencedSOPInstanceUID == ct[0].StudyInstanceUID
    (ref_series,) = ref_study.RTReferencedSeriesSequence
    assert ref_series.SeriesInstanceUID == ct[0].SeriesInstanceUID
    assert {item.ReferencedSOPInstanceUID for item in ref_series.ContourImageSequence} == ct_uids

    z_by_uid = {ds.SOPInstanceUID: float(ds.ImagePositionPatient[2]) for ds in ct}
    roi_numbers = {roi.ROINumber for roi in structures.StructureSetROISequence}
    assert {roi.ReferencedFrameOfReferenceUID for roi in structures.StructureSetROISequence} == {frame}
    for roi in structures.ROIContourSequence:
        assert roi.ReferencedROINumber in roi_numbers
        assert len(roi.ContourSequence) >= 1
        for contour in roi.ContourSequence:
            (image,) = contour.ContourImageSequence
            points = np.array(contour.ContourData, dtype=float).reshape(-1, 3)
            assert len(points) == contour.NumberOfContourPoints
            assert np.allclose(points[:, 2], z_by_uid[image.ReferencedSOPInstanceUID])

    assert plan.FrameOfReferenceUID == frame
    assert plan.ReferencedStructureSetSequence[0].ReferencedSOPInstanceUID == structures.SOPInstanceUID
    beams = {beam.BeamNumber for beam in plan.BeamSequence}
    referenced = {ref.ReferencedBeamNumber for ref in plan.FractionGroupSequence[0].ReferencedBeamSequence}
    assert beams == referenced and plan.FractionGroupSequence[0].NumberOfBeams == len(beams)

    assert [ds.Modality for ds in synth.generate_study(6, "RTSTRUCT", rows=16, columns=16)].count("RTPLAN") == 0


# --- files ---------------------------------------------------------------------------------


def test_write_study_writes_readable_part10_files_named_by_sop_instance_uid(tmp_path):
    study = synth.generate_study(12, "DX", images_per_series=2, rows=16, columns=16)
    paths = synth.write_study(study, tmp_path / "out")
    assert [p.name for p in paths] == [f"{ds.SOPInstanceUID}.dcm" for ds in study]
    for path, ds in zip(paths, study):
        raw = path.read_bytes()
        assert raw[128:132] == b"DICM"
        back = dcmread(path)
        assert back.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
        assert back.PixelData == ds.PixelData
