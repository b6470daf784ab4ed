"""Every route of the site, reviewed: who may use it, and that state-changing requests need a CSRF token.

ROUTES classifies every endpoint and says how to fill its URL parameters from the `world` fixture (real
rows: the General trainee's exam, run, certificate, cohort...). A route that is not in ROUTES fails
`test_every_route_is_classified`: whoever adds a page must decide here who may open it. The role sets are
compared with what `role_required` actually enforces, so the review cannot drift from the code.

tests/platform/test_roles.py checks the role matrix with ids that do not exist; this file works on real
objects, covers every method of every rule, and checks CSRF and "nothing changed" on refusals.
"""
from __future__ import annotations

from academy.access import ANY_ROLE
from tests.security.conftest import login, row_counts, token_of

PUBLIC = "public"  # no login needed (reason given with each)
LOGGED_IN = "logged-in"  # any account, whatever its role (login_required without role_required)
ANY = frozenset(ANY_ROLE)
STAFF = frozenset({"instructor", "org_admin"})
ORG_ADMIN = frozenset({"org_admin"})
SITE_ADMIN = frozenset({"site_admin"})

TRACK = {"code": "track"}
MODULE = {"code": "track", "module": "module"}
EXAM = {"exam_id": "exam_id"}
RUN = {"run_id": "run_id"}
COHORT = {"cohort_id": "cohort_id"}
TRAINEE = {"user_id": "trainee"}  # a name in world.accounts means that account's user id
FILE = {"file_id": "own_file_id"}  # a file of the General organisation's authored tree
BANK = {"file_id": "own_bank_id"}
UID = {"uid": "=1.2.826.0.1.3680043.2.1125.1"}  # "=..." is a literal

