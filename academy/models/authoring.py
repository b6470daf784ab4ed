"""What organisations write: their content tree as files, each save a version, and each publication.

The tree has the same layout and format as the repository's curricula/ and question_banks/, so the
loader, the validator and the importer serve authored content unchanged, and a tree exports to a zip
(or a git folder) and imports back byte for byte. Drafts live only here; trainees see the content
rows a publication wrote (academy/models/content.py), never a draft.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from academy.models.base import Base, utcnow
from academy.models.people import User


class AuthoredFile(Base):
    """One file of an organisation's tree, e.g. curricula/RAD/modules/intro/first-day.md."""

    __tablename__ = "authored_file"
    __table_args__ = (UniqueConstraint("organization_id", "path", name="uq_authored_file_organization_path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[AuthoredVersion]] = relationship(back_populates="file", order_by="AuthoredVersion.number")


class AuthoredVersion(Base):
    """One saved state of a file. `data` None means the file was deleted in this version."""

    __tablename__ = "authored_version"
    __table_args__ = (UniqueConstraint("file_id", "number", name="uq_authored_version_file_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("authored_file.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    data: Mapped[bytes | None]
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    file: Mapped[AuthoredFile] = relationship(back_populates="versions")
    author: Mapped[User | None] = relationship()


class ContentRelease(Base):
    """A publication: which version of each file trainees now see, who published it and when."""

    __tablename__ = "content_release"
    __table_args__ = (UniqueConstraint("organization_id", "number", name="uq_content_release_organization_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    manifest: Mapped[dict] = mapped_column(JSON)  # path -> version number
    summary: Mapped[str] = mapped_column(String(300), default="")
    published_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)

    publisher: Mapped[User | None] = relationship()
