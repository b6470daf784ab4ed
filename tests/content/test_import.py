"""Importing content: idempotent, versioned on change, retiring what disappeared; invalid content is refused."""
from __future__ import annotations

import shutil

import pytest
from sqlalchemy import func, select

from academy import content
from academy.extensions import db
from academy.models import Lesson, Question, QuestionVersion, Track
from tests.conftest import FIXTURE_CONTENT


@pytest.fixture
def content_app(app, tmp_path):
    shutil.copytree(FIXTURE_CONTENT, tmp_path / "content")
    app.config["ACADEMY_CURRICULA_DIR"] = tmp_path / "content" / "curricula"
    app.config["ACADEMY_QUESTION_BANKS_DIR"] = tmp_path / "content" / "question_banks"
    return app


def test_an_unchanged_tree_is_not_imported_twice(content_app):
    with content_app.app_context():
        assert content.import_bundled(content_app) is None  # the template database has it already
        report = content.import_bundled(content_app, force=True)
        assert report.new_versions == 0 and report.questions == 11
        assert db.session.scalar(select(func.count()).select_from(QuestionVersion)) == 11


def test_an_edited_question_gets_a_new_version_and_keeps_the_old(content_app):
    bank = content_app.config["ACADEMY_QUESTION_BANKS_DIR"] / "TST1" / "storage.yaml"
    bank.write_text(bank.read_text().replace("Solid-state disks have no moving parts.", "No moving parts, only flash cells."))
    with content_app.app_context():
        report = content.import_bundled(content_app)
        assert report.new_versions == 1
        question = db.session.scalar(select(Question).where(Question.key == "tst-sto-004"))
        versions = db.session.scalars(select(QuestionVersion).where(QuestionVersion.question_id == question.id)
                                      .order_by(QuestionVersion.number)).all()
        assert [v.number for v in versions] == [1, 2]
        assert question.current.explanation.startswith("No moving parts, only")
        assert versions[0].explanation == "Solid-state disks have no moving parts."


def test_a_removed_question_is_retired_not_deleted(content_app):
    bank = content_app.config["ACADEMY_QUESTION_BANKS_DIR"] / "TST1" / "storage.yaml"
    text = bank.read_text()
    start = text.index("- id: tst-sto-003")
    end = text.index("- id: tst-sto-004")
    bank.write_text(text[:start] + text[end:])
    with content_app.app_context():
        report = content.import_bundled(content_app)
        assert "question tst-sto-003" in report.retired
        assert db.session.scalar(select(Question).where(Question.key == "tst-sto-003")).retired


def test_an_edited_lesson_bumps_its_version(content_app):
    lesson_file = content_app.config["ACADEMY_CURRICULA_DIR"] / "TST1/modules/basics/02-bytes.md"
    lesson_file.write_text(lesson_file.read_text().replace("half a mebibyte", "exactly 512 KiB"))
    with content_app.app_context():
        content.import_bundled(content_app)
        lesson = db.session.scalar(select(Lesson).where(Lesson.key == "02-bytes"))
        assert lesson.version == 2 and "512 KiB" in lesson.body


def test_invalid_content_is_refused_and_nothing_is_written(content_app):
    bank = content_app.config["ACADEMY_QUESTION_BANKS_DIR"] / "TST1" / "storage.yaml"
    bank.write_text(bank.read_text().replace("answer: c", "answer: z").replace("No moving", "x"))
    track_file = content_app.config["ACADEMY_CURRICULA_DIR"] / "TST1" / "track.yaml"
    track_file.write_text(track_file.read_text().replace("Test Track One", "Renamed Track"))
    with content_app.app_context():
        with pytest.raises(content.ContentError) as error:
            content.import_bundled(content_app)
        assert "storage.yaml" in str(error.value)
        assert db.session.scalar(select(Track.title).where(Track.code == "TST1")) == "Test Track One"


def test_the_cli_validates_and_counts(content_app):
    runner = content_app.test_cli_runner()
    result = runner.invoke(args=["content", "validate"])
    assert result.exit_code == 0 and "Content is valid" in result.output
    result = runner.invoke(args=["content", "stats", "--json"])
    import json

    stats = json.loads(result.output)["tracks"]["TST1"]
    assert stats == {"domains": 2, "modules": 1, "lessons": 2, "words": stats["words"], "labs": 2,
                     "questions": 11, "questions_by_domain": {"networking": 6, "storage": 5}}
    assert stats["words"] > 100
    bank = content_app.config["ACADEMY_QUESTION_BANKS_DIR"] / "TST1" / "storage.yaml"
    bank.write_text(bank.read_text().replace("answer: c", "answer: z"))
    result = runner.invoke(args=["content", "validate"])
    assert result.exit_code != 0 and "storage.yaml" in result.output and "1 problem(s) found" in result.output
