"""The browser consoles drive real traffic; bad input gets a message on the page, not a traceback."""
from __future__ import annotations

import io
import re

import pydicom
from pydicom.data import get_testdata_file

from tests.conftest import csrf_from
from tests.labs.test_runs import run_row, start_run


def console_post(client, path, action, **fields):
    page = client.get(path).get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_from(page), "action": action, **fields},
                       content_type="multipart/form-data")


def test_echo_find_and_move_from_the_dicom_console(app, client, auth, accounts, box):
    auth.login(accounts["trainee"])
    run_id = start_run(client)
    code = run_row(app, run_id).partition_code
    path = f"/runs/{run_id}/console/dicom"
    body = console_post(client, path, "echo", **{"echo-device": "WS", "echo-node": f"{code}_PACS"}).get_data(as_text=True)
    assert "ECHO</strong>: Success" in body
    body = console_post(client, path, "find", **{"find-device": "WS", "find-node": f"{code}_PACS", "find-model": "STUDY",
                                                 "find-level": "STUDY", "find-PatientName": "*"}).get_data(as_text=True)
    assert "1 match(es)" in body and "CT HEAD" in body
    study_uid = box.studies(code)[0].study_uid
    body = console_post(client, path, "move", **{"retrieve-device": "WS", "retrieve-node": f"{code}_PACS",
                                                 "retrieve-destination": f"{code}_WS", "retrieve-level": "STUDY",
                                                 "retrieve-StudyInstanceUID": study_uid}).get_data(as_text=True)
    assert "MOVE</strong>: Success" in body
    assert box.studies(code, store="workstation")[0].study_uid == study_uid


def test_bad_ae_titles_and_uids_are_refused_with_messages(app, client, auth, accounts, box):
    auth.login(accounts["trainee"])
    run_id = start_run(client)
    path = f"/runs/{run_id}/console/dicom"
    response = console_post(client, path, "echo", **{"echo-device": "WS", "echo-node": "A" * 17})
    assert response.status_code == 400 and "at most 16 characters" in response.get_data(as_text=True)
    response = console_post(client, path, "echo", **{"echo-device": "WS", "echo-node": "BAD\\AE"})
    assert response.status_code == 400 and "backslash" in response.get_data(as_text=True)
    response = console_post(client, path, "echo", **{"echo-device": "WS", "echo-node": "CTRL\x01AE"})
    assert response.status_code == 400
    response = console_post(client, path, "move", **{"retrieve-device": "WS", "retrieve-node": "X",
                                                     "retrieve-destination": "Y", "retrieve-level": "STUDY",
                                                     "retrieve-StudyInstanceUID": "1.2.abc"})
    assert response.status_code == 400 and "only digits and dots" in response.get_data(as_text=True)
    response = console_post(client, path, "echo", **{"echo-device": "WS", "echo-node": "NOT_A_NODE"})
    assert response.status_code == 200 and "is not a registered node" in response.get_data(as_text=True)
    assert console_post(client, path, "teleport").status_code == 400


def test_the_admin_console_registers_nodes_and_refuses_bad_ports(app, client, auth, accounts, box):
    auth.login(accounts["trainee"])
    run_id = start_run(client)
    code = run_row(app, run_id).partition_code
    path = f"/runs/{run_id}/console/admin"
    response = console_post(client, path, "add-node", **{"add-node-ae_title": "MYVIEWER", "add-node-host": "127.0.0.1",
                                                         "add-node-port": "70000"})
    assert response.status_code == 400 and "A port is 1 to 65535." in response.get_data(as_text=True)
    assert "MYVIEWER" not in {n.ae_title for n in box.list_nodes(code)}
    response = console_post(client, path, "add-node", **{"add-node-ae_title": "MYVIEWER", "add-node-host": "127.0.0.1",
                                                         "add-node-port": "11113"})
    assert response.status_code == 302
    assert "MYVIEWER is registered at 127.0.0.1:11113." in client.get(path).get_data(as_text=True)
    patient = box.studies(code)[0].patient_id
    response = console_post(client, path, "edit-patient", **{"edit-patient-patient_id": patient,
                                                             "edit-patient-patient_name": "SMITH^JOHN"})
    assert response.status_code == 302 and box.studies(code)[0].patient_name == "SMITH^JOHN"
    response = console_post(client, path, "delete-study", **{"delete-study-study_uid": box.studies(code)[0].study_uid,
                                                             "delete-study-confirm": "yes"})
    assert response.status_code == 400 and len(box.studies(code)) == 1


def test_a_trainee_does_not_see_the_fault_panel_but_an_instructor_does(app, client, auth, accounts, box):
    auth.login(accounts["trainee"])
    page = client.get("/console/admin").get_data(as_text=True)
    assert "Faults (instructors)" not in page
    response = client.post("/console/admin", data={"csrf_token": csrf_from(page), "action": "set-fault",
                                                   "kind": "store_out_of_resources"})
    assert response.status_code == 403


