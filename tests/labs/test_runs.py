"""A trainee's lab run over HTTP: start, check my work, hints, reset, submit once, isolation."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from academy.extensions import db
from academy.models import Grading, LabRun
from tests.conftest import Auth, csrf_from


def start_run(client) -> int:
    page = client.get("/labs/tst-echo")
    response = client.post("/labs/tst-echo/start", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/runs/(\d+)$", response.headers["Location"]).group(1))


def run_row(app, run_id) -> LabRun:
    with app.app_context():
        return db.session.get(LabRun, run_id)


def post(client, path, run_id, **data):
    token = csrf_from(client.get(f"/runs/{run_id}").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def test_a_run_gets_its_own_partition_set_up_from_the_scenario(app, client, auth, accounts, box):
    auth.login(accounts["trainee"])
    run_id = start_run(client)
    run = run_row(app, run_id)
    assert re.fullmatch(r"R[0-9A-Z]{7}", run.partition_code)
    assert [s.study_description for s in box.studies(run.partition_code)] == ["CT HEAD"]
    page = client.get(f"/runs/{run_id}").get_data(as_text=True)
    assert f"{run.partition_code}_PACS" in page and "Which modality made the study" in page
    # the expected answers and the solution never reach the page
    assert "MYVIEWER" in page  # from the instructions
    assert "value: CT" not in page and "11113" in page and "do: answer" not in page
    assert start_run(client) == run_id  # a second start (double click) opens the same run


def test_doing_nothing_scores_zero_and_the_solution_scores_full_marks(app, client, auth, accounts, box):
    auth.login(accounts["trainee"])
    run_id = start_run(client)
    code = run_row(app, run_id).partition_code
    post(client, f"/runs/{run_id}/check", run_id)
    assert "0 of 10 points so far" in client.get(f"/runs/{run_id}").get_data(as_text=True)
    box.add_node(code, "MYVIEWER", "127.0.0.1", 11113)
    assert box.devices(code).echo(f"{code}_PACS").ok
    post(client, f"/runs/{run_id}/check", run_id, **{"answer-modality": "ct"})
    assert "10 of 10 points so far" in client.get(f"/runs/{run_id}").get_data(as_text=True)
    response = post(client, f"/runs/{run_id}/submit", run_id)
    assert response.status_code == 302
    assert run_row(app, run_id).score == 10


def test_a_hint_costs_its_points_and_is_recorded(app, client, auth, accounts, box):
    auth.login(accounts["trainee"])
    run_id = start_run(client)
    code = run_row(app, run_id).partition_code
    post(client, f"/runs/{run_id}/hints/node", run_id)
    assert "PACS administration, Add or change a node." in client.get(f"/runs/{run_id}").get_data(as_text=True)
    box.add_node(code, "MYVIEWER", "127.0.0.1", 11113)
    post(client, f"/runs/{run_id}/submit", run_id)
    assert run_row(app, run_id).score == 3  # node 4 - 1 for the hint; no echo, no answer


def test_submitting_twice_gives_one_result_and_a_finished_run_is_read_only(app, client, auth, accounts, box):
    auth.login(accounts["trainee"])
    run_id = start_run(client)
    token = csrf_from(client.get(f"/runs/{run_id}").get_data(as_text=True))
    client.post(f"/runs/{run_id}/submit", data={"csrf_token": token})
    client.post(f"/runs/{run_id}/submit", data={"csrf_token": token})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Grading).where(Grading.final)) == 1
    assert client.post(f"/runs/{run_id}/check", data={"csrf_token": token}).status_code == 409
    assert client.post(f"/runs/{run_id}/console/dicom", data={"csrf_token": token, "action": "echo"}).status_code == 409
    assert client.get(f"/runs/{run_id}/trace").status_code == 200


def test_reset_gives_a_fresh_partition_for_the_same_lab(app, client, auth, accounts, box):
    auth.login(accounts["trainee"])
    run_id = start_run(client)
    code = run_row(app, run_id).partition_code
    box.delete_study(code, box.studies(code)[0].study_uid)
    box.add_node(code, "MYVIEWER", "127.0.0.1", 11113)
    post(client, f"/runs/{run_id}/reset", run_id)
    assert [s.study_description for s in box.studies(code)] == ["CT HEAD"]
    assert "MYVIEWER" not in {n.ae_title for n in box.list_nodes(code)}


def test_another_trainee_cannot_open_or_act_on_the_run(app, client, auth, accounts, box):
    auth.login(accounts["trainee"])
    run_id = start_run(client)
    intruder = app.test_client()
    Auth(intruder).login(accounts["other_trainee"])
    token = csrf_from(intruder.get("/labs").get_data(as_text=True))
    for path in (f"/runs/{run_id}", f"/runs/{run_id}/trace", f"/runs/{run_id}/console/dicom",
                 f"/runs/{run_id}/console/admin", f"/runs/{run_id}/console/viewer"):
        assert intruder.get(path).status_code == 404, path
    for path in (f"/runs/{run_id}/check", f"/runs/{run_id}/submit", f"/runs/{run_id}/reset",
                 f"/runs/{run_id}/abandon", f"/runs/{run_id}/hints/node"):
        assert intruder.post(path, data={"csrf_token": token}).status_code == 404, path
    assert run_row(app, run_id).state == "active"


def test_the_trace_points_at_the_event_behind_a_failed_check(app, client, auth, accounts, box):
    auth.login(accounts["trainee"])
    run_id = start_run(client)
    code = run_row(app, run_id).partition_code
    box.set_fault(code, "reject_calling_ae", ae_title=f"{code}_WS")
    box.devices(code).echo(f"{code}_PACS")
    post(client, f"/runs/{run_id}/check", run_id)
    page = client.get(f"/runs/{run_id}").get_data(as_text=True)
    link = re.search(r'href="(/runs/\d+/trace\?event=(\d+)#event-\d+)"', page)
    assert link, "a failed check links to the event that explains it"
    trace = client.get(link.group(1)).get_data(as_text=True)
    assert f'id="event-{link.group(2)}" open' in trace
    assert "the calling AE title is not recognised" in trace


def test_the_catalogue_shows_scores(app, client, auth, accounts, box):
    auth.login(accounts["trainee"])
    run_id = start_run(client)
    post(client, f"/runs/{run_id}/submit", run_id)
    page = client.get("/labs").get_data(as_text=True)
    assert "Register a viewer and verify connectivity" in page and "0/10" in page
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert 'id="lab-scores"' in dashboard and "0/10" in dashboard


def test_finished_runs_release_their_images_but_keep_the_trace(app, client, auth, accounts, box):
    from datetime import timedelta

    from academy.labs import runs
    from academy.models import utcnow

    auth.login(accounts["trainee"])
    run_id = start_run(client)
    code = run_row(app, run_id).partition_code
    box.devices(code).echo(f"{code}_PACS")
    post(client, f"/runs/{run_id}/submit", run_id)
    with app.app_context():
        assert runs.release_finished(db.session, box, utcnow(), after=timedelta(hours=1)) == 0  # too recent
        assert runs.release_finished(db.session, box, utcnow() + timedelta(hours=2), after=timedelta(hours=1)) == 1
    assert box.studies(code) == []
    trace = client.get(f"/runs/{run_id}/trace").get_data(as_text=True)
    assert "dimse.c-echo" in trace and "images and settings released" in trace


def test_a_simulated_new_modality_must_be_registered_to_send(app, box):
    import secrets

    code = "N" + secrets.token_hex(3).upper()
    box.create_partition(code)
    refused = box.devices(code).echo(f"{code}_PACS", device="NEWCT")
    assert not refused.ok
    assert any(e.details.get("calling_ae") == "NEWCT" for e in box.journal(code, kind="association.rejected"))
    box.add_node(code, "NEWCT", "127.0.0.1", 104)
    assert box.devices(code).echo(f"{code}_PACS", device="NEWCT").ok
    box.delete_partition(code)
