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
