"""The first start creates the demo organisation once; later starts create nothing twice."""
from sqlalchemy import func, select

from academy import first_run
from academy.extensions import db
from academy.models import Membership, Organization, User
from tests.conftest import Auth, make_app


def test_first_run_creates_the_demo_accounts_once_and_they_log_in(tmp_path):
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'fresh.db'}")
    accounts = first_run.prepare(app)
    assert sorted(a.role for a in accounts) == ["instructor", "org_admin", "trainee"]
    assert len({a.password for a in accounts}) == 3 and all(len(a.password) >= 12 for a in accounts)
    for account in accounts:
        client = app.test_client()
        assert Auth(client).login(email=account.email, password=account.password).status_code == 302
        assert client.get("/dashboard").status_code == 200

    assert first_run.prepare(app) == []  # the second start
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Organization)) == 1
        assert db.session.scalar(select(func.count()).select_from(User)) == 3
        assert db.session.scalar(select(func.count()).select_from(Membership)) == 3


def test_the_secret_key_is_generated_once_and_kept_private(tmp_path):
    from academy.config import load_config

    first = load_config({"ACADEMY_DATA_DIR": str(tmp_path)})["SECRET_KEY"]
    second = load_config({"ACADEMY_DATA_DIR": str(tmp_path)})["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert load_config({"ACADEMY_DATA_DIR": str(tmp_path), "ACADEMY_SECRET_KEY": "from-env"})["SECRET_KEY"] == "from-env"


def test_configuration_comes_from_the_environment_with_defaults(tmp_path):
    from academy.config import load_config

    defaults = load_config({"ACADEMY_DATA_DIR": str(tmp_path)})
    assert (defaults["ACADEMY_HOST"], defaults["ACADEMY_PORT"], defaults["ACADEMY_DICOM_PORT"],
            defaults["ACADEMY_HL7_PORT"]) == ("127.0.0.1", 5000, 11112, 2575)
    assert defaults["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'academy.db'}"
    custom = load_config({"ACADEMY_DATA_DIR": str(tmp_path), "ACADEMY_PORT": "8080",
                          "ACADEMY_DATABASE_URL": "postgresql+psycopg://u@db/academy"})
    assert custom["ACADEMY_PORT"] == 8080 and custom["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
