"""The attributes the index keeps, read from a received dataset's header only.

Parsing stops before group 0x0021, so pixel data is never read, let alone decoded.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from io import BytesIO

from pydicom.dataset import Dataset
from pydicom.filereader import read_dataset
from pydicom.uid import UID

_LAST_TAG = 0x0020FFFF


def _stop(tag, vr, length) -> bool:
    return tag > _LAST_TAG


@dataclass(frozen=True)
class InstanceAttributes:
    sop_class_uid: str
    sop_instance_uid: str
    study_uid: str
    series_uid: str
    patient_id: str = ""
    patient_name: str = ""
    birth_date: str = ""
    sex: str = ""
    study_id: str = ""
    study_date: str = ""
    study_time: str = ""
    accession_number: str = ""
    study_description: str = ""
    referring_physician: str = ""
    modality: str = ""
    series_number: str = ""
    series_description: str = ""
    body_part: str = ""
    instance_number: str = ""

    @classmethod
    def from_dataset(cls, ds: Dataset) -> "InstanceAttributes":
        def v(keyword: str) -> str:
            value = ds.get(keyword, "")
            return "" if value is None else str(value).strip()

        return cls(
            sop_class_uid=v("SOPClassUID"), sop_instance_uid=v("SOPInstanceUID"),
            study_uid=v("StudyInstanceUID"), series_uid=v("SeriesInstanceUID"),
            patient_id=v("PatientID"), patient_name=v("PatientName"),
            birth_date=v("PatientBirthDate"), sex=v("PatientSex"), study_id=v("StudyID"),
            study_date=v("StudyDate"), study_time=v("StudyTime"),
            accession_number=v("AccessionNumber"), study_description=v("StudyDescription"),
            referring_physician=v("ReferringPhysicianName"), modality=v("Modality"),
            series_number=v("SeriesNumber"), series_description=v("SeriesDescription"),
            body_part=v("BodyPartExamined"), instance_number=v("InstanceNumber"),
        )


def read_header(fp: BytesIO, transfer_syntax: str) -> Dataset:
    """Parse groups 0008-0020 of an encoded dataset (no file meta) in `transfer_syntax`."""
    ts = UID(transfer_syntax)
    if ts.is_deflated:
        fp = BytesIO(zlib.decompress(fp.getvalue(), -zlib.MAX_WBITS))
    fp.seek(0)
    ds = read_dataset(fp, ts.is_implicit_VR, ts.is_little_endian, stop_when=_stop)
    ds.set_original_encoding(ts.is_implicit_VR, ts.is_little_endian, None)
    if not len(ds):
        raise ValueError("no data elements")
    for tag in ds.keys():  # pydicom reads a truncated value without complaint
        raw = ds.get_item(tag)
        length = getattr(raw, "length", None)
        value = getattr(raw, "value", None)
        if isinstance(value, bytes) and length not in (None, 0xFFFFFFFF) and len(value) != length:
            raise ValueError(f"element {tag} is truncated ({len(value)} of {length} bytes)")
    return ds
