"""Hands-on labs and a trainee's runs of them.

A run keeps a snapshot of the lab as the trainee started it, every grading with each check's result,
the hints taken and the knowledge answers given, so a score can always be recomputed from what is
stored, whatever happens to the lab file later.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from academy.models.base import Base, utcnow
from academy.models.content import Domain, Track


class Lab(Base):
    __tablename__ = "lab"
    __table_args__ = (UniqueConstraint("track_id", "key", name="uq_lab_track_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    track_id: Mapped[int] = mapped_column(ForeignKey("track.id", ondelete="CASCADE"), index=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domain.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    minutes: Mapped[int] = mapped_column(default=20)
    position: Mapped[int] = mapped_column(default=0)
    spec: Mapped[dict] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(default=1)
    content_hash: Mapped[str] = mapped_column(String(64))
    retired: Mapped[bool] = mapped_column(default=False)

    track: Mapped[Track] = relationship()
    domain: Mapped[Domain] = relationship()

    @property
    def max_score(self) -> int:
        return sum(check["points"] for check in self.spec["checks"])


class LabRun(Base):
    """One trainee's go at one lab, in a partition of its own."""

    __tablename__ = "lab_run"
    __table_args__ = (Index("ix_lab_run_user_lab", "user_id", "lab_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    lab_id: Mapped[int] = mapped_column(ForeignKey("lab.id", ondelete="CASCADE"))
    lab_version: Mapped[int]
    spec: Mapped[dict] = mapped_column(JSON)  # the lab as it was when the run started
    partition_code: Mapped[str | None] = mapped_column(String(8), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="active", index=True)  # active | submitted | abandoned
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    journal_mark: Mapped[int] = mapped_column(default=0)  # journal events after this id are the trainee's
    score: Mapped[int | None]
    max_score: Mapped[int] = mapped_column(default=0)
    partition_released: Mapped[bool] = mapped_column(default=False)

    lab: Mapped[Lab] = relationship()
    gradings: Mapped[list[Grading]] = relationship(back_populates="run", order_by="Grading.id",
                                                   cascade="all, delete-orphan")
    hints: Mapped[list[HintTaken]] = relationship(cascade="all, delete-orphan")
    answers: Mapped[list[LabAnswer]] = relationship(cascade="all, delete-orphan")

    @property
    def seconds(self) -> int:
        end = self.finished_at or utcnow()
        return max(0, int((end - self.started_at).total_seconds()))


class Grading(Base):
    __tablename__ = "grading"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("lab_run.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    score: Mapped[int]
    max_score: Mapped[int]
    final: Mapped[bool] = mapped_column(default=False)

    run: Mapped[LabRun] = relationship(back_populates="gradings")
    results: Mapped[list[CheckResult]] = relationship(cascade="all, delete-orphan", order_by="CheckResult.id")


class CheckResult(Base):
    __tablename__ = "check_result"

    id: Mapped[int] = mapped_column(primary_key=True)
    grading_id: Mapped[int] = mapped_column(ForeignKey("grading.id", ondelete="CASCADE"), index=True)
    check_id: Mapped[str] = mapped_column(String(100))
    passed: Mapped[bool]
    points: Mapped[int]  # awarded, after any hint's cost
    message: Mapped[str] = mapped_column(Text)
    event_id: Mapped[int | None]  # the sandbox journal event that explains it


class HintTaken(Base):
    __tablename__ = "hint_taken"
    __table_args__ = (UniqueConstraint("run_id", "check_id", name="uq_hint_taken_run_check"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("lab_run.id", ondelete="CASCADE"))
    check_id: Mapped[str] = mapped_column(String(100))
    cost: Mapped[int]
    at: Mapped[datetime] = mapped_column(default=utcnow)


class LabAnswer(Base):
    """The trainee's answer to one knowledge check of a run."""

    __tablename__ = "lab_answer"
    __table_args__ = (UniqueConstraint("run_id", "check_id", name="uq_lab_answer_run_check"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("lab_run.id", ondelete="CASCADE"))
    check_id: Mapped[str] = mapped_column(String(100))
    value: Mapped[str] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class PracticeSpace(Base):
    """A trainee's own partition for trying things from lessons, outside any lab."""

    __tablename__ = "practice_space"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), unique=True)
    partition_code: Mapped[str] = mapped_column(String(8), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
