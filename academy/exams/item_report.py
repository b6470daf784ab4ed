"""Gathering the answers behind item analysis, limited to the trainees the instructor may see."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from academy.exams.item_analysis import FormStats, ItemStats, form_stats, item_stats, score_summary
from academy.models import Attempt, ExamSession, Question, QuestionReport, QuestionVersion, Track


@dataclass
class ItemRow:
    question: Question
    version: QuestionVersion
    stats: ItemStats
    reports: list[QuestionReport] = field(default_factory=list)


@dataclass
class Report:
    items: list[ItemRow]
    forms: list[tuple[str, FormStats]]
    exams: tuple[int, float, float] | None  # takers, mean share right, standard deviation
    answers: int


def build(session: Session, track: Track, user_ids: set[int]) -> Report:
    if not user_ids:
        return Report([], [], None, 0)
    sessions = session.scalars(select(ExamSession).where(
        ExamSession.track_id == track.id, ExamSession.user_id.in_(user_ids), ExamSession.submitted_at.is_not(None))).all()
    totals = {exam.id: sum(bool(i.correct) for i in exam.items) for exam in sessions}
    exam_of_item = {}
    for exam in sessions:
        for item in exam.items:
            exam_of_item[item.id] = exam.id
    # Facility and distractors come from every answer; discrimination needs a total, so exam answers only.
    attempts = session.execute(
        select(Attempt.question_id, Attempt.correct, Attempt.response, Attempt.exam_item_id)
        .join(Question, Question.id == Attempt.question_id)
        .where(Question.track_id == track.id, Attempt.user_id.in_(user_ids))).all()
    by_question = defaultdict(list)
    for question_id, correct, response, exam_item_id in attempts:
        by_question[question_id].append((int(correct), response, exam_item_id))
    reports = defaultdict(list)
    for report in session.scalars(select(QuestionReport).join(Question).where(
            Question.track_id == track.id, QuestionReport.user_id.in_(user_ids), QuestionReport.resolved.is_(False))):
        reports[report.question_id].append(report)
    rows = []
    for question in session.scalars(select(Question).where(Question.id.in_(set(by_question) | set(reports)))):
        answers = by_question.get(question.id, [])
        in_exams = [(c, totals[exam_of_item[i]]) for c, _, i in answers if i in exam_of_item]
        stats = item_stats([c for c, _, _ in answers], [r for _, r, _ in answers],
                           [c for c, _ in in_exams], [t for _, t in in_exams])
        rows.append(ItemRow(question, question.current, stats, reports.get(question.id, [])))
    rows.sort(key=lambda row: (-len(row.stats.flags), row.question.key))
    forms = defaultdict(list)
    for exam in sessions:
        forms[exam.form].append([int(bool(i.correct)) for i in exam.items])
    form_rows = [(form, form_stats(matrix)) for form, matrix in forms.items() if len(matrix) >= 2]
    overall = score_summary([e.score for e in sessions]) if sessions else None
    return Report(rows, form_rows, overall, len(attempts))
