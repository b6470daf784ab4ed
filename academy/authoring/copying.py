"""Copies of bundled modules and labs, adapted into an organisation's tree (bundled content stays read-only).

A copy keeps the bundled text as it is but qualifies its internal links with the bundled track's code, since
`lesson:module/lesson` in a copy would otherwise point into the organisation's own track.
"""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from academy.authoring import tree
from academy.authoring.starters import dump, front_matter
from academy.models import Lab, Module, ModuleAsset, Track

_RELATIVE = re.compile(r"\]\((lesson|module):([a-z0-9][a-z0-9-]*(?:/[a-z0-9][a-z0-9-]*)?)\)")


def qualify_links(text: str, code: str) -> str:
    """`lesson:mod/les` -> `lesson:CODE/mod/les` and `module:mod` -> `module:CODE/mod` (already qualified
    links, with three or two parts, are left alone)."""
    def fix(match: re.Match) -> str:
        kind, target = match.groups()
        parts = target.split("/")
        relative = len(parts) == (2 if kind == "lesson" else 1)
        return f"]({kind}:{code}/{target})" if relative else match.group(0)

    return _RELATIVE.sub(fix, text)


def copy_module(session: Session, module: Module, code: str, domain: str, key: str) -> dict[str, bytes]:
    """The files of a bundled module, adapted to live in track `code`, domain `domain`, folder `key`."""
    source = module.track.code
    folder = f"curricula/{code}/modules/{key}"
    files = {f"{folder}/module.md": front_matter(
        {"id": key, "title": module.title, "domain": domain, "order": module.position + 1, "summary": module.summary,
         "objectives": list(module.objectives), "minutes": module.minutes},
        qualify_links(module.introduction, source))}
    for lesson in module.lessons:
        if lesson.retired:
            continue
        header = {"title": lesson.title, "minutes": lesson.minutes}
        if lesson.self_check:
            header["self_check"] = [{k: v for k, v in item.items() if v not in (None, [], "")} for item in lesson.self_check]
        files[f"{folder}/{lesson.key}.md"] = front_matter(header, qualify_links(lesson.body, source))
    for asset in session.scalars(select(ModuleAsset).where(ModuleAsset.module_id == module.id)):
        files[f"{folder}/{asset.name}"] = asset.data
    return files


def copy_lab(lab: Lab, code: str, domain: str, key: str) -> dict[str, bytes]:
    spec = dict(lab.spec)
    spec.update(id=key, track=code, domain=domain)
    spec["instructions"] = qualify_links(spec.get("instructions", ""), lab.track.code)
    return {f"curricula/{code}/labs/{key}.yaml": dump(spec).encode()}


def bundled_module(session: Session, code: str, key: str) -> Module | None:
    return session.scalar(select(Module).join(Track).where(
        Track.organization_id.is_(None), Track.code == code, Module.key == key, Module.retired.is_(False)))


def bundled_lab(session: Session, key: str) -> Lab | None:
    return session.scalar(select(Lab).join(Track, Lab.track_id == Track.id).where(
        Track.organization_id.is_(None), Lab.key == key, Lab.retired.is_(False)))


def bundled_sources(session: Session) -> list[tuple[str, str]]:
    """Choices for the copy form: module:CODE/key and lab:key, with their titles."""
    bundled = Track.organization_id.is_(None)
    modules = session.execute(select(Track.code, Module.key, Module.title).join(Track).where(
        bundled, Module.retired.is_(False)).order_by(Track.position, Module.position)).all()
    labs = session.execute(select(Track.code, Lab.key, Lab.title).join(Track, Lab.track_id == Track.id).where(
        bundled, Lab.retired.is_(False)).order_by(Track.position, Lab.position)).all()
    return ([(f"module:{code}/{key}", f"Module {code} · {title}") for code, key, title in modules]
            + [(f"lab:{key}", f"Lab {code} · {title}") for code, key, title in labs])


def files_for(session: Session, source: str, code: str, domain: str, key: str) -> dict[str, bytes]:
    kind, _, name = source.partition(":")
    if kind == "module":
        source_code, _, module_key = name.partition("/")
        module = bundled_module(session, source_code, module_key)
        if module is not None:
            return copy_module(session, module, code, domain, key)
    elif kind == "lab":
        lab = bundled_lab(session, name)
        if lab is not None:
            return copy_lab(lab, code, domain, key)
    raise tree.TreeError(f"There is no bundled {source}.")


def bundled_question(session: Session, key: str) -> dict | None:
    """A bundled question's current version in the file format, to start an adapted copy from."""
    from academy.models import Question

    question = session.scalar(select(Question).join(Track, Question.track_id == Track.id).where(
        Track.organization_id.is_(None), Question.key == key, Question.retired.is_(False)))
    if question is None or question.current is None:
        return None
    version = question.current
    data = {"id": f"{key}-ours"[:64], "type": version.type, "difficulty": version.difficulty, "stem": version.stem,
            "choices": version.choices, "answer": version.answer, "explanation": version.explanation,
            "references": version.references}
    if version.exhibit:
        data["exhibit"] = version.exhibit
    return data
