"""Fixtures shared by the whole suite: an app on a fresh database, clients, and logged-in roles.

The schema is built once per session by running the real migrations (and importing the bundled
content); each test gets its own copy of that SQLite file, so tests are isolated and fast.
"""
from __future__ import annotations

import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from academy import create_app, database
from academy.extensions import db

POSTGRES_URL = os.environ.get("ACADEMY_TEST_POSTGRES_URL")
# For a module that needs PostgreSQL: `pytestmark = NEEDS_POSTGRES`; skipped, saying why, where there is none.
NEEDS_POSTGRES = [pytest.mark.postgres, pytest.mark.skipif(
    not POSTGRES_URL, reason="ACADEMY_TEST_POSTGRES_URL is not set (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")]
FIXTURE_CONTENT = Path(__file__).parent / "fixtures" / "content"
CSRF_PATTERN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def base_config(data_dir: Path, database_url: str) -> dict:
    return {
        "TESTING": True,
        "ACADEMY_DATA_DIR": data_dir,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key",
        "RATELIMIT_STORAGE_URI": "memory://",
        # A small fixture track keeps the tests independent of the real banks (tested on their own).
        "ACADEMY_CURRICULA_DIR": FIXTURE_CONTENT / "curricula",
        "ACADEMY_QUESTION_BANKS_DIR": FIXTURE_CONTENT / "question_banks",
    }


def _make_template(data_dir: Path, **content_dirs) -> tuple[Path, dict]:
    """A SQLite file at the newest migration with the content imported and the test accounts."""
    from academy import content

    path = data_dir / "academy.db"
    app = create_app({**base_config(data_dir, f"sqlite:///{path}"), **content_dirs})
    database.upgrade(app)
    with app.app_context():
        content.import_bundled(app)
        accounts = create_accounts()
        db.engine.dispose()
    return path, accounts


@pytest.fixture(scope="session")
def template(tmp_path_factory) -> tuple[Path, dict]:
    """The fixture content (tests/fixtures/content) and the test accounts."""
    return _make_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def bundled_template(tmp_path_factory) -> tuple[Path, dict]:
    """Like `template`, with the real bundled curricula and question banks imported."""
    from academy.content import loader

    return _make_template(tmp_path_factory.mktemp("bundled"), ACADEMY_CURRICULA_DIR=loader.CURRICULA_DIR,
                          ACADEMY_QUESTION_BANKS_DIR=loader.QUESTION_BANKS_DIR)


@pytest.fixture
def bundled_app(tmp_path, bundled_template):
    """An app on a copy of the database holding the bundled content."""
    from academy.content import loader

    path = tmp_path / "academy.db"
    shutil.copyfile(bundled_template[0], path)
    app = make_app(tmp_path, f"sqlite:///{path}", ACADEMY_CURRICULA_DIR=loader.CURRICULA_DIR,
                   ACADEMY_QUESTION_BANKS_DIR=loader.QUESTION_BANKS_DIR)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def template_database(template) -> Path:
    return template[0]


def make_app(data_dir: Path, database_url: str, **overrides):
    app = create_app({**base_config(data_dir, database_url), **overrides})
    return app


@pytest.fixture
def app(tmp_path, template_database):
    path = tmp_path / "academy.db"
    shutil.copyfile(template_database, path)
    app = make_app(tmp_path, f"sqlite:///{path}")
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def postgres_url():
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("ACADEMY_TEST_POSTGRES_URL is not set: no PostgreSQL to test against (CI sets it)")
    import sqlalchemy as sa

    name = f"academy_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield str(sa.engine.make_url(POSTGRES_URL).set(database=name))
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_db_app(request, tmp_path):
    """An app on an empty database brought up by the migrations, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'academy.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    app = make_app(tmp_path, url)
    database.upgrade(app)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def box(tmp_path_factory):
    """One real sandbox for the session (SQLite, DICOM and HL7 listeners on free ports); tests that use
    it work in partitions of their own."""
    from sandbox import Sandbox, SandboxConfig

    folder = tmp_path_factory.mktemp("academy-sandbox")
    sb = Sandbox(SandboxConfig(database_url=f"sqlite:///{folder / 'sandbox.db'}", data_dir=folder / "files",
                               dicom_port=0, hl7_port=0, fsync=False, acse_timeout=5, dimse_timeout=5,
                               network_timeout=5))
    sb.start()
    yield sb
    sb.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_from(html: str) -> str:
    match = CSRF_PATTERN.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


@dataclass
class Account:
    email: str
    password: str
    role: str
    id: int


PEOPLE = [  # role, email, organisation
    ("trainee", "trainee@general.example.org", "General Hospital"),
    ("instructor", "instructor@general.example.org", "General Hospital"),
    ("org_admin", "admin@general.example.org", "General Hospital"),
    ("site_admin", "root@academy.example.org", None),
    ("trainee", "trainee@other.example.org", "Other Hospital"),
]


def create_accounts() -> dict[str, Account]:
    """One account per role in 'General Hospital', a site admin, and a trainee of 'Other Hospital'."""
    from academy.auth import service
    from academy.models import Cohort, CohortMember

    made = {}
    cohort = None
    for role, email, org_name in PEOPLE:
        org = service.get_or_create_organization(db.session, org_name) if org_name else None
        password = f"pw-{role}-{uuid.uuid4().hex[:8]}"
        user = service.create_user(db.session, email=email, password=password, role=role, organization=org,
                                   display_name=f"{role.title()} {org_name or 'Site'}")
        key = role if org_name != "Other Hospital" else "other_trainee"
        made[key] = Account(email, password, role, user.id)
        if org_name == "General Hospital" and role in ("trainee", "instructor"):
            if cohort is None:
                cohort = Cohort(organization=org, name="Spring intake")
                db.session.add(cohort)
            db.session.add(CohortMember(cohort=cohort, user=user, as_instructor=role == "instructor"))
    db.session.commit()
    return made


@pytest.fixture
def accounts(app, template) -> dict[str, Account]:
    """The accounts every test database already holds (see `create_accounts`)."""
    return template[1]


class Auth:
    """Logs in through the real login form, so tests read like what a person does."""

    def __init__(self, client):
        self.client = client

    def login(self, account: Account | None = None, *, email: str | None = None, password: str | None = None):
        page = self.client.get("/login")
        return self.client.post("/login", data={
            "email": email if email is not None else account.email,
            "password": password if password is not None else account.password,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        })

    def logout(self):
        page = self.client.get("/dashboard")
        return self.client.post("/logout", data={"csrf_token": csrf_from(page.get_data(as_text=True))})


@pytest.fixture
def auth(client):
    return Auth(client)
