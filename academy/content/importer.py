"""Writing a loaded bundle into the database: upsert by stable keys, new versions only on change."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from academy.content.loader import ASSET_TYPES, Bundle, LoadedTrack
from academy.models.content import (
    Domain, Lesson, Module, ModuleAsset, OnboardingPath, Question, QuestionVersion, Track,
)
from academy.models.labs import Lab


@dataclass
class ImportReport:
    tracks: int = 0
    modules: int = 0
    lessons: int = 0
    labs: int = 0
    questions: int = 0
    new_versions: int = 0
    retired: list[str] = field(default_factory=list)


def content_hash(data) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def question_payload(spec) -> dict:
    """The fields of a question that make up one version (everything a trainee sees or is graded on)."""
    data = spec.model_dump(mode="json", exclude={"id"})
    return {"type": data["type"], "difficulty": data["difficulty"], "stem": data["stem"],
            "exhibit": data["exhibit"], "choices": data["choices"], "answer": data["answer"],
            "explanation": data["explanation"], "references": data["references"]}


def _owned_by(organization_id: int | None):
    return Track.organization_id.is_(None) if organization_id is None else Track.organization_id == organization_id


def import_bundle(session: Session, bundle: Bundle, organization_id: int | None = None) -> ImportReport:
    """Bring the content of one owner (the bundled content, or one organisation's) in line with `bundle`.

    The caller commits (or rolls back on error). Tracks and questions of other owners are never touched.
    """
    report = ImportReport()
    owned = _owned_by(organization_id)
    existing_tracks = {t.code: t for t in session.scalars(select(Track).where(owned).options(selectinload(Track.domains)))}
    questions = {(q.track_id, q.key): q for q in session.scalars(
        select(Question).join(Track, Question.track_id == Track.id).where(owned).options(selectinload(Question.current)))}
    seen_questions: set[tuple[int, str]] = set()
    for position, (code, loaded) in enumerate(sorted(bundle.tracks.items(), key=lambda i: i[1].spec.order)):
        track = existing_tracks.pop(code, None) or Track(code=code, organization_id=organization_id)
        track.retired = False
        session.add(track)
        _update_track(track, loaded, position)
        domains = _upsert_domains(session, track, loaded)
        session.flush()
        report.tracks += 1
        _import_modules(session, track, loaded, domains, report)
        _import_labs(session, track, loaded, domains, report)
        for item in loaded.questions:
            seen_questions.add((track.id, item.spec.id))
            _upsert_question(session, questions, track, domains[item.domain], item.spec, report)
    for gone in existing_tracks.values():
        if not gone.retired:
            gone.retired = True
            report.retired.append(f"track {gone.code}")
    for key, question in questions.items():
        if key not in seen_questions and not question.retired:
            question.retired = True
            report.retired.append(f"question {key[1]}")
    if organization_id is None:  # an organisation's paths are its copies, edited on the paths page
        _import_paths(session, bundle, report)
    return report


def _import_paths(session: Session, bundle: Bundle, report: ImportReport) -> None:
    paths = {p.key: p for p in session.scalars(select(OnboardingPath).where(OnboardingPath.organization_id.is_(None)))}
    for item in bundle.paths:
        data = item.spec.model_dump(mode="json", exclude_none=True)
        digest = content_hash(data)
        row = paths.pop(item.spec.id, None)
        if row is None:
            row = OnboardingPath(key=item.spec.id, version=1, content_hash=digest)
            session.add(row)
        elif row.content_hash != digest:
            row.version, row.content_hash = row.version + 1, digest
            report.new_versions += 1
        row.title, row.summary, row.description = item.spec.title, item.spec.summary, item.spec.description
        row.steps, row.retired = data["steps"], False
    for gone in paths.values():
        if not gone.retired:
            gone.retired = True
            report.retired.append(f"path {gone.key}")


def _update_track(track: Track, loaded: LoadedTrack, position: int) -> None:
    spec = loaded.spec
    track.title, track.summary, track.description = spec.title, spec.summary, spec.description
    track.position, track.requires = spec.order or position, list(spec.requires)
    if loaded.blueprint:
        exam = loaded.blueprint.exam
        track.exam_length, track.exam_minutes, track.pass_mark = exam.length, exam.time_limit_minutes, exam.pass_mark


def _upsert_domains(session: Session, track: Track, loaded: LoadedTrack) -> dict[str, Domain]:
    domains = {d.key: d for d in track.domains}
    for position, spec in enumerate(loaded.spec.domains):
        domain = domains.get(spec.key)
        if domain is None:
            domain = domains[spec.key] = Domain(track=track, key=spec.key)
            session.add(domain)
        domain.title, domain.summary, domain.weight, domain.position = spec.title, spec.summary, spec.weight, position
    return domains


def _import_modules(session: Session, track: Track, loaded: LoadedTrack, domains: dict[str, Domain],
                    report: ImportReport) -> None:
    modules = {m.key: m for m in session.scalars(
        select(Module).where(Module.track_id == track.id).options(selectinload(Module.lessons)))}
    seen = set()
    for position, item in enumerate(loaded.modules):
        spec = item.spec
        seen.add(spec.id)
        module = modules.get(spec.id) or Module(track=track, key=spec.id)
        session.add(module)
        module.domain = domains[spec.domain]
        module.title, module.summary, module.objectives = spec.title, spec.summary, list(spec.objectives)
        module.introduction, module.minutes, module.position, module.retired = item.introduction, spec.minutes, position, False
        session.flush()
        report.modules += 1
        lessons = {lesson.key: lesson for lesson in module.lessons}
        for lesson_position, loaded_lesson in enumerate(item.lessons):
            payload = {"title": loaded_lesson.spec.title, "body": loaded_lesson.body,
                       "self_check": [q.model_dump(mode="json") for q in loaded_lesson.spec.self_check]}
            digest = content_hash(payload)
            lesson = lessons.pop(loaded_lesson.key, None)
            if lesson is None:
                lesson = Lesson(module=module, key=loaded_lesson.key, version=1, content_hash=digest)
                session.add(lesson)
            elif lesson.content_hash != digest:
                lesson.version += 1
                lesson.content_hash = digest
                report.new_versions += 1
            lesson.title, lesson.body, lesson.self_check = payload["title"], payload["body"], payload["self_check"]
            lesson.minutes, lesson.position, lesson.words, lesson.retired = (
                loaded_lesson.spec.minutes, lesson_position, loaded_lesson.words, False)
            report.lessons += 1
        for gone in lessons.values():
            if not gone.retired:
                gone.retired = True
                report.retired.append(f"lesson {module.key}/{gone.key}")
        _replace_assets(session, module, item.assets)
    for key, module in modules.items():
        if key not in seen and not module.retired:
            module.retired = True
            report.retired.append(f"module {track.code}/{key}")


def _import_labs(session: Session, track: Track, loaded: LoadedTrack, domains: dict[str, Domain],
                 report: ImportReport) -> None:
    labs = {lab.key: lab for lab in session.scalars(select(Lab).where(Lab.track_id == track.id))}
    seen = set()
    for position, item in enumerate(loaded.labs):
        spec = item.spec.model_dump(mode="json", by_alias=True)
        digest = content_hash(spec)
        seen.add(item.spec.id)
        lab = labs.get(item.spec.id)
        if lab is None:
            lab = Lab(key=item.spec.id, track=track, version=1, content_hash=digest, spec=spec)
            session.add(lab)
        elif lab.content_hash != digest:
            lab.version += 1
            lab.content_hash = digest
            report.new_versions += 1
        lab.domain, lab.spec, lab.title = domains[item.spec.domain], spec, item.spec.title
        lab.level, lab.minutes, lab.position, lab.retired = item.spec.level, item.spec.minutes, position, False
        report.labs += 1
    for key, lab in labs.items():
        if key not in seen and not lab.retired:
            lab.retired = True
            report.retired.append(f"lab {key}")


def _replace_assets(session: Session, module: Module, assets: dict) -> None:
    current = {a.name: a for a in session.scalars(select(ModuleAsset).where(ModuleAsset.module_id == module.id))}
    for name, path in assets.items():
        data = path.read_bytes()
        asset = current.pop(name, None) or ModuleAsset(module_id=module.id, name=name)
        asset.data, asset.media_type = data, ASSET_TYPES[path.suffix]
        session.add(asset)
    for stale in current.values():
        session.delete(stale)


def _upsert_question(session: Session, questions: dict, track: Track, domain: Domain, spec, report: ImportReport):
    payload = question_payload(spec)
    digest = content_hash(payload)
    question = questions.get((track.id, spec.id))
    if question is None:
        question = questions[(track.id, spec.id)] = Question(key=spec.id, track=track, domain=domain)
        session.add(question)
    question.track, question.domain, question.retired = track, domain, False
    report.questions += 1
    if question.current is not None and question.current.content_hash == digest:
        return
    number = (question.current.number + 1) if question.current else 1
    version = QuestionVersion(question=question, number=number, content_hash=digest, **payload)
    session.add(version)
    session.flush()
    question.current = version
    report.new_versions += number > 1