def test_uploading_a_real_dicom_file_and_refusing_one_that_is_not(app, client, auth, accounts, box):
    auth.login(accounts["trainee"])
    run_id = start_run(client)
    code = run_row(app, run_id).partition_code
    path = f"/runs/{run_id}/console/dicom"
    real = open(get_testdata_file("CT_small.dcm"), "rb").read()
    body = console_post(client, path, "store", **{"store-device": "CT", "store-node": f"{code}_PACS", "store-modality": "CT",
                                                  "store-images": "1", "store-upload": (io.BytesIO(real), "ct.dcm")}).get_data(as_text=True)
    assert "STORE</strong>: Success" in body
    uid = pydicom.dcmread(io.BytesIO(real)).SOPInstanceUID
    assert uid in {i.sop_instance_uid for i in box.instances(code)}
    response = console_post(client, path, "store", **{"store-device": "CT", "store-node": f"{code}_PACS",
                                                      "store-modality": "CT", "store-images": "1",
                                                      "store-upload": (io.BytesIO(b"not dicom at all"), "x.dcm")})
    assert response.status_code == 400 and "not a DICOM instance" in response.get_data(as_text=True)


def test_the_viewer_renders_png_and_a_searchable_header(app, client, auth, accounts, box):
    auth.login(accounts["trainee"])
    run_id = start_run(client)
    code = run_row(app, run_id).partition_code
    page = client.get(f"/runs/{run_id}/console/viewer").get_data(as_text=True)
    assert "(0002,0010)" in page and "TransferSyntaxUID" in page and "PixelData" in page
    src = re.search(r'src="(/runs/\d+/console/viewer/image/[0-9.]+\.png\?preset=file)"', page).group(1)
    image = client.get(src)
    assert image.status_code == 200 and image.data.startswith(b"\x89PNG")
    assert client.get(src.replace("preset=file", "preset=lung")).data != image.data
    assert client.get(f"/runs/{run_id}/console/viewer/image/1.2.3.png").status_code == 404
    other = [s for s in box.list_partitions() if s.code != code][:1]
    if other:  # an instance UID from another partition is not found through this run
        foreign = box.instances(other[0].code)
        if foreign:
            assert client.get(f"/runs/{run_id}/console/viewer/image/{foreign[0].sop_instance_uid}.png").status_code == 404


def test_the_practice_partition_is_made_once_per_trainee(app, client, auth, accounts, box):
    auth.login(accounts["trainee"])
    first = client.get("/console/dicom").get_data(as_text=True)
    second = client.get("/console/admin").get_data(as_text=True)
    code = re.search(r"Partition <code>(P[0-9A-Z]{7})</code>", first).group(1)
    assert f"Partition <code>{code}</code>" in second
    assert len(box.studies(code)) == 3


def test_console_pages_refuse_anonymous_and_roleless_users(app, client, auth, accounts, box):
    for path in ("/console/dicom", "/console/admin", "/console/viewer"):
        assert client.get(path).status_code == 302
    auth.login(accounts["site_admin"])
    assert client.get("/console/dicom").status_code == 200  # every signed-in role may practise


def test_a_trainee_removes_a_blocking_setting_and_adds_a_routing_rule(app, client, auth, accounts, box):
    auth.login(accounts["trainee"])
    run_id = start_run(client)
    code = run_row(app, run_id).partition_code
    box.set_fault(code, "reject_calling_ae", ae_title="NEWCT")
    box.set_fault(code, "delay_responses", seconds=1)
    path = f"/runs/{run_id}/console/admin"
    page = client.get(path).get_data(as_text=True)
    assert "Blocked calling AE title" in page and "delay" not in page.lower()  # symptoms are not settings
    response = client.post(path, data={"csrf_token": csrf_from(page), "action": "remove-setting", "kind": "delay_responses"})
    assert response.status_code == 400
    response = client.post(path, data={"csrf_token": csrf_from(page), "action": "remove-setting", "kind": "reject_calling_ae"})
    assert response.status_code == 302
    assert {f.kind for f in box.list_faults(code)} == {"delay_responses"}
    response = console_post(client, path, "add-rule", **{"add-rule-destination_ae": f"{code}_WS", "add-rule-modality": "ct"})
    assert response.status_code == 302
    assert [(r.destination_ae, r.modality) for r in box.routing_rules(code)] == [(f"{code}_WS", "CT")]


def test_the_dicom_console_can_call_from_any_ae_title(app, client, auth, accounts, box):
    auth.login(accounts["trainee"])
    run_id = start_run(client)
    code = run_row(app, run_id).partition_code
    body = console_post(client, f"/runs/{run_id}/console/dicom", "echo",
                        **{"echo-device": "NEWCT", "echo-node": f"{code}_PACS"}).get_data(as_text=True)
    assert "No association" in body  # NEWCT is not a registered node: rejected
    assert any(e.details.get("calling_ae") == "NEWCT" for e in box.journal(code, kind="association.rejected"))
