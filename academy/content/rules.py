"""Rules that span files: ids unique, blueprints that fit, banks big and balanced enough, links that resolve."""
from __future__ import annotations

import math
import re
from collections import Counter
from itertools import combinations

from academy.content.loader import Bundle, LoadedTrack
from academy.content.schema import CONSOLES, INTERNAL_LINK

NEAR_DUPLICATE = 0.8  # Jaccard similarity of word sets above which two stems are the same question
PLACEHOLDER = re.compile(r"\b(TODO|TBD|FIXME|lorem ipsum)\b", re.IGNORECASE)
SCRIPTY_SVG = re.compile(rb"<script|\bon[a-z]+\s*=|javascript:|style\s*=|xlink:href\s*=\s*[\"']http|href\s*=\s*[\"']http",
                         re.IGNORECASE)
TOKEN = re.compile(r"[a-z0-9]+")


def check(bundle: Bundle, *, require_full_banks: bool = True) -> Bundle:
    """Add every cross-file problem to `bundle.problems` and return the bundle."""
    _unique_ids(bundle)
    for track in bundle.tracks.values():
        _requirements(bundle, track)
        _blueprint(bundle, track, require_full_banks)
        _bank_balance(bundle, track)
        _near_duplicates(bundle, track)
        _modules(bundle, track)
        _labs(bundle, track)
    _paths(bundle)
    return bundle


def exam_share(length: int, weight: int) -> int:
    """How many of an exam's questions a domain of this weight gets (at least one)."""
    return max(1, math.floor(length * weight / 100 + 0.5))


def _unique_ids(bundle: Bundle) -> None:
    labs: dict[str, str] = {}
    for track in bundle.tracks.values():
        if track.spec.code in bundle.outside_tracks:
            bundle.problem(track.path / "track.yaml", 1, f"code '{track.spec.code}' is a bundled track's; choose another")
        for lab in track.labs:
            if lab.spec.id in labs or lab.spec.id in bundle.outside_labs:
                bundle.problem(lab.path, 1, f"lab id '{lab.spec.id}' is used twice (also in {labs.get(lab.spec.id, 'the bundled labs')})")
            labs[lab.spec.id] = str(lab.path.name)
    seen: dict[str, str] = {}
    for track in bundle.tracks.values():
        items = [(q.spec.id, q.path, q.line) for q in track.questions]
        items += [(c.id, lesson.path, 2) for m in track.modules for lesson in m.lessons for c in lesson.spec.self_check]
        for qid, path, line in items:
            if qid in seen:
                bundle.problem(path, line, f"id '{qid}' is used twice (also in {seen[qid]})")
            seen[qid] = str(path.name)


def _requirements(bundle: Bundle, track: LoadedTrack) -> None:
    for code in track.spec.requires:
        if (code not in bundle.tracks and code not in bundle.outside_tracks) or code == track.spec.code:
            bundle.problem(track.path / "track.yaml", 1, f"requires unknown track '{code}'")


def _blueprint(bundle: Bundle, track: LoadedTrack, require_full_banks: bool) -> None:
    path = track.path.parent.parent / "question_banks" / track.spec.code / "blueprint.yaml"
    if track.blueprint is None:
        if track.questions:
            bundle.problem(path, 0, "a track with questions needs a blueprint.yaml")
        return
    weights = {d.key: d.weight for d in track.spec.domains}
    if track.blueprint.track != track.spec.code:
        bundle.problem(path, 1, f"track '{track.blueprint.track}' should be '{track.spec.code}'")
    if track.blueprint.domains != weights:
        bundle.problem(path, 1, f"domain weights must equal those in track.yaml: {weights}")
    by_domain = Counter(q.domain for q in track.questions)
    for question in track.questions:
        if question.domain not in weights:
            bundle.problem(question.path, 2, f"domain '{question.domain}' is not a domain of {track.spec.code}")
            break
    if not require_full_banks:
        return
    length = track.blueprint.exam.length
    for key, weight in weights.items():
        needed = 2 * exam_share(length, weight)
        if by_domain[key] < needed:
            bundle.problem(path, 1, f"domain '{key}' has {by_domain[key]} questions; two distinct "
                                    f"{length}-question exams need at least {needed}")


