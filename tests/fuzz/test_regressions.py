"""The smallest reproductions of what the fuzzers found, one test each."""
from __future__ import annotations

from tests.fuzz.strategies import check_content, copy_fixture_tree


def test_a_control_character_in_a_yaml_file_is_a_problem_not_a_crash(tmp_path):
    root = copy_fixture_tree(tmp_path)
    lab = root / "curricula/TST1/labs/tst-echo.yaml"
    lab.write_bytes(b"\x00" + lab.read_bytes())
    problems = check_content(root)
    assert any(p.path == lab and "special characters" in p.message for p in problems)


def test_a_control_character_in_front_matter_is_a_problem_not_a_crash(tmp_path):
    root = copy_fixture_tree(tmp_path)
    module = root / "curricula/TST1/modules/basics/module.md"
    module.write_text(module.read_text().replace("title:", "ti\x07tle:", 1))
    problems = check_content(root)
    assert any(p.path == module and "special characters" in p.message for p in problems)


def test_an_id_in_a_url_too_large_for_the_database_is_not_found(client, accounts):
    from tests.conftest import Auth

    Auth(client).login(accounts["trainee"])
    for url in ("/runs/9223372036854775808", "/exams/18446744073709551617", "/runs/100000000000000000000/console/viewer"):
        assert client.get(url).status_code == 404, url
    assert client.get("/runs/9223372036854775807").status_code == 404  # the largest that fits: looked up


def _logged_in(client, account):
    from tests.conftest import Auth, csrf_from

    Auth(client).login(account)
    return csrf_from(client.get("/dashboard").get_data(as_text=True))


BIG = "99999999999999999999999"  # beyond the database's 64-bit integers


def test_an_id_in_a_form_too_large_for_the_database_is_a_bad_request_not_a_crash(app, client, accounts):
    from academy.extensions import db
    from academy.models import Attempt

    csrf = _logged_in(client, accounts["org_admin"])
    for url, data in [("/practice/TST1/answer", {"version_id": BIG, "answer": "a"}),
                      ("/review/answer", {"version_id": BIG}),
                      ("/organization", {"action": "deactivate", "user_id": BIG}),
                      ("/organization", {"action": "invite", "invite-email": "a@b.org", "invite-cohort": BIG,
                                         "invite-role": "trainee"}),
                      ("/organization/cohorts/1", {"action": "add-member", "member-user_id": BIG})]:
        assert client.post(url, data={**data, "csrf_token": csrf}).status_code in (400, 404), (url, data)
    with app.app_context():
        assert db.session.query(Attempt).count() == 0


def test_a_cohort_that_is_not_a_number_in_the_invite_form_is_refused(client, accounts):
    csrf = _logged_in(client, accounts["org_admin"])
    for cohort in ("abc", "²", "1.5"):
        response = client.post("/organization", data={"action": "invite", "invite-email": "new@general.example.org",
                                                       "invite-cohort": cohort, "invite-role": "trainee",
                                                       "csrf_token": csrf})
        assert response.status_code == 400, cohort


def test_yaml_nested_thousands_deep_is_a_problem_not_a_recursion_error(tmp_path):
    root = copy_fixture_tree(tmp_path)
    bank = root / "question_banks/TST1/storage.yaml"
    bank.write_text(bank.read_text() + "\nextra: " + "[" * 3000 + "]" * 3000 + "\n")
    module = root / "curricula/TST1/modules/basics/module.md"
    module.write_text(module.read_text().replace("minutes: 20", "minutes: " + "{a: " * 600 + "1" + "}" * 600))
    problems = check_content(root)
    assert any(p.path == bank and "nested" in p.message for p in problems)
    assert any(p.path == module and "nested" in p.message for p in problems)
