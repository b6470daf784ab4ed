"""Each message type and trigger, each ACK path, and the bad input of the issue."""

from __future__ import annotations

import pytest

from sandbox.ris import samples
from tests.sandbox.ris.conftest import ack_of, schedule


def _ok(result):
    assert result.code == "AA", result.error
    return result


def _error(result, location: str, ack: str = "AE", words: str = ""):
    assert result.code == ack, (result.code, result.error)
    assert result.error["location"] == location, result.error
    assert words.lower() in result.error["reason"].lower(), result.error["reason"]
    code, _, err = ack_of(result.ack)
    assert code == ack and (err["text"] or err["err1"])
    return result


# -- ADT --------------------------------------------------------------------------------

@pytest.mark.parametrize("trigger", ["A01", "A04", "A05"])
def test_admit_register_and_preadmit_create_the_patient_and_visit(sandbox, rcode, person,
                                                                  trigger):
    _ok(sandbox.send_hl7(rcode, samples.adt(rcode, trigger, person, visit=f"V{trigger}")))
    [p] = sandbox.ris_patients(rcode)
    assert (p.patient_id, p.name, p.birth_date, p.sex) == (
        person["patient_id"], person["name"], person["birth_date"], person["sex"])
    assert p.visits[0]["visit_number"] == f"V{trigger}" and p.visits[0]["status"] == "active"


def test_v231_and_v251_are_both_understood(sandbox, rcode, person):
    _ok(sandbox.send_hl7(rcode, samples.adt(rcode, "A04", person, version="2.3.1")))
    result = _ok(sandbox.send_hl7(rcode, samples.adt(rcode, "A08", person, version="2.5.1")))
    assert "ACK^A08^ACK" in result.ack


def test_update_changes_demographics_and_needs_a_known_patient(sandbox, rcode, person):
    _ok(sandbox.send_hl7(rcode, samples.adt(rcode, "A04", person)))
    _ok(sandbox.send_hl7(rcode, samples.adt(rcode, "A08", {**person, "name": "NEWNAME^ANN"})))
    assert sandbox.ris_patients(rcode)[0].name == "NEWNAME^ANN"
    stranger = {**person, "patient_id": "NOSUCH1"}
    _error(sandbox.send_hl7(rcode, samples.adt(rcode, "A08", stranger)), "PID-3",
           words="not registered")


def test_a_missing_patient_id_is_an_error_naming_pid3(sandbox, rcode, person):
    text = samples.adt(rcode, "A04", person).replace(
        f"{person['patient_id']}^^^ACADEMY_GH^MR", "")
    result = _error(sandbox.send_hl7(rcode, text), "PID-3", words="required")
    assert result.error["code"] == "101"
    msg = sandbox.hl7_messages(rcode)[-1]
    assert msg.ack_code == "AE" and msg.raw[msg.highlight[0]:msg.highlight[1]] == ""
    assert msg.highlight is not None


def test_cancel_visit_cancels_it_and_its_scheduled_orders(sandbox, rcode, person):
    schedule(sandbox, rcode, person, "PLV1", visit="VIS1")
    _ok(sandbox.send_hl7(rcode, samples.adt(rcode, "A11", person, visit="VIS1")))
    assert sandbox.ris_patients(rcode)[0].visits[0]["status"] == "cancelled"
    assert sandbox.orders(rcode)[0].status == "CA"
    _error(sandbox.send_hl7(rcode, samples.adt(rcode, "A11", person, visit="NOVISIT")), "PV1-19",
           words="not known")


def test_an_order_for_a_cancelled_visit_is_refused(sandbox, rcode, person):
    _ok(sandbox.send_hl7(rcode, samples.adt(rcode, "A04", person, visit="VC1")))
    _ok(sandbox.send_hl7(rcode, samples.adt(rcode, "A11", person, visit="VC1")))
    _error(sandbox.send_hl7(rcode, samples.orm(rcode, person, placer="PLC", visit="VC1")),
           "PV1-19", words="cancelled")
    assert sandbox.orders(rcode) == []


def test_merge_moves_orders_to_the_survivor(sandbox, rcode, person):
    prior = {**person, "patient_id": "PRIOR1"}
    schedule(sandbox, rcode, prior, "PLM1")
    _ok(sandbox.send_hl7(rcode, samples.adt(rcode, "A04", person)))
    _ok(sandbox.send_hl7(rcode, samples.adt(rcode, "A40", person, prior_patient_id="PRIOR1")))
    assert sandbox.orders(rcode)[0].patient_id == person["patient_id"]
    merged = {p.patient_id: p.merged_into for p in sandbox.ris_patients(rcode)}
    assert merged == {"PRIOR1": person["patient_id"], person["patient_id"]: ""}
    # the merged identifier can no longer be used
    _error(sandbox.send_hl7(rcode, samples.adt(rcode, "A08", prior)), "PID-3", words="merged")


