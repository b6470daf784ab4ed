"""What `python app.py` does before it serves: schema, bundled content, and the demo organisation."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from sqlalchemy import func, select

from academy import audit, content, database
from academy.auth import service
from academy.extensions import db
from academy.models import Cohort, CohortMember, Organization

DEMO_ORGANIZATION = "Demo General Hospital"
DEMO_ACCOUNTS = [  # (role, email, display name)
    ("org_admin", "admin@demo-hospital.example.org", "Dana Admin"),
    ("instructor", "instructor@demo-hospital.example.org", "Ines Instructor"),
    ("trainee", "trainee@demo-hospital.example.org", "Theo Trainee"),
]


@dataclass(frozen=True)
class DemoAccount:
    role: str
    email: str
    password: str


def prepare(app: Flask) -> list[DemoAccount]:
    """Migrate, import content, and on an empty database create the demo accounts (returned once)."""
    database.upgrade(app)
    with app.app_context():
        content.import_bundled(app)
        return create_demo_organization()


def create_demo_organization() -> list[DemoAccount]:
    if db.session.scalar(select(func.count()).select_from(Organization)):
        return []
    org = service.get_or_create_organization(db.session, DEMO_ORGANIZATION)
    cohort = Cohort(organization=org, name="New PACS analysts")
    db.session.add(cohort)
    accounts = []
    for role, email, name in DEMO_ACCOUNTS:
        password = service.random_password()
        user = service.create_user(db.session, email=email, password=password, role=role, display_name=name,
                                   organization=org)
        if role in ("instructor", "trainee"):
            db.session.add(CohortMember(cohort=cohort, user=user, as_instructor=role == "instructor"))
        accounts.append(DemoAccount(role, email, password))
    audit.record("demo.created", DEMO_ORGANIZATION, organization_id=org.id)
    db.session.commit()
    return accounts
