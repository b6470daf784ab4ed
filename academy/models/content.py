"""What trainees learn from: tracks, their domains, modules and lessons, and exam questions.

Content rows are imported from curricula/ and question_banks/, or published from an organisation's
authored tree (academy/authoring); an organisation's tracks, and everything in them, are its own. A question keeps every version it has
had (QuestionVersion), and each attempt points at the version the trainee saw, so editing a question
never rewrites someone's record. Content removed from the files is retired, not deleted.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from academy.models.base import Base, utcnow


class Track(Base):
    """A track: bundled (no organisation, visible to everyone) or written by one organisation for itself."""

    __tablename__ = "track"
    __table_args__ = (UniqueConstraint("organization_id", "code", name="uq_track_organization_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    retired: Mapped[bool] = mapped_column(default=False)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    requires: Mapped[list] = mapped_column(JSON, default=list)
    exam_length: Mapped[int] = mapped_column(default=100)
    exam_minutes: Mapped[int] = mapped_column(default=60)
    pass_mark: Mapped[float] = mapped_column(default=0.7)

    domains: Mapped[list[Domain]] = relationship(back_populates="track", order_by="Domain.position")
    modules: Mapped[list[Module]] = relationship(back_populates="track", order_by="Module.position")


class Domain(Base):
    __tablename__ = "domain"
    __table_args__ = (UniqueConstraint("track_id", "key", name="uq_domain_track_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("track.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    weight: Mapped[int] = mapped_column(default=0)
    position: Mapped[int] = mapped_column(default=0)

    track: Mapped[Track] = relationship(back_populates="domains")


class Module(Base):
    __tablename__ = "module"
    __table_args__ = (UniqueConstraint("track_id", "key", name="uq_module_track_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("track.id", ondelete="CASCADE"))
    domain_id: Mapped[int] = mapped_column(ForeignKey("domain.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    objectives: Mapped[list] = mapped_column(JSON, default=list)
    introduction: Mapped[str] = mapped_column(Text, default="")
    minutes: Mapped[int] = mapped_column(default=0)
    position: Mapped[int] = mapped_column(default=0)
    retired: Mapped[bool] = mapped_column(default=False)

    track: Mapped[Track] = relationship(back_populates="modules")
    domain: Mapped[Domain] = relationship()
    lessons: Mapped[list[Lesson]] = relationship(back_populates="module", order_by="Lesson.position")


class Lesson(Base):
    __tablename__ = "lesson"
    __table_args__ = (UniqueConstraint("module_id", "key", name="uq_lesson_module_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    minutes: Mapped[int] = mapped_column(default=0)
    position: Mapped[int] = mapped_column(default=0)
    body: Mapped[str] = mapped_column(Text, default="")
    self_check: Mapped[list] = mapped_column(JSON, default=list)
    words: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    retired: Mapped[bool] = mapped_column(default=False)

    module: Mapped[Module] = relationship(back_populates="lessons")


class Question(Base):
    __tablename__ = "question"
    __table_args__ = (UniqueConstraint("track_id", "key", name="uq_question_track_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    track_id: Mapped[int] = mapped_column(ForeignKey("track.id", ondelete="CASCADE"), index=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domain.id", ondelete="CASCADE"), index=True)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("question_version.id", use_alter=True, ondelete="SET NULL"))
    retired: Mapped[bool] = mapped_column(default=False)

    track: Mapped[Track] = relationship()
    domain: Mapped[Domain] = relationship()
    current: Mapped[QuestionVersion | None] = relationship(foreign_keys=[current_version_id], post_update=True)


class QuestionVersion(Base):
    """One immutable version of a question: what a trainee saw and was graded against."""

    __tablename__ = "question_version"
    __table_args__ = (UniqueConstraint("question_id", "number", name="uq_question_version_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(default=1)
    type: Mapped[str] = mapped_column(String(16))
    difficulty: Mapped[int] = mapped_column(default=2)
    stem: Mapped[str] = mapped_column(Text)
    exhibit: Mapped[dict | None] = mapped_column(JSON)
    choices: Mapped[list] = mapped_column(JSON, default=list)
    answer: Mapped[object] = mapped_column(JSON)
    explanation: Mapped[str] = mapped_column(Text)
    references: Mapped[list] = mapped_column(JSON, default=list)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    question: Mapped[Question] = relationship(foreign_keys=[question_id])


class ContentState(Base):
    """The fingerprint of the content tree last imported, so an unchanged tree is not re-read."""

    __tablename__ = "content_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModuleAsset(Base):
    """A file a lesson shows (an SVG diagram), kept in the database so every site instance can serve it."""

    __tablename__ = "module_asset"
    __table_args__ = (UniqueConstraint("module_id", "name", name="uq_module_asset_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    media_type: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes]


class OnboardingPath(Base):
    """A suggested route through several tracks for new staff ("New PACS analyst — first 30 days").

    Bundled paths have no organisation; an organisation's adapted copy belongs to it alone."""

    __tablename__ = "onboarding_path"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    steps: Mapped[list] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(default=1)
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    retired: Mapped[bool] = mapped_column(default=False)