def _bank_balance(bundle: Bundle, track: LoadedTrack) -> None:
    if not track.questions:
        return
    path = track.questions[0].path.parent
    singles = [q.spec.answer for q in track.questions if q.spec.type == "single"]
    if len(singles) >= 20:
        counts = Counter(singles)
        for letter in "abcd":
            share = counts[letter] / len(singles)
            if not 0.15 <= share <= 0.35:
                bundle.problem(path, 0, f"'{letter}' is the answer to {share:.0%} of single-answer questions; "
                                        "spread correct answers evenly over a-d (15-35% each)")
    truefalse = sum(q.spec.type == "truefalse" for q in track.questions)
    if truefalse > 0.10 * len(track.questions):
        bundle.problem(path, 0, f"{truefalse} of {len(track.questions)} questions are true/false; at most 10%")


def _tokens(question) -> frozenset[str]:
    text = question.spec.stem + (question.spec.exhibit.content if question.spec.exhibit else "")
    return frozenset(TOKEN.findall(text.lower()))


def _near_duplicates(bundle: Bundle, track: LoadedTrack) -> None:
    tokens = [(q, _tokens(q)) for q in track.questions]
    for (first, a), (second, b) in combinations(tokens, 2):
        if not a or not b or len(a & b) < NEAR_DUPLICATE * min(len(a), len(b)):
            continue  # cheap bound: Jaccard cannot reach the threshold
        similarity = len(a & b) / len(a | b)
        if similarity > NEAR_DUPLICATE:
            bundle.problem(second.path, second.line, f"'{second.spec.id}' repeats '{first.spec.id}' "
                                                     f"({similarity:.0%} of the same words)")


def _modules(bundle: Bundle, track: LoadedTrack) -> None:
    domains = {d.key for d in track.spec.domains}
    for module in track.modules:
        if module.spec.domain not in domains:
            bundle.problem(module.path / "module.md", 2, f"domain '{module.spec.domain}' is not a domain of {track.spec.code}")
        if not module.lessons:
            bundle.problem(module.path, 0, "a module needs at least one lesson")
        for name, asset in module.assets.items():
            if asset.suffix == ".svg" and SCRIPTY_SVG.search(asset.read_bytes()):
                bundle.problem(asset, 1, "SVG diagrams may hold shapes and text only: no script, event "
                                         "handlers, style attributes or external links")
        for lesson in module.lessons:
            if len(lesson.body.split()) < 50:
                bundle.problem(lesson.path, lesson.body_line, "the lesson is empty or too short to teach anything")
            if PLACEHOLDER.search(lesson.body):
                bundle.problem(lesson.path, lesson.body_line, "the lesson contains a placeholder (TODO, TBD, lorem ipsum)")
            for number, line in enumerate(lesson.body.splitlines(), start=lesson.body_line):
                for kind, target in INTERNAL_LINK.findall(line):
                    error = resolve_error(bundle, track, kind, target)
                    if error:
                        bundle.problem(lesson.path, number, error)
                for image in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", line):
                    if image not in module.assets:
                        bundle.problem(lesson.path, number, f"image '{image}' is not a file in the module folder")


def resolve_error(bundle: Bundle, track: LoadedTrack, kind: str, target: str) -> str | None:
    """Why an internal link does not resolve, or None when it does."""
    if kind == "console":
        return None if target in CONSOLES else f"console '{target}' does not exist; use one of {', '.join(CONSOLES)}"
    if kind == "track":
        return None if target in bundle.tracks or target in bundle.outside_tracks else f"track '{target}' does not exist"
    if kind == "lab":
        return None if target in bundle.labs or target in bundle.outside_labs else f"lab '{target}' does not exist"
    parts = target.split("/")
    code, modules_of = track.spec.code, {m.spec.id: {lesson.key for lesson in m.lessons} for m in track.modules}
    if len(parts) == (3 if kind == "lesson" else 2):
        code, parts = parts[0], parts[1:]
        other = bundle.tracks.get(code)
        modules_of = ({m.spec.id: {lesson.key for lesson in m.lessons} for m in other.modules} if other
                      else bundle.outside_tracks.get(code))
        if modules_of is None:
            return f"track in '{target}' does not exist"
    lessons = modules_of.get(parts[0])
    if lessons is None:
        return f"module '{parts[0]}' does not exist in {code}"
    if kind == "lesson":
        if len(parts) != 2 or parts[1] not in lessons:
            return f"lesson '{target}' does not exist (write lesson:<module>/<lesson file name without .md>)"
    return None


