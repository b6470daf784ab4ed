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
