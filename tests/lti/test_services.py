"""The LTI services without HTTP: targets, URL rules, keys, the state store, account linking, the score
outbox (queued once, in the submission's transaction, never breaking it)."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from academy.extensions import db
from academy.lti import keys, launches, registrations, scores
from academy.lti.storage import DatabaseLaunchData, purge_expired
from academy.models import LtiLaunch, LtiLaunchData, LtiRegistration, LtiScore, Membership, utcnow
from tests.lti.platform import LTI, SCORE_SCOPE


@pytest.mark.parametrize("claims, expected", [
    ({LTI + "target_link_uri": "https://academy.example.org/labs/tst-echo"}, ("lab", "tst-echo")),
    ({LTI + "target_link_uri": "https://academy.example.org/labs/tst-echo/"}, ("lab", "tst-echo")),
    ({LTI + "target_link_uri": "https://academy.example.org/exams/CPA/start"}, ("exam", "CPA")),
    ({LTI + "target_link_uri": "https://x/", LTI + "custom": {"pacs_target": "lab:tst-order"}}, ("lab", "tst-order")),
    ({LTI + "target_link_uri": "https://x/labs/a", LTI + "custom": {"pacs_target": "exam:TST1"}}, ("exam", "TST1")),
])
def test_the_target_comes_from_the_custom_parameter_or_the_link(claims, expected):
    target = launches.parse_target(claims)
    assert (target.kind, target.key) == expected


@pytest.mark.parametrize("uri", ["https://x/labs/../organization", "https://x/labs/a/b", "https://x/exams/TST1",
                                 "https://x/runs/1", "", "https://x/labs/<script>"])
def test_anything_else_is_not_a_target(uri):
    with pytest.raises(launches.LaunchRefused) as refused:
        launches.parse_target({LTI + "target_link_uri": uri, LTI + "custom": {"pacs_target": "site:admin"}})
    assert refused.value.status == 400


def test_platform_urls_must_be_https_except_on_this_machine():
    assert registrations.check_url(" https://lms.example.org/auth ", "x") == "https://lms.example.org/auth"
    assert registrations.check_url("http://127.0.0.1:8080/token", "x")
    for bad in ("http://lms.example.org", "javascript:alert(1)", "https://", "file:///etc/passwd", "https://" + "a" * 500):
        with pytest.raises(registrations.RegistrationError):
            registrations.check_url(bad, "x")
    assert registrations.parse_deployments("1, 2\n2\n 3 ") == ["1", "2", "3"]


def test_each_registration_gets_its_own_key_and_only_the_public_half_is_published():
    first, second = keys.generate(), keys.generate()
    assert first.kid != second.kid and "PRIVATE" not in repr(first)
    jwk = keys.public_jwk(first.public_pem, first.kid)
    assert jwk["kid"] == first.kid and "d" not in jwk and jwk["n"] and jwk["e"] == "AQAB"


def test_a_stored_value_is_taken_once_and_expires(app):
    with app.app_context():
        now = utcnow()
        storage = DatabaseLaunchData(db.session, lambda: now)
        storage.set_value("lti1p3-state-1", {"nonce": "n"})
        assert storage.check_value("lti1p3-state-1")
        assert storage.take("lti1p3-state-1") == {"nonce": "n"}
        assert storage.take("lti1p3-state-1") is None
        storage.set_value("lti1p3-state-2", {"nonce": "m"}, exp=86400)  # capped at ten minutes
        later = DatabaseLaunchData(db.session, lambda: now + timedelta(minutes=11))
        assert later.get_value("lti1p3-state-2") is None and later.take("lti1p3-state-2") is None
        storage.set_value("lti1p3-state-3", True)
        assert purge_expired(db.session, now + timedelta(minutes=11)) == 1
        assert db.session.scalar(select(func.count()).select_from(LtiLaunchData)) == 0


def make_registration(session, organization_name="General Hospital") -> LtiRegistration:
    from academy.models import Organization

    org = session.scalar(select(Organization).where(Organization.name == organization_name))
    return registrations.create(session, org, name="LMS", issuer="https://lms.example.org", client_id="c1",
                                deployment_ids="d1", auth_login_url="https://lms.example.org/auth",
                                access_token_url="https://lms.example.org/token",
                                key_set_url="https://lms.example.org/jwks", created_by=None)


def claims(sub="u1", target="https://academy.example.org/labs/tst-echo", **more):
    return {"sub": sub, "name": "Grace Hopper", LTI + "deployment_id": "d1", LTI + "target_link_uri": target,
            LTI + "resource_link": {"id": "r1"},
            "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
                "scope": [SCORE_SCOPE], "lineitem": "https://lms.example.org/lineitems/1/lineitem"}, **more}


def test_a_first_launch_makes_a_trainee_of_the_registrations_organisation(app):
    with app.app_context():
        registration = make_registration(db.session)
        outcome = launches.complete(db.session, registration, claims(), utcnow())
        user = outcome.user
        membership = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
        assert membership.role.value == "trainee" and membership.organization_id == registration.organization_id
        assert user.display_name == "Grace Hopper" and user.password_hash == launches.NO_PASSWORD
        again = launches.complete(db.session, registration, claims(name="Someone Else"), utcnow())
        assert again.user.id == user.id and outcome.launch.lineitem_url.endswith("/lineitem")


def test_the_same_sub_on_another_registration_is_another_person(app):
    with app.app_context():
        first = make_registration(db.session)
        from academy.models import Organization

        other = db.session.scalar(select(Organization).where(Organization.name == "Other Hospital"))
        second = registrations.create(db.session, other, name="LMS", issuer="https://lms.example.org", client_id="c2",
                                      deployment_ids="d1", auth_login_url="https://lms.example.org/auth",
                                      access_token_url="https://lms.example.org/token",
                                      key_set_url="https://lms.example.org/jwks", created_by=None)
        a = launches.complete(db.session, first, claims(), utcnow()).user
        b = launches.complete(db.session, second, claims(), utcnow()).user
        assert a.id != b.id and b.organization.name == "Other Hospital"


def test_a_launch_without_the_score_scope_or_with_a_plain_http_line_item_sends_nothing(app):
    with app.app_context():
        registration = make_registration(db.session)
        ags = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
        no_scope = launches.complete(db.session, registration, claims(**{ags: {"scope": [], "lineitem": "https://l/x"}}), utcnow())
        plain = launches.complete(db.session, registration, claims(**{ags: {"scope": [SCORE_SCOPE],
                                                                           "lineitem": "http://lms.example.org/x"}}), utcnow())
        assert no_scope.launch.lineitem_url == "" and plain.launch.lineitem_url == ""


def test_a_score_is_queued_once_per_line_item_and_submission(app):
    from academy.models import Lab, LabRun

    with app.app_context():
        registration = make_registration(db.session)
        user = launches.complete(db.session, registration, claims(), utcnow()).user
        launches.complete(db.session, registration, claims(), utcnow())  # the same link twice: one line item
        lab = db.session.scalar(select(Lab).where(Lab.key == "tst-echo"))
        run = LabRun(user_id=user.id, lab=lab, lab_version=1, spec=lab.spec, state="submitted", score=7,
                     max_score=10, finished_at=utcnow())
        db.session.add(run)
        db.session.flush()
        scores.queue_for_run(db.session, run, utcnow())
        scores.queue_for_run(db.session, run, utcnow())
        rows = db.session.scalars(select(LtiScore)).all()
        assert len(rows) == 1 and (rows[0].score_given, rows[0].score_maximum) == (7, 10)
        body = json.loads(scores.grade_of(rows[0]).get_value())
        assert body["userId"] == "u1" and body["activityProgress"] == "Completed"
        assert body["gradingProgress"] == "FullyGraded" and body["timestamp"].endswith("Z")


def test_a_failure_while_queueing_never_breaks_the_submission(app, monkeypatch, caplog):
    from academy.models import Lab, LabRun

    with app.app_context():
        registration = make_registration(db.session)
        user = launches.complete(db.session, registration, claims(), utcnow()).user
        lab = db.session.scalar(select(Lab).where(Lab.key == "tst-echo"))
        run = LabRun(user_id=user.id, lab=lab, lab_version=1, spec=lab.spec, state="submitted", score=7, max_score=10)
        db.session.add(run)
        db.session.flush()
        monkeypatch.setattr(scores, "_queue", lambda *a, **k: 1 / 0)
        scores.queue_for_run(db.session, run, utcnow())  # no exception
        db.session.commit()
        assert db.session.get(LabRun, run.id).score == 7
        assert db.session.scalar(select(func.count()).select_from(LtiLaunch)) == 1
    assert "could not be queued" in caplog.text


def test_an_unreachable_platform_is_retried_with_growing_waits(app):
    with app.app_context():
        registration = make_registration(db.session)
        registration.access_token_url = "http://127.0.0.1:9/token"  # nothing listens on the discard port
        launch = launches.complete(db.session, registration, claims(), utcnow()).launch
        now = utcnow()
        db.session.add(LtiScore(launch_id=launch.id, source="run:1", score_given=1, score_maximum=2, timestamp=now,
                                next_attempt_at=now))
        db.session.commit()
        assert scores.send_due(db.session, now) == (0, 1)
        row = db.session.scalar(select(LtiScore))
        assert row.attempts == 1 and row.next_attempt_at == now + timedelta(minutes=2) and row.last_error
        assert scores.send_due(db.session, now + timedelta(minutes=2)) == (0, 1)
        assert db.session.scalar(select(LtiScore)).next_attempt_at == now + timedelta(minutes=6)
        assert scores.summary(db.session, [registration.id])[registration.id]["pending"] == 1
