"""Reading lessons: safe rendering, self-checks marked only after answering, progress and locks."""
from __future__ import annotations

from sqlalchemy import select

from academy.extensions import db
from academy.models import LessonProgress
from tests.conftest import csrf_from

PORTS = "/tracks/TST1/modules/basics/lessons/01-ports"
BYTES = "/tracks/TST1/modules/basics/lessons/02-bytes"


def test_a_lesson_renders_its_markdown_links_and_diagram(client, auth, accounts):
    auth.login(accounts["trainee"])
    html = client.get(PORTS).get_data(as_text=True)
    assert "DICOM PS3.8 Annex G" in html
    assert 'href="/tracks/TST1/modules/basics/lessons/02-bytes"' in html
    assert 'src="/tracks/TST1/modules/basics/assets/flow.svg"' in html


def test_raw_html_in_a_lesson_is_shown_as_text(client, auth, accounts):
    auth.login(accounts["trainee"])
    html = client.get(BYTES).get_data(as_text=True)
    assert '<script>alert("not rendered")' not in html
    assert "&lt;script&gt;" in html


def test_a_diagram_is_served_as_an_inert_svg(client, auth, accounts):
    auth.login(accounts["trainee"])
    response = client.get("/tracks/TST1/modules/basics/assets/flow.svg")
    assert response.mimetype == "image/svg+xml"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert client.get("/tracks/TST1/modules/basics/assets/../track.yaml").status_code == 404


def test_the_self_check_answers_stay_on_the_server_until_the_lesson_is_submitted(app, client, auth, accounts):
    auth.login(accounts["trainee"])
    html = client.get(PORTS).get_data(as_text=True)
    assert "Port 104 is DICOM&#39;s registered port" not in html and "Port 104 is DICOM's registered port" not in html
    response = client.post(PORTS, data={"csrf_token": csrf_from(html), "answer-tst-les-ports-a": "a",
                                        "answer-tst-les-ports-b": "7"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "1 of 2 self-check answers right" in body
    assert "registered port" in body  # the explanation, now
    with app.app_context():
        record = db.session.scalar(select(LessonProgress))
        assert (record.self_check_correct, record.self_check_total, record.lesson_version) == (1, 2, 1)


def pass_lab(app, user_id: int, score: int, key: str = "tst-echo") -> None:
    """A submitted run of a fixture lab with this score (as the labs tests make for real)."""
    from academy.models import Lab, LabRun, utcnow

    with app.app_context():
        lab = db.session.scalar(select(Lab).where(Lab.key == key))
        db.session.add(LabRun(user_id=user_id, lab=lab, lab_version=1, spec=lab.spec, state="submitted",
                              score=score, max_score=lab.max_score, finished_at=utcnow()))
        db.session.commit()


def test_completing_a_track_unlocks_the_track_that_requires_it(app, client, auth, accounts):
    auth.login(accounts["trainee"])
    assert client.get("/practice/TST2").status_code == 403
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Locked until TST1 is complete" in dashboard
    for path in (PORTS, BYTES):
        client.post(path, data={"csrf_token": csrf_from(client.get(path).get_data(as_text=True))})
    assert "Locked until TST1 is complete" in client.get("/dashboard").get_data(as_text=True)  # the lab too
    pass_lab(app, accounts["trainee"].id, score=6)  # below the pass share (7 of 10)
    assert "Locked until TST1 is complete" in client.get("/dashboard").get_data(as_text=True)
    pass_lab(app, accounts["trainee"].id, score=8)
    assert "Locked until TST1 is complete" in client.get("/dashboard").get_data(as_text=True)  # one lab to go
    pass_lab(app, accounts["trainee"].id, score=10, key="tst-order")
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Locked until TST1" not in dashboard and "2 of 2 labs" in dashboard
    assert client.get("/tracks/TST2").status_code == 200


def test_what_next_points_at_the_first_unfinished_lesson_then_the_lab(client, auth, accounts):
    auth.login(accounts["trainee"])
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert dashboard.index('lessons/01-ports"') < dashboard.index('href="/labs/tst-echo"')
    client.post(PORTS, data={"csrf_token": csrf_from(client.get(PORTS).get_data(as_text=True))})
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert 'lessons/01-ports"' not in dashboard and 'lessons/02-bytes"' in dashboard


def test_an_unknown_track_module_or_lesson_is_404(client, auth, accounts):
    auth.login(accounts["trainee"])
    for path in ("/tracks/NOPE", "/tracks/TST1/modules/nope", "/tracks/TST1/modules/basics/lessons/99-x"):
        assert client.get(path).status_code == 404


def test_an_onboarding_path_shows_each_step_and_what_is_done(app, client, auth, accounts):
    auth.login(accounts["trainee"])
    page = client.get("/paths/tst-first-week").get_data(as_text=True)
    assert "0 of 3 steps done" in page and "TST1: Network basics" in page and "Register a viewer" in page
    for path in (PORTS, BYTES):
        client.post(path, data={"csrf_token": csrf_from(client.get(path).get_data(as_text=True))})
    pass_lab(app, accounts["trainee"].id, score=10)
    assert "2 of 3 steps done" in client.get("/paths/tst-first-week").get_data(as_text=True)
    assert client.get("/paths/no-such-path").status_code == 404


def test_an_organisation_copies_and_adapts_a_path_that_stays_private(app, client, auth, accounts):
    auth.login(accounts["org_admin"])
    page = client.get("/paths/tst-first-week").get_data(as_text=True)
    response = client.post("/paths/tst-first-week/copy", data={"csrf_token": csrf_from(page)})
    edit_url = response.headers["Location"]
    key = edit_url.split("/")[-2]
    text = client.get(edit_url).get_data(as_text=True)
    assert "module: TST1/basics" in text
    broken = client.post(edit_url, data={"csrf_token": csrf_from(text), "text": f"id: {key}\ntitle: X\nsummary: Y\nsteps:\n  - {{day: 3, lab: no-such-lab}}\n"})
    assert broken.status_code == 400 and "lab &#39;no-such-lab&#39; does not exist" in broken.get_data(as_text=True)
    good = f"id: {key}\ntitle: Our first week\nsummary: Adapted.\nsteps:\n  - {{day: 1, module: TST1/basics}}\n  - {{day: 3, lab: tst-order}}\n"
    assert client.post(edit_url, data={"csrf_token": csrf_from(text), "text": good}).status_code == 302
    assert "Our first week" in client.get(f"/paths/{key}").get_data(as_text=True)
    assert "First week on the test track" in client.get("/paths/tst-first-week").get_data(as_text=True)  # original kept
    from tests.conftest import Auth

    outsider = app.test_client()
    Auth(outsider).login(accounts["other_trainee"])
    assert outsider.get(f"/paths/{key}").status_code == 404
    assert "Our first week" not in outsider.get("/paths").get_data(as_text=True)
    colleague = app.test_client()
    Auth(colleague).login(accounts["trainee"])
    assert "Our first week" in colleague.get("/paths").get_data(as_text=True)
