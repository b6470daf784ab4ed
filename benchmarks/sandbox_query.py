"""Query benchmark: median STUDY-level C-FIND latency at 10,000 and 100,000 instances.

    .venv/bin/python benchmarks/sandbox_query.py [--database-url URL] [--sizes 10000 100000]

The index is loaded directly (bulk inserts: 25 instances per series, one series
per study, two studies per patient), then one pynetdicom SCU keeps ONE
association open (TCP_NODELAY on) and times C-FIND requests until the final
response: by PatientID, by wildcard PatientName, and universal (all studies).
Prints figures; asserts nothing. dcmtk ships no ready-made Q/R archive to load
100,000 instances into quickly (dcmqrscp indexes files), and Orthanc is not
installed here, so the reference figures are the issue's targets.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pydicom.dataset import Dataset  # noqa: E402
from pynetdicom import AE  # noqa: E402
from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind as FIND  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from sandbox import Sandbox, SandboxConfig  # noqa: E402
from sandbox.archive.outgoing import NODELAY_HANDLERS  # noqa: E402
from sandbox.models import Instance, Partition, Patient, Series, Study  # noqa: E402

PER_SERIES, STUDIES_PER_PATIENT = 25, 2


def load(sb: Sandbox, code: str, instances: int) -> None:
    studies = instances // PER_SERIES
    patients = studies // STUDIES_PER_PATIENT
    with sb.db.read() as conn:
        pid = conn.execute(select(Partition.id).where(Partition.code == code)).scalar_one()
    scope = {"partition_id": pid, "store": "archive"}
    with sb.db.write() as conn:
        conn.execute(insert(Patient), [
            {**scope, "patient_id": f"P{p:07d}", "patient_name": f"NAME{p:06d}^TEST",
             "birth_date": "19700101", "sex": "O"} for p in range(patients)])
        pat_ids = conn.execute(select(Patient.id).where(Patient.partition_id == pid)
                               .order_by(Patient.id)).scalars().all()
        conn.execute(insert(Study), [
            {**scope, "patient_pk": pat_ids[s // STUDIES_PER_PATIENT],
             "study_uid": f"1.2.826.0.1.3680043.10.1517.9.{s}", "study_id": str(s),
             "study_date": f"20{10 + s % 15:02d}0{1 + s % 9}1{s % 9}", "study_time": "101010",
             "accession_number": f"A{s:08d}", "study_description": "CT CHEST",
             "referring_physician": "", "modalities": "CT", "retention_flagged": False}
            for s in range(studies)])
        study_ids = conn.execute(select(Study.id).where(Study.partition_id == pid)
                                 .order_by(Study.id)).scalars().all()
        conn.execute(insert(Series), [
            {**scope, "study_pk": study_ids[s], "series_uid": f"1.2.826.0.1.3680043.10.1517.8.{s}",
             "modality": "CT", "series_number": "1", "series_description": "AXIAL",
             "body_part": "CHEST"} for s in range(studies)])
        series_ids = conn.execute(select(Series.id).where(Series.partition_id == pid)
                                  .order_by(Series.id)).scalars().all()
        conn.execute(insert(Instance), [
            {**scope, "series_pk": series_ids[i // PER_SERIES],
             "sop_instance_uid": f"1.2.826.0.1.3680043.10.1517.7.{i}",
             "sop_class_uid": "1.2.840.10008.5.1.4.1.1.2", "instance_number": str(i % PER_SERIES),
             "transfer_syntax": "1.2.840.10008.1.2.1", "path": f"{code}/x/{i}.dcm", "size": 1}
            for i in range(studies * PER_SERIES)])


def timed(assoc, identifier: Dataset, repeat: int) -> tuple[float, int]:
    times, matches = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        matches = sum(1 for rsp, ds in assoc.send_c_find(identifier, FIND) if ds is not None)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), matches


def query(**keys) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = "STUDY"
    for k, v in {"PatientID": "", "PatientName": "", "StudyInstanceUID": "", "StudyDate": "",
                 "AccessionNumber": "", **keys}.items():
        setattr(ds, k, v)
    return ds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sandbox-query-"))
    url = args.database_url or f"sqlite:///{tmp / 'sandbox.db'}"
    sb = Sandbox(SandboxConfig(database_url=url, data_dir=tmp / "files", dicom_port=0,
                               hl7_port=0))
    sb.start()
    print(f"backend: {url.split(':')[0]}; one association, TCP_NODELAY on; median ms")
    print(f"{'instances':>10} {'studies':>8} {'by PatientID':>14} {'wildcard name':>15} "
          f"{'universal':>12}")
    try:
        for n, size in enumerate(args.sizes):
            code = f"QB{n}"
            if code in [p.code for p in sb.list_partitions()]:
                sb.delete_partition(code)
            sb.create_partition(code, accept_any_calling_ae=True)
            started = time.perf_counter()
            load(sb, code, size)
            load_s = time.perf_counter() - started
            ae = AE("BENCH")
            ae.add_requested_context(FIND)
            assoc = ae.associate("127.0.0.1", sb.dicom_port, ae_title=f"{code}_PACS",
                                 evt_handlers=NODELAY_HANDLERS)
            if not assoc.is_established:
                events = [e.summary for e in sb.journal(code)[-5:]]
                raise SystemExit(f"no association with {code}_PACS: {events}")
            studies = size // PER_SERIES
            by_id = timed(assoc, query(PatientID=f"P{(studies // 4):07d}"), 200)
            wildcard = timed(assoc, query(PatientName=f"NAME{(studies // 40):05d}*"), 100)
            universal = timed(assoc, query(), 5)
            assoc.release()
            print(f"{size:>10} {studies:>8} {by_id[0]:>9.2f} ({by_id[1]}) "
                  f"{wildcard[0]:>9.2f} ({wildcard[1]}) {universal[0]:>8.1f} ({universal[1]})"
                  f"   [loaded in {load_s:.1f} s]", flush=True)
        setup(sb)
    finally:
        sb.close()
        shutil.rmtree(tmp, ignore_errors=True)


def setup(sb: Sandbox) -> None:
    """Association set-up + C-ECHO + release, as each console click does."""
    from pynetdicom.presentation import AllStoragePresentationContexts
    from pynetdicom.sop_class import Verification

    sb.create_partition("SETUP", accept_any_calling_ae=True)
    for label, contexts in (("1 context (echo)", [Verification]),
                            ("120 storage contexts x 3 syntaxes",
                             [c.abstract_syntax for c in AllStoragePresentationContexts[:120]])):
        ae = AE("BENCH")
        for c in contexts:
            ae.add_requested_context(c)
        if Verification not in contexts:
            ae.requested_contexts[-1].abstract_syntax = Verification
        times = []
        for _ in range(30):
            started = time.perf_counter()
            assoc = ae.associate("127.0.0.1", sb.dicom_port, ae_title="SETUP_PACS",
                                 evt_handlers=NODELAY_HANDLERS)
            assoc.send_c_echo()
            assoc.release()
            times.append((time.perf_counter() - started) * 1000)
        print(f"association set-up + echo + release, {label}: "
              f"{statistics.median(times):.1f} ms median")


if __name__ == "__main__":
    main()
