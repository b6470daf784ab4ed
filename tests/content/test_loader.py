"""The content loader and validator: every problem named with its file and line."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from academy.content import loader, rules
from tests.conftest import FIXTURE_CONTENT


@pytest.fixture
def tree(tmp_path) -> Path:
    shutil.copytree(FIXTURE_CONTENT, tmp_path / "content")
    return tmp_path / "content"


def problems(tree: Path) -> list[str]:
    bundle = rules.check(loader.load(tree / "curricula", tree / "question_banks"))
    return [str(p) for p in bundle.problems]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_the_fixture_content_is_valid(tree):
    assert problems(tree) == []


def test_a_question_with_an_answer_outside_its_choices_is_reported_with_file_and_line(tree):
    bank = tree / "question_banks/TST1/storage.yaml"
    edit(bank, "answer: c", "answer: e")
    found = problems(tree)
    assert len(found) == 1
    line = next(n for n, text in enumerate(bank.read_text().splitlines(), 1) if "id: tst-sto-004" in text)
    assert found[0].startswith(f"{bank}:{line}:") or found[0].startswith(f"question_banks/TST1/storage.yaml:{line}:") or f":{line}:" in found[0]
    assert "write the one correct choice id" in found[0]


@pytest.mark.parametrize("old,new,message", [
    ("type: multiple", "type: single", "write the one correct choice id"),
    ("answer:\n  - b\n  - c", "answer:\n  - b", "2 or more distinct ids"),
    ("type: numeric", "type: single", "answer is a choice id or a list of them, not a number"),
    ("- id: tst-sto-002", "- id: tst-sto-001", "is used twice"),
    ("references:\n  - 'Storage: RAID levels'", "references: []", "at least 1 item"),
    ("type: truefalse", "type: maybe", "Input should be 'single'"),
    ("difficulty: 3", "difficulty: 9", "less than or equal to 3"),
])
def test_bad_questions_get_clear_messages(tree, old, new, message):
    edit(tree / "question_banks/TST1/storage.yaml", old, new)
    found = problems(tree)
    assert any(message in p for p in found), found


def test_yaml_that_does_not_parse_names_the_line(tree):
    bank = tree / "question_banks/TST1/storage.yaml"
    bank.write_text(bank.read_text() + "\n  - id: [unclosed\n")
    found = problems(tree)
    assert any("YAML does not parse" in p and "storage.yaml:" in p for p in found), found


def test_blueprint_weights_must_match_the_track(tree):
    edit(tree / "question_banks/TST1/blueprint.yaml", "networking: 60, storage: 40", "networking: 50, storage: 50")
    assert any("must equal those in track.yaml" in p for p in problems(tree))


def test_a_domain_too_small_for_two_exams_is_reported(tree):
    edit(tree / "question_banks/TST1/blueprint.yaml", "length: 5", "length: 20")
    found = problems(tree)
    assert any("domain 'networking' has 6 questions; two distinct 20-question exams need at least 24" in p for p in found)


def test_near_duplicate_stems_are_reported(tree):
    bank = tree / "question_banks/TST1/networking.yaml"
    lines = bank.read_text().splitlines()
    stems = [n for n, line in enumerate(lines) if line.startswith("  stem: 'Networking question number")]
    # question 2 asks question 1's question with one word changed
    lines[stems[1]] = lines[stems[0]].replace("service 1", "service one")
    bank.write_text("\n".join(lines) + "\n")
    found = problems(tree)
    assert any("'tst-net-002' repeats 'tst-net-001'" in p for p in found), found


def test_broken_internal_links_and_missing_images_are_reported(tree):
    lesson = tree / "curricula/TST1/modules/basics/01-ports.md"
    edit(lesson, "lesson:basics/02-bytes", "lesson:basics/99-nothing")
    edit(lesson, "![the flow](flow.svg)", "![the flow](missing.svg) [c](console:teleport)")
    found = problems(tree)
    assert any("lesson 'basics/99-nothing' does not exist" in p and "01-ports.md:" in p for p in found)
    assert any("image 'missing.svg' is not a file" in p for p in found)
    assert any("console 'teleport' does not exist" in p for p in found)


def test_an_svg_with_script_is_refused(tree):
    (tree / "curricula/TST1/modules/basics/flow.svg").write_text('<svg><script>alert(1)</script></svg>')
    assert any("SVG diagrams may hold shapes and text only" in p for p in problems(tree))


def test_placeholder_and_empty_lessons_are_refused(tree):
    (tree / "curricula/TST1/modules/basics/03-later.md").write_text("---\ntitle: Later\n---\nTODO: write this\n")
    found = problems(tree)
    assert any("03-later.md" in p and "too short" in p for p in found)


def test_a_lesson_without_front_matter_is_reported(tree):
    (tree / "curricula/TST1/modules/basics/03-bare.md").write_text("Just text.\n")
    assert any("03-bare.md:1: missing front matter" in p for p in problems(tree))


def test_a_module_in_an_unknown_domain_is_reported(tree):
    edit(tree / "curricula/TST1/modules/basics/module.md", "domain: networking", "domain: astrology")
    assert any("domain 'astrology' is not a domain of TST1" in p for p in problems(tree))


def test_an_unquoted_colon_in_a_reference_is_read_as_the_text_the_author_meant(tree):
    edit(tree / "question_banks/TST1/storage.yaml", "- 'Storage: RAID levels'", "- IHE RAD TF-2: RAD-10 Storage Commitment")
    bundle = loader.load(tree / "curricula", tree / "question_banks")
    raid = next(q for q in bundle.tracks["TST1"].questions if q.spec.id == "tst-sto-002")
    assert raid.spec.references == ["IHE RAD TF-2: RAD-10 Storage Commitment"]