def test_merge_of_a_patient_into_itself_or_of_an_unknown_patient_is_refused(sandbox, rcode,
                                                                            person):
    _ok(sandbox.send_hl7(rcode, samples.adt(rcode, "A04", person)))
    _error(sandbox.send_hl7(rcode, samples.adt(rcode, "A40", person,
                                               prior_patient_id=person["patient_id"])),
           "MRG-1", words="into itself")
    _error(sandbox.send_hl7(rcode, samples.adt(rcode, "A40", person, prior_patient_id="GHOST")),
           "MRG-1", words="not registered")


# -- orders ----------------------------------------------------------------------------

def test_a_new_order_gets_identifiers_and_is_scheduled(sandbox, rcode, person):
    order = schedule(sandbox, rcode, person, "PL100", start="20250301093000")
    assert order.status == "SC" and order.accession_number == f"{rcode}A{order.id:07d}"[:16]
    assert order.filler_number and order.sps_id and order.requested_procedure_id
    assert order.modality == "CT" and order.station_ae == f"{rcode}_CT"
    assert (order.sps_start_date, order.sps_start_time) == ("20250301", "093000")
    assert order.study_uid.count(".") > 3 and order.referring_physician == "Mbeki^Tomas"
    assert any(e.kind == "seam.procedure-scheduled" for e in sandbox.journal(rcode))


def test_obr18_gives_the_accession_and_obr24_the_modality(sandbox, rcode, person):
    order = schedule(sandbox, rcode, person, "PL101", accession="ACC101", modality="MR")
    assert (order.accession_number, order.modality, order.station_ae) == (
        "ACC101", "MR", f"{rcode}_MR")


def test_omi_takes_accession_study_uid_modality_and_station_from_ipc(sandbox, rcode, person):
    _ok(sandbox.send_hl7(rcode, samples.omi(rcode, person, placer="PL200", accession="ACC200",
                                            study_uid="1.2.3.200", modality="MR",
                                            station_ae="MRI_3T", start="20250302100000")))
    [o] = sandbox.orders(rcode)
    assert (o.accession_number, o.study_uid, o.modality, o.station_ae) == (
        "ACC200", "1.2.3.200", "MR", "MRI_3T")
    assert o.sps_id == "SPSPL200" and o.sps_start_date == "20250302"


def test_the_procedure_table_gives_the_modality_when_the_message_does_not(sandbox, rcode,
                                                                          person):
    sandbox.set_procedure(rcode, "USNECK", modality="US", description="US NECK")
    order = schedule(sandbox, rcode, person, "PL102", procedure="USNECK")
    assert order.modality == "US"
    result = sandbox.send_hl7(rcode, samples.orm(rcode, person, placer="PL103",
                                                 procedure="ZZUNKNOWN"))
    _error(result, "OBR-4", words="no modality")


def test_order_lifecycle_through_order_control(sandbox, rcode, person):
    schedule(sandbox, rcode, person, "PL300")
    _ok(sandbox.send_hl7(rcode, samples.orm(rcode, person, placer="PL300", control="XO",
                                            procedure="MRBRAIN", description="MRI BRAIN",
                                            start="20250405080000")))
    [o] = sandbox.orders(rcode)
    assert (o.procedure_code, o.modality, o.sps_start_date) == ("MRBRAIN", "MR", "20250405")
    _ok(sandbox.send_hl7(rcode, samples.orm(rcode, person, placer="PL300", control="SC",
                                            status="IP")))
    assert sandbox.orders(rcode)[0].status == "IP"
    # an order in progress cannot be cancelled, only discontinued
    _error(sandbox.send_hl7(rcode, samples.orm(rcode, person, placer="PL300", control="CA")),
           "ORC-1", words="discontinue")
    _ok(sandbox.send_hl7(rcode, samples.orm(rcode, person, placer="PL300", control="DC")))
    assert sandbox.orders(rcode)[0].status == "DC"
    _error(sandbox.send_hl7(rcode, samples.orm(rcode, person, placer="PL300", control="SC",
                                               status="CM")), "ORC-5", words="cannot become")


def test_cancel_and_sc_complete(sandbox, rcode, person):
    schedule(sandbox, rcode, person, "PL301")
    _ok(sandbox.send_hl7(rcode, samples.orm(rcode, person, placer="PL301", control="CA")))
    assert sandbox.orders(rcode)[0].status == "CA"
    schedule(sandbox, rcode, person, "PL302")
    _ok(sandbox.send_hl7(rcode, samples.orm(rcode, person, placer="PL302", control="SC",
                                            status="CM")))
    assert [o.status for o in sandbox.orders(rcode)] == ["CA", "CM"]


