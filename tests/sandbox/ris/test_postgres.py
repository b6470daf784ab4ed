"""The RIS on PostgreSQL: HL7 over MLLP, concurrent connections, worklist, MPPS, seam, queue.

Uses the server named by ACADEMY_TEST_POSTGRES_URL, in a temporary database created for
this module and dropped after (the archive's pattern, tests/sandbox/test_postgres.py).
"""

from __future__ import annotations

import threading

import pytest

from sandbox.archive import status as st
from sandbox.ris import samples
from sandbox.ris.mllp import MllpClient
from tests.conftest import NEEDS_POSTGRES, POSTGRES_URL
from tests.sandbox.conftest import postgres_sandbox
from tests.sandbox.ris.conftest import ack_of, mwl_find

pytestmark = NEEDS_POSTGRES


@pytest.fixture(scope="module")
def pg(tmp_path_factory):
    with postgres_sandbox(tmp_path_factory.mktemp("pg"), POSTGRES_URL, "PGR", hl7_port=0) as sb:
        yield sb


def test_orders_over_mllp_from_many_connections_on_postgres(pg):
    errors = []

    def worker(n):
        try:
            with MllpClient(*pg.hl7_address) as c:
                p = samples.patient(9000 + n)
                assert ack_of(c.send(samples.adt("PGR", "A04", p)))[0] == "AA"
                assert ack_of(c.send(samples.orm("PGR", p, placer=f"PG{n}",
                                                 start="20250808080000")))[0] == "AA"
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    orders = pg.orders("PGR")
    assert len(orders) == 6 and len({o.accession_number for o in orders}) == 6
    status, matches = mwl_find(pg, "PGR", {"AccessionNumber": ""},
                               {"ScheduledProcedureStepStartDate": "20250801-20250831"})
    assert status == st.SUCCESS and len(matches) == 6


def test_scheduled_workflow_seam_and_reset_on_postgres(pg):
    p = samples.patient(9100)
    pg.send_hl7("PGR", samples.adt("PGR", "A04", p))
    pg.send_hl7("PGR", samples.orm("PGR", p, placer="PGWF"))
    result = pg.modality("PGR").perform(accession_number=pg.orders(
        "PGR", status="SC")[-1].accession_number)
    assert result.ok, result.steps
    assert pg.orders("PGR", accession_number=result.accession_number)[0].status == "CM"
    assert pg.send_hl7("PGR", samples.adt("PGR", "A08", {**p, "name": "Pg^Renamed"})).code == "AA"
    assert pg.studies("PGR", study_uid=result.study_uid)[0].patient_name == "Pg^Renamed"
    assert pg.send_hl7("PGR", samples.oru("PGR", p, placer="PGWF")).code == "AA"
    assert pg.reports("PGR")[0].attached
    # a NUL byte (PostgreSQL refuses it in text) is still answered, logged and journaled
    before = len(pg.hl7_messages("PGR"))
    result = pg.send_hl7("PGR", samples.adt("PGR", "A04", p).replace("ACADEMY_HIS", "A\x00B"))
    assert result.code in ("AA", "AE", "AR") and len(pg.hl7_messages("PGR")) == before + 1
    pg.reset_partition("PGR")
    assert pg.orders("PGR") == [] and pg.hl7_messages("PGR") == []