# endpoint -> (who may use it, {URL parameter: where its value comes from}, reason when public)
ROUTES: dict[str, tuple] = {
    # public pages, each with the reason it needs no login
    "learn.index": (PUBLIC, {}, "the landing page; signed-in users are sent on to their dashboard"),
    "auth.login": (PUBLIC, {}, "the login form itself"),
    "health.healthz": (PUBLIC, {}, "load balancer probe; says only ok/not ok"),
    "static": (PUBLIC, {"filename": "=academy.css"}, "the site's own CSS/JS/icons"),
    "bootstrap.static": (PUBLIC, {"filename": "=css/bootstrap.min.css"}, "Bootstrap served locally (CSP 'self')"),
    "records.verify": (PUBLIC, {"code": "verification_code"}, "an employer checks a certificate; shows only what it states"),
    "org.accept_invitation": (PUBLIC, {"token": "invitation_token"}, "the invitee has no account yet; the token is the key"),
    "lti.login": (PUBLIC, {}, "an LMS starts an LTI 1.3 launch here; only registered platforms get any further"),
    "lti.launch": (PUBLIC, {}, "the LMS posts its signed id_token here; signature, single-use state and nonce are the check"),
    "lti.jwks": (PUBLIC, {"kid": "lti_kid"}, "the tool's public key, which the LMS fetches; public by nature"),
    # any signed-in account
    "auth.logout": (LOGGED_IN, {}, None),
    "auth.change_password": (LOGGED_IN, {}, None),
    # learners (every role learns)
    "learn.dashboard": (ANY, {}, None),
    "learn.track": (ANY, TRACK, None),
    "learn.module": (ANY, MODULE, None),
    "learn.lesson": (ANY, {**MODULE, "lesson": "lesson"}, None),
    "learn.asset": (ANY, {**MODULE, "name": "asset"}, None),
    "learn.onboarding_paths": (ANY, {}, None),
    "learn.onboarding_path": (ANY, {"key": "path_key"}, None),
    "exams.practice_home": (ANY, {}, None),
    "exams.practice": (ANY, TRACK, None),
    "exams.practice_answer": (ANY, TRACK, None),
    "exams.flag_question": (ANY, {"version_id": "version_id"}, None),
    "exams.report_question": (ANY, {"version_id": "version_id"}, None),
    "exams.review": (ANY, {}, None),
    "exams.review_answer": (ANY, {}, None),
    "exams.exams_home": (ANY, {}, None),
    "exams.start_exam": (ANY, TRACK, None),
    "exams.exam_overview": (ANY, EXAM, None),
    "exams.exam_item": (ANY, {**EXAM, "position": "=1"}, None),
    "exams.save_exam_item": (ANY, {**EXAM, "position": "=1"}, None),
    "exams.submit_exam": (ANY, EXAM, None),
    "exams.exam_results": (ANY, EXAM, None),
    "exams.standing": (ANY, {}, None),
    "labs.catalogue": (ANY, {}, None),
    "labs.lab": (ANY, {"key": "lab"}, None),
    "labs.start": (ANY, {"key": "lab"}, None),
    "labs.run": (ANY, RUN, None),
    "labs.check": (ANY, RUN, None),
    "labs.hint": (ANY, {**RUN, "check_id": "=echo"}, None),
    "labs.reset": (ANY, RUN, None),
    "labs.submit": (ANY, RUN, None),
    "labs.abandon": (ANY, RUN, None),
    "labs.run_trace": (ANY, RUN, None),
    "labs.run_dicom": (ANY, RUN, None),
    "labs.run_admin": (ANY, RUN, None),
    "labs.run_ris": (ANY, RUN, None),
    "labs.run_viewer_page": (ANY, RUN, None),
    "labs.run_viewer_image": (ANY, {**RUN, **UID}, None),
    "labs.practice_dicom": (ANY, {}, None),
    "labs.practice_admin": (ANY, {}, None),
    "labs.practice_ris": (ANY, {}, None),
    "labs.practice_viewer_page": (ANY, {}, None),
    "labs.practice_viewer_image": (ANY, UID, None),
    "records.mine": (ANY, {}, None),
    "records.issue": (ANY, {}, None),
    "records.certificate_pdf": (ANY, {"certificate_id": "certificate_id"}, None),
    "records.my_statements": (ANY, {}, None),
    # the people who follow trainees
    "org.cohorts": (STAFF, {}, None),
    "org.cohort": (STAFF, COHORT, None),
    "org.cohort_csv": (STAFF, COHORT, None),
    "org.sign_off": (STAFF, {**COHORT, "assignment_id": "assignment_id", **TRAINEE}, None),
    "org.trainee": (STAFF, TRAINEE, None),
    "records.trainee_statements": (STAFF, TRAINEE, None),
    "exams.item_analysis": (STAFF, TRACK, None),
    # authoring: an organisation's own content tree (file ids are checked against the organisation)
    "authoring.index": (STAFF, {}, None),
    "authoring.new": (STAFF, {"kind": "=track"}, None),
    "authoring.copy": (STAFF, {}, None),
    "authoring.upload_asset": (STAFF, {}, None),
    "authoring.edit": (STAFF, FILE, None),
    "authoring.preview": (STAFF, {}, None),
    "authoring.raw": (STAFF, {"path": "own_asset_path"}, None),
    "authoring.history": (STAFF, FILE, None),
    "authoring.restore": (STAFF, {**FILE, "number": "=1"}, None),
    "authoring.delete": (STAFF, FILE, None),
    "authoring.try_lab": (STAFF, FILE, None),
    "authoring.new_question": (STAFF, {}, None),
    "authoring.edit_question": (STAFF, {**BANK, "question_id": "own_question_id"}, None),
    "authoring.publish_tree": (STAFF, {}, None),
    "authoring.export": (STAFF, {}, None),
    "authoring.import_zip": (STAFF, {}, None),
    # organisation administrators
    "org.organization": (ORG_ADMIN, {}, None),
    "org.audit_log": (ORG_ADMIN, {}, None),
    "org.readiness": (ORG_ADMIN, {}, None),
    "lti.platforms": (ORG_ADMIN, {}, None),
    "lti.remove_platform": (ORG_ADMIN, {"registration_id": "lti_registration_id"}, None),
    "learn.copy_path": (ORG_ADMIN, {"key": "path_key"}, None),
    "learn.edit_path": (ORG_ADMIN, {"key": "own_path_key"}, None),
    # the site administrator
    "org.site": (SITE_ADMIN, {}, None),
}
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# Cross-site POSTs from an LMS (LTI 1.3 login initiation and launch): exempt from the CSRF token, because the
# LMS cannot have one; the platform's signature on the id_token, the single-use state and its nonce protect them.
CSRF_EXEMPT = {"lti.login": "academy.lti.routes.login", "lti.launch": "academy.lti.routes.launch"}
# GET routes that refuse a request without the parameters only an LMS sends
REFUSED_WITHOUT_PARAMETERS = {"lti.login"}
ROLE_ORDER = ("trainee", "instructor", "org_admin", "site_admin")


