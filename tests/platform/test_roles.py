"""The role matrix: every route, opened by every role, is either allowed or refused — never both ways.

EXPECTED lists every route of the site. A route added without a line here fails
`test_every_route_is_in_the_matrix`, so nobody can add a page without deciding who may open it.
"""
from __future__ import annotations

import pytest

ROLES = ["anonymous", "trainee", "instructor", "org_admin", "site_admin"]
EVERYONE = {"anonymous", "trainee", "instructor", "org_admin", "site_admin"}
SIGNED_IN = EVERYONE - {"anonymous"}

# path -> roles that get the page (200); the others get 403, and anonymous users a redirect to /login.
EXPECTED = {
    "/": {"anonymous"},  # signed-in users are sent on to their dashboard
    "/login": {"anonymous"},
    "/healthz": EVERYONE,
    "/dashboard": SIGNED_IN,
    "/account/password": SIGNED_IN,
    "/cohorts": {"instructor", "org_admin"},
    "/organization": {"org_admin"},
    "/site": {"site_admin"},
}
POST_ONLY = {"/logout"}
PUBLIC_PREFIXES = ("/static/", "/bootstrap/")


def test_every_route_is_in_the_matrix(app):
    routes = {rule.rule for rule in app.url_map.iter_rules() if not rule.rule.startswith(PUBLIC_PREFIXES)}
    missing = routes - set(EXPECTED) - POST_ONLY
    assert not missing, f"routes without an access decision in tests/platform/test_roles.py: {sorted(missing)}"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_the_pages_meant_for_it(client, auth, accounts, role):
    if role != "anonymous":
        assert auth.login(accounts[role]).status_code == 302
    for path, allowed in EXPECTED.items():
        response = client.get(path)
        if role in allowed:
            assert response.status_code == 200, f"{role} should open {path}"
        elif role == "anonymous":
            assert response.status_code == 302 and "/login" in response.headers["Location"], path
        elif path in ("/", "/login"):
            assert response.status_code == 302, f"{role} is sent on from {path}"
        else:
            assert response.status_code == 403, f"{role} must not open {path}"


def test_an_instructor_sees_only_the_cohorts_they_teach(app, client, auth, accounts):
    from academy.auth import service
    from academy.extensions import db
    from academy.models import Cohort, Organization
    from sqlalchemy import select

    with app.app_context():
        org = db.session.scalar(select(Organization).where(Organization.name == "General Hospital"))
        db.session.add(Cohort(organization=org, name="Night shift"))
        other = service.get_or_create_organization(db.session, "Other Hospital")
        db.session.add(Cohort(organization=other, name="Their cohort"))
        db.session.commit()
    auth.login(accounts["instructor"])
    body = client.get("/cohorts").get_data(as_text=True)
    assert "Spring intake" in body and "Night shift" not in body and "Their cohort" not in body
    auth.logout()
    auth.login(accounts["org_admin"])
    body = client.get("/cohorts").get_data(as_text=True)
    assert "Spring intake" in body and "Night shift" in body and "Their cohort" not in body


def test_an_org_admin_sees_only_their_own_organisations_people(client, auth, accounts):
    auth.login(accounts["org_admin"])
    body = client.get("/organization").get_data(as_text=True)
    assert accounts["trainee"].email in body
    assert accounts["other_trainee"].email not in body


def test_the_navigation_fits_the_role(client, auth, accounts):
    auth.login(accounts["trainee"])
    body = client.get("/dashboard").get_data(as_text=True)
    assert 'href="/dashboard"' in body and 'href="/cohorts"' not in body and 'href="/site"' not in body
    auth.logout()
    auth.login(accounts["org_admin"])
    body = client.get("/dashboard").get_data(as_text=True)
    assert 'href="/cohorts"' in body and 'href="/organization"' in body and 'href="/site"' not in body
