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
        """Read the fields; raw string values are decoded directly (this runs per image),
        falling back to pydicom's conversion for character sets other than the
        default, Latin-1 and UTF-8."""
        encoding = _encoding(ds)
        values = {}
        for tag, name in _FIELDS:
            if tag not in ds:
                continue
            raw = ds.get_item(tag)
            value = getattr(raw, "value", None)
            if encoding and isinstance(value, bytes):
                values[name] = value.decode(encoding, "replace").strip(" \x00")
            else:
                value = ds[tag].value
                values[name] = "" if value is None else str(value).strip()
        return cls(**{"sop_class_uid": "", "sop_instance_uid": "", "study_uid": "",
                      "series_uid": "", **values})


def _encoding(ds: Dataset) -> str | None:
    """Python codec for the dataset's Specific Character Set, if a simple one (PS3.3 C.12.1.1.2)."""
    if 0x00080005 not in ds:
        return "latin-1"  # default repertoire (ASCII) decodes the same
    raw = getattr(ds.get_item(0x00080005), "value", None)
    if not isinstance(raw, bytes):
        return None
    charset = raw.decode("ascii", "replace").strip(" \x00")
    return {"": "latin-1", "ISO_IR 6": "latin-1", "ISO_IR 100": "latin-1",
            "ISO_IR 192": "utf-8"}.get(charset)


_FIELDS = (
    (0x00080016, "sop_class_uid"), (0x00080018, "sop_instance_uid"),
    (0x0020000D, "study_uid"), (0x0020000E, "series_uid"), (0x00100020, "patient_id"),
    (0x00100010, "patient_name"), (0x00100030, "birth_date"), (0x00100040, "sex"),
    (0x00200010, "study_id"), (0x00080020, "study_date"), (0x00080030, "study_time"),
    (0x00080050, "accession_number"), (0x00081030, "study_description"),
    (0x00080090, "referring_physician"), (0x00080060, "modality"),
    (0x00200011, "series_number"), (0x0008103E, "series_description"),
    (0x00180015, "body_part"), (0x00200013, "instance_number"),
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