def rules(app):
    return [r for r in app.url_map.iter_rules()]


def url_for_rule(app, rule, world) -> str:
    from flask import url_for

    _, params, _ = ROUTES[rule.endpoint]
    values = {}
    for name, source in params.items():
        if source.startswith("="):
            values[name] = source[1:]
        elif source in world.accounts:
            values[name] = world.accounts[source].id
        else:
            values[name] = world.ids[source]
    assert set(values) == set(rule.arguments), f"{rule.endpoint}: fill {sorted(rule.arguments)}"
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def actor_for(access) -> str | None:
    if access in (PUBLIC,):
        return None
    if access == LOGGED_IN:
        return "trainee"
    return next(role for role in ROLE_ORDER if role in access)


class Clients:
    """One logged-in client per account, made on first use (the login rate limit stays far away)."""

    def __init__(self, app, world):
        self.app, self.world, self.made = app, world, {}

    def __call__(self, key):
        if key not in self.made:
            self.made[key] = login(self.app, self.world.accounts[key])
        return self.made[key]


def test_every_route_is_classified(app):
    endpoints = {rule.endpoint for rule in rules(app)}
    unreviewed = endpoints - set(ROUTES)
    assert not unreviewed, f"new routes: classify them in tests/security/test_route_inventory.py: {sorted(unreviewed)}"
    assert not set(ROUTES) - endpoints, f"routes gone: remove them from ROUTES: {sorted(set(ROUTES) - endpoints)}"
    for endpoint, (access, _, reason) in ROUTES.items():
        enforced = getattr(app.view_functions[endpoint], "allowed_roles", None)
        if access in (PUBLIC, LOGGED_IN):
            assert enforced is None, f"{endpoint} is reviewed as {access} but role_required says {sorted(enforced)}"
            assert access != PUBLIC or reason, f"{endpoint}: say why it is public"
        else:
            assert enforced == access, f"{endpoint}: reviewed for {sorted(access)}, the code allows {sorted(enforced)}"


def test_only_get_and_post_are_used(app):
    for rule in rules(app):
        assert rule.methods <= {"GET", "HEAD", "OPTIONS", "POST"}, f"{rule.rule}: review {rule.methods} here"


def test_every_state_changing_route_refuses_a_request_without_a_csrf_token(app, world):
    clients = Clients(app, world)
    checked = []
    for rule in rules(app):
        if not rule.methods & STATE_CHANGING:
            continue
        access = ROUTES[rule.endpoint][0]
        actor = actor_for(access)
        client = clients(actor) if actor else app.test_client()
        path = url_for_rule(app, rule, world)
        before = row_counts(app)
        if rule.endpoint in CSRF_EXEMPT:  # no token, but without a platform's signed request: refused, no change
            assert client.post(path, data={"action": "cohort", "email": "a@b.org"}).status_code == 400, rule.endpoint
            assert row_counts(app) == before, f"{rule.endpoint}: a refused POST changed the database"
            continue
        response = client.post(path, data={"action": "cohort", "cohort-name": "x", "email": "a@b.org",
                                           "password": "irrelevant", "subject": "track:TST1"})
        assert response.status_code == 400, f"{rule.endpoint} ({actor}) accepted a POST without CSRF: {response.status_code}"
        assert "not sent from this site" in response.get_data(as_text=True), rule.endpoint
        assert row_counts(app) == before, f"{rule.endpoint}: a refused POST changed the database"
        # a token from another session is no better than none
        foreign = token_of(clients("other_trainee") if actor != "other_trainee" else app.test_client())
        response = client.post(path, data={"csrf_token": foreign})
        assert response.status_code == 400, f"{rule.endpoint} accepted another session's CSRF token"
        checked.append(rule.endpoint)
    assert len(checked) >= 30, checked