@pytest.mark.parametrize("change, location, words", [
    (lambda t: t.replace("ORC|NW|", "ORC||"), "ORC-1", "required"),
    (lambda t: t.replace("ORC|NW|", "ORC|ZZ|"), "ORC-1", "not supported"),
    (lambda t: t.replace("CTHEAD^CT HEAD^L", ""), "OBR-4", "required"),
    (lambda t: t.replace("\rOBR|", "\rZZZ|"), "OBR", "no OBR"),
    (lambda t: t.replace("\rORC|", "\rZZ1|"), "OBR", "before any ORC"),
])
def test_required_order_fields_missing_are_errors(sandbox, rcode, person, change, location,
                                                   words):
    _error(sandbox.send_hl7(rcode, change(samples.orm(rcode, person, placer="PL400"))),
           location, words=words)
    assert sandbox.orders(rcode) == []


def test_a_duplicate_placer_number_and_an_unknown_order_are_errors(sandbox, rcode, person):
    schedule(sandbox, rcode, person, "PL500")
    _error(sandbox.send_hl7(rcode, samples.orm(rcode, person, placer="PL500")), "ORC-2",
           words="already exists")
    _error(sandbox.send_hl7(rcode, samples.orm(rcode, person, placer="PL999", control="CA")),
           "ORC-2", words="no order")


def test_a_bad_date_is_a_data_type_error(sandbox, rcode, person):
    result = sandbox.send_hl7(rcode, samples.orm(rcode, person, placer="PL501",
                                                 start="2025-03-01"))
    assert result.code == "AE" and result.error["code"] == "102"
    assert result.error["location"] == "ORC-7.4"


@pytest.mark.parametrize("msg_type, code, location", [
    ("SIU^S12", "200", "MSH-9.1"), ("ADT^A99", "201", "MSH-9.2"), ("ORM^O02", "201", "MSH-9.2"),
])
def test_unknown_message_type_or_trigger_is_rejected(sandbox, rcode, person, msg_type, code,
                                                     location):
    text = samples.adt(rcode, "A04", person).replace("ADT^A04^ADT_A01", msg_type)
    result = sandbox.send_hl7(rcode, text)
    assert (result.code, result.error["code"], result.error["location"]) == ("AR", code, location)


def test_a_console_cannot_send_to_another_partition(sandbox, rcode, person):
    result = sandbox.send_hl7(rcode, samples.adt("OTHER1", "A04", person))
    assert result.code == "AR" and result.error["location"] == "MSH-6"


# -- reports ---------------------------------------------------------------------------

def test_a_report_is_stored_with_its_order(sandbox, rcode, person):
    order = schedule(sandbox, rcode, person, "PL600")
    _ok(sandbox.send_hl7(rcode, samples.oru(rcode, person, filler=order.filler_number,
                                            text="Line one | with bar\nLine two")))
    [r] = sandbox.reports(rcode)
    assert r.placer_number == "PL600" and r.text == "Line one | with bar\nLine two"
    assert r.result_status == "F" and r.attached is False  # the study is not stored yet
    _error(sandbox.send_hl7(rcode, samples.oru(rcode, person, placer="NOPE")), "OBR-2",
           words="no order")


def test_every_message_is_journaled_with_raw_text_and_ack(sandbox, rcode, person):
    sandbox.send_hl7(rcode, samples.adt(rcode, "A08", person, control_id="J1"))
    [event] = sandbox.journal(rcode, kind="hl7.received")
    assert event.details["raw"].startswith("MSH|") and event.details["ack"] == "AE"
    assert event.details["control_id"] == "J1" and event.details["error"]["location"] == "PID-3"
    assert event.details["ack_raw"].startswith("MSH|")


@pytest.mark.parametrize("change, location, code", [
    (lambda t: t.replace("MSH|^~\\&|", "MSH|^~&\\|", 1), "MSH-2", "102"),
    (lambda t: t.replace("|P|2.5.1", "|P|2.7"), "MSH-12", "203"),
    (lambda t: t.replace("|P|2.5.1", "|Q|2.5.1"), "MSH-11", "202"),
    (lambda t: "EVN|A04\r" + t, "MSH", "100"),
])
def test_a_malformed_msh_is_rejected_and_logged(sandbox, rcode, person, change, location, code):
    result = sandbox.send_hl7(rcode, change(samples.adt(rcode, "A04", person)))
    assert (result.code, result.error["location"], result.error["code"]) == ("AR", location, code)
    assert sandbox.ris_patients(rcode) == []


def test_an_hl7_v24_message_is_understood_and_answered_in_v24(sandbox, rcode, person):
    result = _ok(sandbox.send_hl7(rcode, samples.adt(rcode, "A04", person, version="2.4")))
    assert "|ACK^A04|" in result.ack and "|2.4" in result.ack
