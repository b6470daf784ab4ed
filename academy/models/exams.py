"""A trainee's answers: attempts, timed exam sessions, spaced-review cards and problem reports.

Every attempt points at the QuestionVersion the trainee saw, so scores can always be recomputed from
stored answers, whatever happens to the question later.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from academy.models.base import Base, utcnow
from academy.models.content import Domain, Question, QuestionVersion, Track


class ExamSession(Base):
    """A timed mock exam. The server fixes its questions and deadline; one submission, then it is final."""

    __tablename__ = "exam_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("track.id", ondelete="CASCADE"))
    # The seed the questions were drawn with: sessions with the same form have the same questions,
    # which is what makes a reliability coefficient (KR-20) across their takers meaningful.
    form: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    deadline: Mapped[datetime]
    submitted_at: Mapped[datetime | None] = mapped_column(index=True)
    submitted_by: Mapped[str | None] = mapped_column(String(16))  # "trainee" or "deadline"
    pass_mark: Mapped[float]
    score: Mapped[float | None]
    passed: Mapped[bool | None]

    track: Mapped[Track] = relationship()
    items: Mapped[list[ExamItem]] = relationship(back_populates="session", order_by="ExamItem.position",
                                                 cascade="all, delete-orphan")


class ExamItem(Base):
    __tablename__ = "exam_item"
    __table_args__ = (UniqueConstraint("session_id", "position", name="uq_exam_item_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id", ondelete="CASCADE"))
    position: Mapped[int]
    question_version_id: Mapped[int] = mapped_column(ForeignKey("question_version.id"))
    domain_id: Mapped[int] = mapped_column(ForeignKey("domain.id"))
    response: Mapped[object | None] = mapped_column(JSON)
    flagged: Mapped[bool] = mapped_column(default=False)
    seconds: Mapped[int] = mapped_column(default=0)
    correct: Mapped[bool | None]

    session: Mapped[ExamSession] = relationship(back_populates="items")
    version: Mapped[QuestionVersion] = relationship()
    domain: Mapped[Domain] = relationship()


class Attempt(Base):
    """One answer to one question, in practice, in review, or as part of a submitted exam."""

    __tablename__ = "attempt"
    __table_args__ = (Index("ix_attempt_user_answered", "user_id", "answered_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"), index=True)
    question_version_id: Mapped[int] = mapped_column(ForeignKey("question_version.id"))
    domain_id: Mapped[int] = mapped_column(ForeignKey("domain.id"), index=True)
    mode: Mapped[str] = mapped_column(String(16))  # practice | review | exam
    exam_item_id: Mapped[int | None] = mapped_column(ForeignKey("exam_item.id", ondelete="CASCADE"), unique=True)
    response: Mapped[object | None] = mapped_column(JSON)
    correct: Mapped[bool]
    confidence: Mapped[int | None]  # 1 guessing, 2 unsure, 3 sure
    seconds: Mapped[int] = mapped_column(default=0)
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)

    question: Mapped[Question] = relationship()
    version: Mapped[QuestionVersion] = relationship()


class ReviewCard(Base):
    """A question in a trainee's spaced review, with its FSRS scheduling state."""

    __tablename__ = "review_card"
    __table_args__ = (UniqueConstraint("user_id", "question_id", name="uq_review_card_user_question"),
                      Index("ix_review_card_user_due", "user_id", "due"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"))
    due: Mapped[datetime]
    state: Mapped[dict] = mapped_column(JSON)
    reviews: Mapped[int] = mapped_column(default=0)

    question: Mapped[Question] = relationship()


class QuestionReport(Base):
    """A trainee's report that a question is wrong or unclear, for the instructors' item analysis."""

    __tablename__ = "question_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"), index=True)
    question_version_id: Mapped[int] = mapped_column(ForeignKey("question_version.id"))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved: Mapped[bool] = mapped_column(default=False)


class LessonProgress(Base):
    """A trainee has read (and checked themselves on) one version of a lesson."""

    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("user_id", "lesson_id", name="uq_lesson_progress_user_lesson"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id", ondelete="CASCADE"))
    lesson_version: Mapped[int]
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)
    self_check_correct: Mapped[int] = mapped_column(default=0)
    self_check_total: Mapped[int] = mapped_column(default=0)
