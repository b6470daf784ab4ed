"""Text from people and from the sandbox is shown as text: Markdown, names, CSV rows, HL7 and DICOM values.

Each test puts the same payloads where a user (or a device on the sandbox network) can put them, opens
every page that shows them, and parses the HTML: no script without a same-site src, no on* attribute, no
javascript: URL, and the payload visible as escaped text. Separately, every HTML page of the site (every
GET route of the inventory, with real objects) carries a CSP that allows no inline script.
"""
from __future__ import annotations

import io
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from academy.extensions import db
from academy.security import CONTENT_SECURITY_POLICY
from tests.security.conftest import login, token_of
from tests.security.test_route_inventory import ROUTES, Clients, actor_for, rules, url_for_rule

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
LINK = "[click](javascript:alert(3))"
PAYLOAD = f"{SCRIPT}{IMG}{LINK}"


class Inert(HTMLParser):
    """Collects what would run: scripts that are not same-site files, event handlers, javascript: URLs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            src = attrs.get("src") or ""
            if not src.startswith("/") or src.startswith("//"):
                self.problems.append(f"script without a same-site src: {attrs}")
        for name, value in attrs.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name in ("href", "src", "action", "formaction", "xlink:href") and value and \
                    "".join(value.split()).lower().startswith(("javascript:", "data:text/html", "vbscript:")):
                self.problems.append(f"<{tag} {name}={value!r}>")

    handle_startendtag = handle_starttag


def assert_inert(html: str, where: str, shown: tuple[str, ...] = ()) -> None:
    parser = Inert()
    parser.feed(html)
    assert not parser.problems, f"{where}: {parser.problems}"
    for text in shown:  # the payload did reach the page, as text
        assert text.lower() in html.lower(), f"{where}: {text!r} is not on the page"


def assert_csp(response, where: str) -> None:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    script = directives.get("script-src", directives.get("default-src"))
    assert script in (["'self'"], ["'none'"]), f"{where}: script-src {script}"
    if script == ["'none'"]:  # a module asset (SVG) on its own: sandboxed, nothing runs, inline style allowed
        assert "sandbox" in directives and directives["default-src"] == ["'none'"], where
        return
    assert policy == CONTENT_SECURITY_POLICY, where
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy, where
    assert directives.get("object-src") == ["'none'"] and directives.get("base-uri") == ["'self'"], where


ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_every_html_page_carries_a_csp_without_inline_script_and_has_none(app, world):
    clients = Clients(app, world)
    checked = 0
    for role in (None, "trainee", "instructor", "org_admin", "site_admin"):
        client = clients(role) if role else app.test_client()
        for rule in rules(app):
            if "GET" not in rule.methods:
                continue
            access = ROUTES[rule.endpoint][0]
            if role is None and access != "public" or role and actor_for(access) != role and access != "public":
                continue
            response = client.get(url_for_rule(app, rule, world))
            assert_csp(response, rule.endpoint)
            if response.mimetype == "text/html":
                assert_inert(response.get_data(as_text=True), rule.endpoint)
                checked += 1
    assert checked > 40
    assert client.get("/no-such-page").headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_a_module_asset_cannot_run_script_even_when_opened_directly(app, world):
    client = login(app, world.accounts["trainee"])
    response = client.get("/tracks/TST1/modules/basics/assets/flow.svg")
    policy = response.headers["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy and "script" not in policy


def test_names_people_choose_are_shown_as_text_everywhere(app, world):
    """A display name is set by the person (invitation acceptance) and shown to staff, in certificates..."""
    from academy.models import Certificate, User

    with app.app_context():
        db.session.get(User, world.accounts["trainee"].id).display_name = SCRIPT + IMG
        db.session.get(Certificate, world.ids["certificate_id"]).holder_name = SCRIPT + IMG
        db.session.commit()
    pages = {
        "instructor": ["/cohorts", f"/organization/cohorts/{world.ids['cohort_id']}",
                       f"/organization/trainees/{world.accounts['trainee'].id}", f"/runs/{world.ids['run_id']}/trace"],
        "org_admin": ["/organization", "/organization/readiness", "/organization/audit"],
        "trainee": ["/dashboard", "/certificates"],
    }
    for role, paths in pages.items():
        client = login(app, world.accounts[role])
        for path in paths:
            assert_inert(client.get(path).get_data(as_text=True), f"{role} {path}")
    html = app.test_client().get(f"/verify/{world.ids['verification_code']}").get_data(as_text=True)
    assert_inert(html, "verify", (ESCAPED_SCRIPT,))


def test_an_invitee_choosing_a_script_as_name_gets_it_shown_as_text(app, world):
    client = app.test_client()
    path = f"/invite/{world.ids['invitation_token']}"
    response = client.post(path, data={"csrf_token": token_of(client, path), "display_name": SCRIPT,
                                       "password": "a long enough passphrase 42", "confirm": "a long enough passphrase 42"})
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    assert_inert(client.get("/dashboard").get_data(as_text=True), "the newcomer's dashboard", (ESCAPED_SCRIPT,))
    admin = login(app, world.accounts["org_admin"])
    assert_inert(admin.get("/organization").get_data(as_text=True), "/organization after acceptance", (ESCAPED_SCRIPT,))


def test_markdown_and_yaml_an_org_admin_writes_render_escaped(app, world):
    import yaml

    from academy.learn import paths
    from academy.models import OnboardingPath

    key = world.ids["own_path_key"]
    with app.app_context():
        path = db.session.scalar(select(OnboardingPath).where(OnboardingPath.key == key))
        data = yaml.safe_load(paths.as_yaml(path))
    data.update(title=f"Week one {SCRIPT}", summary=IMG, description=f"Read this {PAYLOAD}\n\n<iframe src=//evil>")
    admin = login(app, world.accounts["org_admin"])
    edit = f"/paths/{key}/edit"
    response = admin.post(edit, data={"csrf_token": token_of(admin, edit), "text": yaml.safe_dump(data)})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    trainee = login(app, world.accounts["trainee"])
    for client, where in ((admin, f"/paths/{key}"), (admin, edit), (trainee, f"/paths/{key}"), (trainee, "/paths"),
                          (trainee, "/dashboard")):
        html = client.get(where).get_data(as_text=True)
        assert_inert(html, where)
        assert "<iframe" not in html, where
    assert ESCAPED_SCRIPT in trainee.get(f"/paths/{key}").get_data(as_text=True)


def test_csv_rows_echoed_in_the_import_report_are_escaped(app, world):
    admin = login(app, world.accounts["org_admin"])
    token = token_of(admin, "/organization")
    data = (f"email,name,role,cohort\nnot-an-email{SCRIPT},{IMG},trainee,\n"
            f"ok@general.example.org,{SCRIPT},trainee,{SCRIPT}\nfine@general.example.org,{IMG},{SCRIPT},\n").encode()
    response = admin.post("/organization", data={"csrf_token": token, "action": "csv", "csv-csrf_token": token,
                                                 "csv-file": (io.BytesIO(data), "p.csv")},
                          content_type="multipart/form-data")
    assert_inert(response.get_data(as_text=True), "CSV report", (ESCAPED_SCRIPT,))
    assert_inert(admin.get("/organization").get_data(as_text=True), "/organization")


def test_question_reports_are_shown_to_instructors_as_text(app, world):
    trainee = login(app, world.accounts["trainee"])
    version = world.ids["version_id"]
    trainee.post(f"/questions/{version}/report", data={"csrf_token": token_of(trainee), "message": PAYLOAD})
    instructor = login(app, world.accounts["instructor"])
    assert_inert(instructor.get("/instructor/items/TST1").get_data(as_text=True), "item analysis")


@pytest.fixture
def partition(app, world):
    from academy.models import LabRun

    with app.app_context():
        return db.session.get(LabRun, world.ids["run_id"]).partition_code


def test_hl7_values_sent_to_the_ris_are_shown_as_text(app, world, box, partition):
    client = login(app, world.accounts["trainee"])
    run = world.ids["run_id"]
    path = f"/runs/{run}/console/ris"
    token = token_of(client, path)
    response = client.post(path, data={
        "csrf_token": token, "action": "patient", "patient-csrf_token": token, "patient-trigger": "A04",
        "patient-patient_id": "XSS1", "patient-family": SCRIPT, "patient-given": IMG, "patient-birth_date": "19800101",
        "patient-sex": "F"})
    assert response.status_code == 200, response.status_code
    # and straight from a device on the network, through MLLP, bypassing the console's form checks
    import sandbox

    message = sandbox.build_adt(partition, "A04", {"patient_id": "XSS2", "name": "DOE^JANE", "birth_date": "19800101",
                                                   "sex": "F", "issuer": "ACADEMY_GH"})
    message = message.replace("DOE^JANE", f"{SCRIPT}^{IMG}{LINK}")
    box.send_hl7(partition, message)
    assert {p.patient_id for p in box.ris_patients(partition)} >= {"XSS1", "XSS2"}
    for where in (path, f"/runs/{run}/trace", f"/runs/{run}"):
        html = client.get(where).get_data(as_text=True)
        assert_inert(html, where)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;".lower() in client.get(path).get_data(as_text=True).lower()


def test_dicom_values_stored_in_the_archive_are_shown_as_text(app, world, box, partition):
    import pydicom
    from pydicom.data import get_testdata_file
    from pydicom.uid import generate_uid

    dataset = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    dataset.PatientName, dataset.PatientID = SCRIPT, "XSS3"
    dataset.StudyDescription, dataset.SeriesDescription = IMG, "javascript:alert(3)"
    dataset.InstitutionName = '"><svg onload=alert(4)>'
    dataset.StudyInstanceUID, dataset.SeriesInstanceUID, dataset.SOPInstanceUID = (generate_uid() for _ in range(3))
    dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
    buffer = io.BytesIO()
    dataset.save_as(buffer)
    client = login(app, world.accounts["trainee"])
    run = world.ids["run_id"]
    dicom = f"/runs/{run}/console/dicom"
    token = token_of(client, dicom)
    response = client.post(dicom, data={"csrf_token": token, "action": "store", "store-csrf_token": token,
                                        "store-device": "CT", "store-node": f"{partition}_PACS", "store-modality": "CT",
                                        "store-images": "1", "store-upload": (io.BytesIO(buffer.getvalue()), "x.dcm")},
                           content_type="multipart/form-data")
    assert "Success" in response.get_data(as_text=True)
    study = dataset.StudyInstanceUID
    found = client.post(dicom, data={"csrf_token": token, "action": "find", "find-csrf_token": token,
                                     "find-device": "WS", "find-node": f"{partition}_PACS", "find-model": "STUDY",
                                     "find-level": "STUDY", "find-PatientID": "XSS3"})
    pages = {"find results": found.get_data(as_text=True)}
    for where in (f"/runs/{run}/console/admin", f"/runs/{run}/console/viewer?study={study}",
                  f"/runs/{run}/console/admin?q=XSS3", f"/runs/{run}/trace"):
        pages[where] = client.get(where).get_data(as_text=True)
    for where, html in pages.items():
        assert_inert(html, where)
        assert "<svg" not in html, where
    assert "&lt;script&gt;" in pages[f"/runs/{run}/console/admin"]
    assert "&lt;script&gt;" in pages[f"/runs/{run}/console/viewer?study={study}"]
