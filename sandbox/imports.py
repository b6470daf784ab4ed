"""Putting studies into a store without the network: synthetic generation and folder import.

Both go through the same ingest path as C-STORE (file first, then index), with
routing off: these set a lab up, they are not receptions.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset

from sandbox import journal, partitions
from sandbox.archive import status as st
from sandbox.archive.attributes import InstanceAttributes
from sandbox.archive.ingest import Target, store_instance


def _target(sb, code: str, store: str, source: str) -> Target:
    state = partitions.load_state(sb.db, code)
    if state is None:
        raise partitions.PartitionNotFound(f"no partition {code!r}")
    return Target(state.id, code, store, True, calling_ae=source, association="", route=False)


def encode(ds: Dataset) -> bytes:
    """A dataset as a DICOM file (PS3.10), in its file meta's transfer syntax."""
    fp = BytesIO()
    pydicom.dcmwrite(fp, ds, enforce_file_format=True)
    return fp.getvalue()


def store_dataset(sb, target: Target, ds: Dataset) -> int:
    attrs = InstanceAttributes.from_dataset(ds)
    data = encode(ds)
    return store_instance(sb.db, sb.files, target, attrs, [data],
                          str(ds.file_meta.TransferSyntaxUID))


def generate(sb, code: str, *, studies: int, seed: int, modality: str, series_count: int,
             images_per_series: int, store: str, patient: dict | None = None,
             **options) -> list[str]:
    from sandbox import synth

    if not 1 <= studies <= 1000:
        raise ValueError("studies must be between 1 and 1000")
    target = _target(sb, code, store, f"{code}_CT")
    uids = []
    for n in range(studies):
        datasets = synth.generate_study(
            seed + n, modality, patient=patient, series_count=series_count,
            images_per_series=images_per_series, **options)
        for ds in datasets:
            status_code = store_dataset(sb, target, ds)
            if status_code != st.SUCCESS:
                raise RuntimeError(f"storing a generated instance failed: {st.name(status_code)}")
        uids.append(str(datasets[0].StudyInstanceUID))
    journal.record(sb.db, code, "scenario.generated",
                   f"{studies} synthetic {modality} stud{'y' if studies == 1 else 'ies'} "
                   f"generated into {store}", study_uids=uids, seed=seed)
    return uids


def import_folder(sb, code: str, folder: Path, *, store: str) -> dict:
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a directory")
    target = _target(sb, code, store, "IMPORT")
    imported, skipped = 0, []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        try:
            ds = pydicom.dcmread(path, force=True)
            if "SOPInstanceUID" not in ds or "SOPClassUID" not in ds:
                raise ValueError("no SOP Class/Instance UID")
            if getattr(ds, "file_meta", None) is None:
                ds.file_meta = pydicom.dataset.FileMetaDataset()
            if "TransferSyntaxUID" not in ds.file_meta:  # a bare dataset (no Part 10 header)
                ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
            if not ds.get("StudyInstanceUID") or not ds.get("SeriesInstanceUID"):
                raise ValueError("no Study or Series Instance UID")
            status_code = store_dataset(sb, target, ds)
            if status_code != st.SUCCESS:
                raise ValueError(st.name(status_code))
            imported += 1
        except Exception as exc:  # noqa: BLE001 - one bad file does not stop an import
            skipped.append({"path": str(path), "reason": f"{type(exc).__name__}: {exc}"[:200]})
    journal.record(sb.db, code, "scenario.imported",
                   f"imported {imported} file(s) from {folder.name}, skipped {len(skipped)}",
                   skipped=skipped[:50])
    return {"imported": imported, "skipped": skipped}
