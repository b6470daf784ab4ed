"""Every upload is size-limited and type-checked, refused with a clear message, and leaves nothing stored.

The uploads of the site: the CSV invitation import (org admin), the DICOM file of the DICOM console
(any learner, into their partition) and the YAML path editor (a text area, org admin). A request over
MAX_CONTENT_LENGTH gets the friendly 413 page before any view runs.
"""
from __future__ import annotations

import io

from sqlalchemy import func, select

from academy.extensions import db
from tests.security.conftest import login, row_counts, token_of


def invitations_count(app) -> int:
    from academy.models import Invitation

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Invitation))


def post_csv(client, data: bytes, name: str = "people.csv"):
    token = token_of(client, "/organization")
    return client.post("/organization", data={"csrf_token": token, "action": "csv", "csv-csrf_token": token,
                                              "csv-file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_a_request_over_the_size_limit_gets_the_friendly_413_page_and_stores_nothing(app, world):
    client = login(app, world.accounts["org_admin"])
    token = token_of(client, "/organization")
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    before = row_counts(app)
    response = client.post("/organization", data={"csrf_token": token, "action": "csv", "csv-csrf_token": token,
                                                  "csv-file": (io.BytesIO(b"email,name\n" + b"x" * 100_000), "big.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 413
    body = response.get_data(as_text=True)
    assert "larger than the site accepts" in body and "Traceback" not in body
    assert "Content-Security-Policy" in response.headers
    assert row_counts(app) == before


def test_the_default_limit_is_set():
    from academy.config import load_config

    assert 0 < load_config({"ACADEMY_SECRET_KEY": "x", "ACADEMY_DATA_DIR": "/tmp/academy-config-check"})[
        "MAX_CONTENT_LENGTH"] <= 64 * 1024 * 1024


def test_the_csv_import_refuses_big_files_and_files_that_are_not_csv_text(app, world):
    client = login(app, world.accounts["org_admin"])
    before = invitations_count(app)
    big = b"email,name,role,cohort\n" + b"a@example.org,A,trainee,\n" * 50_000  # > 1 MB
    for data, name, message in (
            (big, "people.csv", "larger than 1 MB"),
            (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "people.csv", "not UTF-8 text"),
            (b"%PDF-1.7\n1 0 obj\n", "people.pdf", "first line must name the columns"),
            (b"", "empty.csv", "first line must name the columns")):
        response = post_csv(client, data, name)
        body = response.get_data(as_text=True)
        assert response.status_code == 400, (name, response.status_code)
        assert message in body, (name, message)
        assert "Traceback" not in body
    assert invitations_count(app) == before


def test_the_dicom_console_refuses_big_files_and_files_that_are_not_dicom(app, world, box):
    from academy.labs.forms import MAX_UPLOAD
    from academy.models import LabRun

    client = login(app, world.accounts["trainee"])
    run = world.ids["run_id"]
    with app.app_context():
        code = db.session.get(LabRun, run).partition_code
    before = len(box.instances(code))
    path = f"/runs/{run}/console/dicom"
    for data, message in ((b"DICM" + b"\0" * (MAX_UPLOAD + 1), "larger than 20 MB"),
                          (b"<html><script>alert(1)</script></html>", "not a DICOM instance"),
                          (b"MZ\x90\x00" + b"\0" * 200, "not a DICOM instance")):
        token = token_of(client, path)
        response = client.post(path, data={"csrf_token": token, "action": "store", "store-csrf_token": token,
                                           "store-device": "CT", "store-node": f"{code}_PACS", "store-modality": "CT",
                                           "store-images": "1", "store-upload": (io.BytesIO(data), "x.dcm")},
                               content_type="multipart/form-data")
        assert response.status_code == 400, message
        assert message in response.get_data(as_text=True)
    assert len(box.instances(code)) == before


def test_the_path_editor_refuses_oversized_and_malformed_text(app, world):
    from academy.models import OnboardingPath

    client = login(app, world.accounts["org_admin"])
    key = world.ids["own_path_key"]
    path = f"/paths/{key}/edit"
    with app.app_context():
        version = db.session.scalar(select(OnboardingPath.version).where(OnboardingPath.key == key))
    for text in ("x" * 50_001, "id: [unclosed", "!!python/object/apply:os.system ['echo pwned']", "- just\n- a list"):
        response = client.post(path, data={"csrf_token": token_of(client, path), "text": text})
        assert response.status_code == 400, text[:30]
        assert "Traceback" not in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(OnboardingPath.version).where(OnboardingPath.key == key)) == version