def _labs(bundle: Bundle, track: LoadedTrack) -> None:
    import sandbox
    from academy.labs import placeholders, registry
    import academy.labs.checks  # noqa: F401  (registers every check type)

    sample = placeholders.values_for("LABCHECK", "127.0.0.1", 11112, 2575)
    domains = {d.key for d in track.spec.domains}
    for lab in track.labs:
        spec, raw = lab.spec, lab.raw
        if spec.domain not in domains:
            bundle.problem(lab.path, 1, f"domain '{spec.domain}' is not a domain of {track.spec.code}")
        for missing in spec.prerequisites:
            if missing not in bundle.labs and missing not in bundle.outside_labs:
                bundle.problem(lab.path, 1, f"prerequisite lab '{missing}' does not exist")
        for name in sorted(placeholders.unknown(raw)):
            bundle.problem(lab.path, 1, f"unknown placeholder {{{name}}}; use one of {', '.join(placeholders.NAMES)}")
        try:
            sandbox.validate_scenario(placeholders.fill(spec.scenario, sample))
        except sandbox.ScenarioError as exc:
            bundle.problem(lab.path, _line(raw, "scenario"), f"scenario: {exc}")
        for index, check in enumerate(spec.checks):
            line = _line(raw, "checks", index)
            for error in registry.parameter_errors(check.type, placeholders.fill(check.params, sample)):
                bundle.problem(lab.path, line, f"check '{check.id}': {error}")
        from academy.labs.solutions import STEPS

        knowledge = {c.id for c in spec.checks if c.type in registry.REGISTRY and registry.get(c.type).knowledge}
        for index, step in enumerate(spec.solution):
            if step.get("do") not in STEPS:
                bundle.problem(lab.path, _line(raw, "solution", index),
                               f"solution step {index + 1}: unknown step {step.get('do')!r}; known: {', '.join(sorted(STEPS))}")
            elif step["do"] == "answer" and step.get("check") not in knowledge:
                bundle.problem(lab.path, _line(raw, "solution", index),
                               f"solution step {index + 1} answers '{step.get('check')}', which is not a knowledge check")
        for index, check in enumerate(spec.checks):
            if check.type in registry.REGISTRY and registry.get(check.type).knowledge and "question" not in check.params:
                bundle.problem(lab.path, _line(raw, "checks", index), f"check '{check.id}' needs a question for the trainee")
        for number, text in enumerate(spec.instructions.splitlines(), start=_line(raw, "instructions")):
            for kind, target in INTERNAL_LINK.findall(text):
                error = resolve_error(bundle, track, kind, target)
                if error:
                    bundle.problem(lab.path, number, error)


def _line(raw, *path) -> int:
    from academy.content.yaml_lines import line_of

    return line_of(raw, path) or 1


def _paths(bundle: Bundle) -> None:
    seen = set()
    for item in bundle.paths:
        if item.spec.id in seen:
            bundle.problem(item.path, 1, f"path id '{item.spec.id}' is used twice")
        seen.add(item.spec.id)
        days = [step.day for step in item.spec.steps]
        if days != sorted(days):
            bundle.problem(item.path, 1, "steps must be in the order of their days")
        for index, step in enumerate(item.spec.steps):
            line = _line(item.raw, "steps", index)
            if step.module:
                code, _, key = step.module.partition("/")
                track = bundle.tracks.get(code)
                if track is None or key not in {m.spec.id for m in track.modules}:
                    bundle.problem(item.path, line, f"module '{step.module}' does not exist")
            elif step.lab and step.lab not in bundle.labs:
                bundle.problem(item.path, line, f"lab '{step.lab}' does not exist")
            elif step.exam and step.exam not in bundle.tracks:
                bundle.problem(item.path, line, f"track '{step.exam}' does not exist")