def test_only_the_lti_endpoints_are_exempt_from_the_csrf_check(app):
    exempt = set(app.extensions["csrf"]._exempt_views)
    assert exempt == set(CSRF_EXEMPT.values()), f"CSRF-exempt views: {sorted(exempt)}"
    for endpoint in CSRF_EXEMPT:
        assert ROUTES[endpoint][0] == PUBLIC


def test_anonymous_users_are_sent_to_login_everywhere_but_the_public_pages(app, world):
    client = app.test_client()
    token = token_of(client, "/login")
    for rule in rules(app):
        access = ROUTES[rule.endpoint][0]
        path = url_for_rule(app, rule, world)
        for method in sorted(rule.methods & {"GET", "POST"}):
            response = (client.get(path) if method == "GET" else client.post(path, data={"csrf_token": token}))
            if access == PUBLIC:
                assert not (response.status_code == 302 and "/login" in response.headers.get("Location", "")
                            and rule.endpoint != "learn.index"), f"public {rule.endpoint} asks for a login"
                assert response.status_code < 500, (rule.endpoint, method, response.status_code)
                continue
            assert response.status_code in (302, 401, 403), f"anonymous {method} {path}: {response.status_code}"
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/login"), (path, response.headers["Location"])


def test_a_role_gets_nothing_from_the_routes_not_meant_for_it(app, world):
    """With real objects in the URL (the General cohort, its trainee, a real assignment): 403, never data."""
    for role in ROLE_ORDER:
        check_role_is_refused(app, world, role)


def check_role_is_refused(app, world, role):
    client = login(app, world.accounts[role])
    token = token_of(client)
    secrets_of_others = [world.names["trainee"][1]] if role == "trainee" else []
    for rule in rules(app):
        access = ROUTES[rule.endpoint][0]
        if access in (PUBLIC, LOGGED_IN) or role in access:
            continue
        path = url_for_rule(app, rule, world)
        for method in sorted(rule.methods & {"GET", "POST"}):
            before = row_counts(app) if method == "POST" else None
            response = client.get(path) if method == "GET" else client.post(path, data={"csrf_token": token})
            assert response.status_code in (403, 404), f"{role} {method} {path}: {response.status_code}"
            body = response.get_data(as_text=True)
            for secret in secrets_of_others:
                assert secret not in body, f"{role} {method} {path} shows {secret}"
            if before is not None:
                assert row_counts(app) == before, f"{role} {method} {path} changed the database"


def test_a_post_with_a_valid_token_from_the_right_role_is_not_refused_by_the_csrf_check(app, world):
    """The other half of the CSRF check: with the token, the same POSTs reach their views (no 400 'expired')."""
    clients = Clients(app, world)
    for rule in rules(app):
        if "POST" not in rule.methods or rule.endpoint in ("auth.logout", "auth.login", "org.accept_invitation",
                                                           *CSRF_EXEMPT):
            continue
        actor = actor_for(ROUTES[rule.endpoint][0])
        client = clients(actor)
        response = client.post(url_for_rule(app, rule, world), data={"csrf_token": token_of(client)})
        assert "not sent from this site" not in response.get_data(as_text=True), rule.endpoint


NOT_FOUND_ON_PURPOSE = {"labs.run_viewer_image", "labs.practice_viewer_image"}  # the UID in ROUTES is made up


def test_the_fill_map_points_at_real_objects_the_right_role_can_open(app, world):
    """Otherwise the refusals above would be 404s for objects that do not exist, proving nothing."""
    clients = Clients(app, world)
    for rule in rules(app):
        if "GET" not in rule.methods:
            continue
        actor = actor_for(ROUTES[rule.endpoint][0])
        client = clients(actor) if actor else app.test_client()
        response = client.get(url_for_rule(app, rule, world))
        expected = (404,) if rule.endpoint in NOT_FOUND_ON_PURPOSE else (200, 302)
        if rule.endpoint in REFUSED_WITHOUT_PARAMETERS:
            expected = (400,)
        assert response.status_code in expected, f"{actor} GET {rule.endpoint}: {response.status_code}"
