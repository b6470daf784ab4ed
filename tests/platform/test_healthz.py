"""/healthz says whether the database (and, in-process, the sandbox) answers."""
from tests.conftest import make_app


def test_healthz_is_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok"}}


def test_healthz_is_503_when_the_database_is_gone(tmp_path):
    (tmp_path / "not-a-dir").write_text("a file where a directory should be")
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'not-a-dir' / 'academy.db'}")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"] == "unavailable"


def test_a_page_needing_a_gone_database_is_a_friendly_503(tmp_path):
    (tmp_path / "not-a-dir").write_text("x")
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'not-a-dir' / 'academy.db'}")
    response = app.test_client().post("/login", data={"email": "a@b.org", "password": "x"})
    # the CSRF check comes first; a valid-looking login then needs the database
    assert response.status_code in (400, 503)
    client = app.test_client()
    page = client.get("/login")
    assert page.status_code == 200
    from tests.conftest import csrf_from

    response = client.post("/login", data={"email": "a@b.org", "password": "some-password",
                                           "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 503
    body = response.get_data(as_text=True)
    assert "Temporarily unavailable" in body and "Traceback" not in body


def test_healthz_reports_the_sandbox_when_it_runs_in_process(app):
    class FakeSandbox:
        listening = True

        def status(self):
            return {"dicom": {"listening": self.listening, "port": 11112}}

    fake = FakeSandbox()
    app.extensions["academy.sandbox"] = fake
    app.extensions["academy.sandbox.embedded"] = True
    client = app.test_client()
    assert client.get("/healthz").get_json()["checks"]["sandbox"]["dicom"]["listening"] is True
    fake.listening = False
    assert client.get("/healthz").status_code == 503


def test_every_worker_of_a_scaled_out_site_reports_the_sandbox_service_even_before_using_it(app):
    app.config["ACADEMY_SANDBOX_HOST"] = "127.0.0.1"
    assert "academy.sandbox" not in app.extensions  # a fresh gunicorn worker
    checks = app.test_client().get("/healthz").get_json()["checks"]
    assert checks["sandbox"] == {"database": {"ok": True}}
    assert checks["sandbox_service"] == f"127.0.0.1:{app.config['ACADEMY_DICOM_PORT']}"


def test_healthz_of_a_client_of_the_sandbox_service_checks_only_the_shared_database(app):
    """A scaled-out site has no listeners of its own; once it has used the sandbox it must stay healthy."""
    from academy import sandbox_link

    with app.app_context():
        box = sandbox_link.get()           # a client, as in a gunicorn worker: never started here
    client = app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    checks = response.get_json()["checks"]
    assert checks["sandbox"] == {"database": {"ok": True}}
    assert checks["sandbox_service"].endswith(f":{box.config.dicom_port}")
