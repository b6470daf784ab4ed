"""Certificates of completion: who may have one, issuing it, and the PDF.

A certificate states what the platform saw (lessons, labs, a passed mock exam) and says plainly that it
is not the certification body's credential. Its verification code is random (96 bits), so a public
verification page can look it up without exposing anyone else's record.
"""
from __future__ import annotations

import secrets
from pathlib import Path
from dataclasses import dataclass
from datetime import datetime

from fpdf import FPDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from academy.learn import paths, progress
from academy.models import Certificate, ExamSession, OnboardingPath, Track, User

DISCLAIMER = ("This is a certificate of completion of PACS Academy training. It is not a PARCA certification "
              "and is not issued by or on behalf of PARCA or any other certification body.")


class CertificateError(ValueError):
    pass


@dataclass
class Eligibility:
    subject: str
    title: str
    eligible: bool
    missing: list[str]
    evidence: dict


def for_track(session: Session, user: User, track: Track) -> Eligibility:
    status = progress.statuses(session, user.id)[track.code]
    best = session.scalar(select(ExamSession.score).where(ExamSession.user_id == user.id, ExamSession.track_id == track.id,
                                                          ExamSession.passed.is_(True)).order_by(ExamSession.score.desc()))
    missing = []
    if status.lessons_done < status.lessons_total:
        missing.append(f"{status.lessons_total - status.lessons_done} lesson(s) to complete")
    if status.labs_passed < status.labs_total:
        missing.append(f"{status.labs_total - status.labs_passed} lab(s) to pass (70% of their points)")
    if best is None:
        missing.append(f"a passed {track.code} mock exam")
    evidence = {"lessons": status.lessons_done, "labs_passed": status.labs_passed,
                "best_mock_exam": round(best * 100) if best is not None else None}
    return Eligibility(f"track:{track.code}", f"{track.code} — {track.title}", not missing, missing, evidence)


def for_path(session: Session, user: User, path: OnboardingPath) -> Eligibility:
    steps = paths.steps(session, user.id, path)
    missing = [f"day {s.day}: {s.title}" for s in steps if not s.done]
    return Eligibility(f"path:{path.key}", path.title, not missing, missing,
                       {"steps_done": sum(s.done for s in steps), "steps": len(steps)})


def issue(session: Session, user: User, eligibility: Eligibility, now: datetime) -> Certificate:
    if not eligibility.eligible:
        raise CertificateError("Not yet: " + "; ".join(eligibility.missing) + ".")
    existing = session.scalar(select(Certificate).where(Certificate.user_id == user.id,
                                                        Certificate.subject == eligibility.subject))
    if existing is not None:
        return existing
    certificate = Certificate(user_id=user.id, organization_id=user.organization.id if user.organization else None,
                              subject=eligibility.subject, title=eligibility.title, holder_name=user.display_name,
                              verification_code=secrets.token_urlsafe(12), issued_at=now, evidence=eligibility.evidence)
    session.add(certificate)
    return certificate


UNICODE_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # Debian's fonts-dejavu-core


def pdf(certificate: Certificate, organization_name: str, verify_url: str) -> bytes:
    """A one-page A4 landscape certificate. Names in any script need a Unicode font: DejaVu when the
    machine has it; otherwise the core fonts, which hold Latin-1 only."""
    doc = FPDF(orientation="L", format="A4")
    family = "Helvetica"
    if UNICODE_FONT.exists():
        doc.add_font("DejaVu", "", str(UNICODE_FONT))
        doc.add_font("DejaVu", "B", str(UNICODE_FONT.with_name("DejaVuSans-Bold.ttf")))
        family = "DejaVu"
    text = (lambda value: value) if family == "DejaVu" else _latin1
    doc.set_auto_page_break(False)
    doc.add_page()
    doc.set_draw_color(18, 53, 91)
    doc.set_line_width(1.2)
    doc.rect(10, 10, 277, 190)
    doc.set_font(family, "B", 28)
    doc.set_text_color(18, 53, 91)
    doc.set_y(35)
    doc.cell(0, 14, "Certificate of completion", align="C", new_x="LMARGIN", new_y="NEXT")
    doc.set_font(family, "", 14)
    doc.set_text_color(0, 0, 0)
    doc.ln(6)
    doc.cell(0, 8, "PACS Academy certifies that", align="C", new_x="LMARGIN", new_y="NEXT")
    doc.set_font(family, "B", 24)
    doc.ln(2)
    doc.cell(0, 14, text(certificate.holder_name), align="C", new_x="LMARGIN", new_y="NEXT")
    doc.set_font(family, "", 14)
    doc.ln(2)
    doc.cell(0, 8, "has completed", align="C", new_x="LMARGIN", new_y="NEXT")
    doc.set_font(family, "B", 18)
    doc.cell(0, 12, text(certificate.title), align="C", new_x="LMARGIN", new_y="NEXT")
    doc.set_font(family, "", 12)
    evidence = certificate.evidence or {}
    facts = []
    if "lessons" in evidence:
        facts.append(f"{evidence['lessons']} lessons, {evidence['labs_passed']} hands-on labs passed, "
                     f"best mock exam {evidence['best_mock_exam']}%")
    if "steps" in evidence:
        facts.append(f"all {evidence['steps']} steps of the onboarding path")
    for fact in facts:
        doc.cell(0, 8, text(fact), align="C", new_x="LMARGIN", new_y="NEXT")
    doc.ln(4)
    doc.cell(0, 8, text(f"{organization_name} - issued {certificate.issued_at.strftime('%d %B %Y')}"), align="C",
             new_x="LMARGIN", new_y="NEXT")
    doc.set_y(160)
    doc.set_font(family, "", 10)
    doc.cell(0, 6, text(f"Verify: {verify_url}"), align="C", new_x="LMARGIN", new_y="NEXT")
    doc.set_x(30)
    doc.multi_cell(237, 5, DISCLAIMER, align="C")
    return bytes(doc.output())


def _latin1(text: str) -> str:
    """The core PDF fonts are Latin-1: keep what fits, replace the rest rather than fail."""
    return text.replace("—", "-").encode("latin-1", "replace").decode("latin-1")
