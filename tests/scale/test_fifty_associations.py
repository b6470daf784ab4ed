"""Fifty partitions, fifty modalities at once: each opens its association at the same moment as all the
others, stores its own synthetic studies and queries them back at STUDY level. Every store succeeds and
every partition finds exactly its own studies, none of anyone else's."""
from __future__ import annotations

import threading

import pytest
from pynetdicom import AE
from pynetdicom.sop_class import CTImageStorage, StudyRootQueryRetrieveInformationModelFind
from pydicom.dataset import Dataset

from sandbox.archive import status as st
from sandbox.archive.outgoing import NODELAY_HANDLERS
from tests.sandbox.conftest import make_sandbox, small_study

pytestmark = pytest.mark.slow

PARTITIONS = 50
STUDIES_EACH = 2
FIND = StudyRootQueryRetrieveInformationModelFind


def partition_studies(n: int, code: str) -> list[list[Dataset]]:
    """Distinct studies (own seeds, so own UIDs) whose patient names carry the partition's code."""
    return [small_study(1000 * n + k, "CT", rows=16, columns=16, images_per_series=2,
                        patient={"PatientName": f"{code}^TRAINEE{k}", "PatientID": f"{code}-{k}"})
            for k in range(STUDIES_EACH)]


def modality(sb, code: str, studies: list[list[Dataset]], start: threading.Barrier, stored: threading.Barrier,
             results: dict) -> None:
    """One partition's modality: associate with everyone else, store, wait for all stores, find."""
    ae = AE(f"{code}_CT")  # a partition's own devices are always known to it
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 20
    ae.add_requested_context(CTImageStorage)
    ae.add_requested_context(FIND)
    try:
        start.wait()
        assoc = ae.associate("127.0.0.1", sb.dicom_port, ae_title=f"{code}_PACS", evt_handlers=NODELAY_HANDLERS)
        if not assoc.is_established:
            stored.abort()
            results[code] = {"error": "association not established"}
            return
        try:
            statuses = [getattr(assoc.send_c_store(ds), "Status", None) for study in studies for ds in study]
            stored.wait()
            query = Dataset()
            query.QueryRetrieveLevel = "STUDY"
            query.StudyInstanceUID = ""
            query.PatientName = ""
            matches, final = [], None
            for rsp, identifier in assoc.send_c_find(query, FIND):
                if rsp.Status in (st.PENDING, st.PENDING_OPTIONAL_KEYS_UNSUPPORTED):
                    matches.append((identifier.StudyInstanceUID, str(identifier.PatientName)))
                else:
                    final = rsp.Status
        finally:
            assoc.release()
        results[code] = {"stores": statuses, "find": final, "matches": matches}
    except threading.BrokenBarrierError:
        results.setdefault(code, {"error": "another modality failed first"})
    except Exception as exc:  # reported by the test
        stored.abort()
        results[code] = {"error": repr(exc)}


def test_fifty_partitions_associate_store_and_find_at_once(tmp_path):
    with make_sandbox(tmp_path, max_associations=PARTITIONS + 10, acse_timeout=20, dimse_timeout=20,
                      network_timeout=20) as sb:
        codes = [f"F{n:02d}" for n in range(PARTITIONS)]
        for code in codes:
            sb.create_partition(code)
        studies = {code: partition_studies(n, code) for n, code in enumerate(codes)}
        start, stored, results = threading.Barrier(PARTITIONS, timeout=30), threading.Barrier(PARTITIONS, timeout=60), {}
        threads = [threading.Thread(target=modality, args=(sb, code, studies[code], start, stored, results))
                   for code in codes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

        assert sorted(results) == codes
        for code in codes:
            result = results[code]
            assert "error" not in result, f"{code}: {result['error']}"
            assert result["stores"] == [st.SUCCESS] * (STUDIES_EACH * 2), code
            assert result["find"] == st.SUCCESS, code
            expected = {study[0].StudyInstanceUID for study in studies[code]}
            found = [uid for uid, _ in result["matches"]]
            assert sorted(found) == sorted(expected), f"{code} found {found}"  # its own, each once, no other's
            assert all(name.startswith(f"{code}^") for _, name in result["matches"]), code
