"""The bundled curricula and question banks: valid, complete, balanced and importable."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from academy.content import rules, stats, validate
from academy.extensions import db
from academy.models import Lesson, Question, Track

BUNDLE = validate()
TRACKS = sorted(BUNDLE.tracks)


def test_the_bundled_content_has_no_problems():
    assert [str(p) for p in BUNDLE.problems] == []


def test_the_four_tracks_of_the_ladder_are_there_and_cpsm_requires_cpia_and_cpsa():
    assert TRACKS == ["CPA", "CPIA", "CPSA", "CPSM"]
    assert sorted(BUNDLE.tracks["CPSM"].spec.requires) == ["CPIA", "CPSA"]
    for track in BUNDLE.tracks.values():
        assert "not affiliated" in track.spec.description


@pytest.mark.parametrize("code", TRACKS)
def test_every_domain_has_modules_lessons_and_questions(code):
    track = BUNDLE.tracks[code]
    for domain in track.spec.domains:
        modules = [m for m in track.modules if m.spec.domain == domain.key]
        assert modules, f"{code} domain {domain.key} has no module"
        assert all(len(m.lessons) >= 2 for m in modules), f"{code} {domain.key}: a module with fewer than 2 lessons"
        assert any(q.domain == domain.key for q in track.questions), f"{code} domain {domain.key} has no questions"


@pytest.mark.parametrize("code", TRACKS)
def test_every_domain_has_a_lab_and_every_track_at_least_eight(code):
    track = BUNDLE.tracks[code]
    assert len(track.labs) >= 8
    assert {d.key for d in track.spec.domains} == {lab.spec.domain for lab in track.labs}
    levels = {lab.spec.level for lab in track.labs}
    assert {"guided", "break-fix"} <= levels, f"{code} needs guided and break-fix labs"


@pytest.mark.parametrize("code", TRACKS)
def test_each_bank_can_fill_two_distinct_exams_in_proportion_to_the_blueprint(code):
    figures = stats.track_stats(BUNDLE)["tracks"][code]
    track = BUNDLE.tracks[code]
    assert figures["questions"] >= 2 * track.blueprint.exam.length >= 150
    for domain in track.spec.domains:
        count = figures["questions_by_domain"][domain.key]
        assert count >= 2 * rules.exam_share(track.blueprint.exam.length, domain.weight)
        assert abs(100 * count / figures["questions"] - domain.weight) <= 3, f"{code} {domain.key} is out of proportion"


@pytest.mark.parametrize("code", ["CPIA", "CPSA"])
def test_a_fifth_of_the_interface_and_analyst_banks_make_the_trainee_read_a_message_or_header(code):
    questions = BUNDLE.tracks[code].questions
    scenario = [q for q in questions if q.spec.exhibit and q.spec.exhibit.kind in ("hl7", "dicom", "text")]
    assert len(scenario) >= len(questions) / 5


@pytest.mark.parametrize("code", TRACKS)
def test_lessons_are_substantial_and_every_module_has_a_worked_example_or_diagram(code):
    for module in BUNDLE.tracks[code].modules:
        assert sum(lesson.words for lesson in module.lessons) >= 1500, f"{module.spec.id} is thin"
        bodies = "\n".join(lesson.body for lesson in module.lessons)
        assert "```" in bodies or module.assets or "|---" in bodies or "| ---" in bodies, \
            f"{module.spec.id} has no worked example, table or diagram"


def test_the_bundled_content_imports_into_the_database(bundled_app):
    with bundled_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Track)) == 4
        assert db.session.scalar(select(func.count()).select_from(Question)) == sum(
            len(t.questions) for t in BUNDLE.tracks.values())
        assert db.session.scalar(select(func.count()).select_from(Lesson)) == sum(
            len(m.lessons) for t in BUNDLE.tracks.values() for m in t.modules)


def test_content_stats_prints_the_agreed_json_shape(bundled_app):
    import json

    result = bundled_app.test_cli_runner().invoke(args=["content", "stats", "--json"])
    figures = json.loads(result.output)
    assert set(figures["tracks"]) == set(TRACKS)
    for values in figures["tracks"].values():
        assert set(values) == {"domains", "modules", "lessons", "words", "labs", "questions", "questions_by_domain"}


def test_the_onboarding_path_for_new_analysts_spans_the_tracks(bundled_app, bundled_template):
    from tests.conftest import Auth

    [path] = [p for p in BUNDLE.paths if p.spec.id == "new-pacs-analyst-30-days"]
    kinds = {("module" if s.module else "lab" if s.lab else "exam") for s in path.spec.steps}
    assert kinds == {"module", "lab", "exam"} and path.spec.steps[-1].day <= 30
    client = bundled_app.test_client()
    Auth(client).login(bundled_template[1]["trainee"])
    page = client.get("/paths/new-pacs-analyst-30-days").get_data(as_text=True)
    assert f"0 of {len(path.spec.steps)} steps done" in page and "CPA: Networking" in page
