"""Reading curricula/ and question_banks/ into plain objects, collecting every problem on the way.

Nothing here touches the database: the validator, the importer and the tests all start from `load()`.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from academy.content import yaml_lines
from academy.content.schema import (
    BlueprintSpec, LessonSpec, ModuleSpec, PathSpec, QuestionFileSpec, QuestionSpec, TrackSpec,
)

ROOT = Path(__file__).resolve().parent.parent.parent
CURRICULA_DIR = ROOT / "curricula"
QUESTION_BANKS_DIR = ROOT / "question_banks"
ASSET_TYPES = {".svg": "image/svg+xml", ".png": "image/png"}
PATHS_FOLDER = "paths"  # curricula/paths/*.yaml: onboarding paths across tracks
WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        try:
            shown = self.path.relative_to(ROOT)
        except ValueError:
            shown = self.path
        return f"{shown}:{self.line}: {self.message}"


@dataclass
class LoadedQuestion:
    spec: QuestionSpec
    track: str
    domain: str
    path: Path
    line: int


@dataclass
class LoadedLesson:
    key: str
    spec: LessonSpec
    body: str
    path: Path
    body_line: int

    @property
    def words(self) -> int:
        return len(WORD.findall(self.body))


@dataclass
class LoadedModule:
    spec: ModuleSpec
    introduction: str
    path: Path
    lessons: list[LoadedLesson] = field(default_factory=list)
    assets: dict[str, Path] = field(default_factory=dict)


@dataclass
class LoadedLab:
    spec: object  # academy.labs.schema.LabSpec
    raw: dict
    path: Path


@dataclass
class LoadedTrack:
    spec: TrackSpec
    path: Path
    blueprint: BlueprintSpec | None = None
    modules: list[LoadedModule] = field(default_factory=list)
    questions: list[LoadedQuestion] = field(default_factory=list)
    labs: list[LoadedLab] = field(default_factory=list)


@dataclass
class LoadedPath:
    spec: PathSpec
    raw: dict
    path: Path


@dataclass
class Bundle:
    tracks: dict[str, LoadedTrack] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    paths: list[LoadedPath] = field(default_factory=list)
    # What the tree may link to without holding it (an organisation's tree links to the bundled content):
    # track code -> module id -> lesson keys, and lab ids.
    outside_tracks: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    outside_labs: set[str] = field(default_factory=set)

    @property
    def labs(self) -> dict[str, LoadedLab]:
        return {lab.spec.id: lab for track in self.tracks.values() for lab in track.labs}

    def problem(self, path: Path, line: int, message: str) -> None:
        self.problems.append(Problem(path, line, message))


def _validate(bundle: Bundle, model: type[BaseModel], data, path: Path, line_offset: int = 0):
    """Build `model` from `data`; on failure record one problem per error, with its line, and return None."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            location = tuple(error["loc"])
            where = ".".join(str(part) for part in location) or "(file)"
            message = error["msg"].removeprefix("Value error, ")
            bundle.problem(path, yaml_lines.line_of(data, location) + line_offset, f"{where}: {message}")
        return None


def _read_yaml(bundle: Bundle, path: Path):
    try:
        return yaml_lines.load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        bundle.problem(path, 1, "not UTF-8 text")
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        bundle.problem(path, line, f"YAML does not parse: {exc.problem}")
    return None


def _read_front_matter(bundle: Bundle, path: Path, model: type[BaseModel]):
    try:
        text = path.read_text(encoding="utf-8")
        header, body, body_line = yaml_lines.split_front_matter(text)
    except (UnicodeDecodeError, ValueError) as exc:
        bundle.problem(path, 1, f"cannot read front matter: {exc}")
        return None, "", 1
    if not header:
        bundle.problem(path, 1, "missing front matter: start the file with a '---' line, YAML, and '---'")
        return None, body, body_line
    try:
        data = yaml_lines.load(header)
    except yaml.MarkedYAMLError as exc:
        bundle.problem(path, (exc.problem_mark.line + 2) if exc.problem_mark else 1, f"front matter: {exc.problem}")
        return None, body, body_line
    return _validate(bundle, model, data, path, line_offset=1), body, body_line


def _load_modules(bundle: Bundle, track: LoadedTrack, folder: Path) -> None:
    for module_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        module_file = module_dir / "module.md"
        if not module_file.exists():
            bundle.problem(module_dir, 0, "a module folder needs a module.md")
            continue
        spec, introduction, _ = _read_front_matter(bundle, module_file, ModuleSpec)
        if spec is None:
            continue
        if spec.id != module_dir.name:
            bundle.problem(module_file, 2, f"id '{spec.id}' differs from the folder name '{module_dir.name}'")
        module = LoadedModule(spec=spec, introduction=introduction.strip(), path=module_dir)
        for item in sorted(module_dir.iterdir()):
            if item.suffix in ASSET_TYPES:
                module.assets[item.name] = item
            elif item.suffix == ".md" and item.name != "module.md":
                lesson_spec, body, body_line = _read_front_matter(bundle, item, LessonSpec)
                if lesson_spec is not None:
                    module.lessons.append(LoadedLesson(item.stem, lesson_spec, body.strip(), item, body_line))
        track.modules.append(module)
    track.modules.sort(key=lambda m: (m.spec.order, m.spec.id))


def _load_questions(bundle: Bundle, track: LoadedTrack, folder: Path) -> None:
    for path in sorted(folder.glob("*.yaml")):
        if path.name == "blueprint.yaml":
            continue
        data = _read_yaml(bundle, path)
        if data is None:
            continue
        if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
            bundle.problem(path, 1, "expected a mapping with track, domain and a list of questions")
            continue
        if _validate(bundle, QuestionFileSpec, data, path) is None:
            continue
        if data["track"] != track.spec.code:
            bundle.problem(path, 1, f"track '{data['track']}' but the file is in {track.spec.code}'s folder")
        if path.stem != data["domain"]:
            bundle.problem(path, 2, f"domain '{data['domain']}' differs from the file name '{path.stem}'")
        for index, raw in enumerate(data["questions"]):
            spec = _validate(bundle, QuestionSpec, raw, path)
            if spec is not None:
                track.questions.append(LoadedQuestion(spec, track.spec.code, data["domain"], path,
                                                      yaml_lines.line_of(raw)))


def _load_labs(bundle: Bundle, track: LoadedTrack, folder: Path) -> None:
    from academy.labs.schema import LabSpec

    for path in sorted(folder.glob("*.yaml")):
        data = _read_yaml(bundle, path)
        if data is None:
            continue
        spec = _validate(bundle, LabSpec, data, path)
        if spec is None:
            continue
        if spec.id != path.stem:
            bundle.problem(path, 1, f"id '{spec.id}' differs from the file name '{path.stem}'")
        if spec.track != track.spec.code:
            bundle.problem(path, 1, f"track '{spec.track}' but the file is in {track.spec.code}'s folder")
        track.labs.append(LoadedLab(spec, data, path))


def load(curricula_dir: Path = CURRICULA_DIR, banks_dir: Path = QUESTION_BANKS_DIR) -> Bundle:
    """Read every track with its modules, lessons, blueprint and questions. Problems go in `problems`."""
    bundle = Bundle()
    for track_dir in sorted(p for p in curricula_dir.iterdir() if p.is_dir() and p.name != PATHS_FOLDER) \
            if curricula_dir.exists() else []:
        track_file = track_dir / "track.yaml"
        if not track_file.exists():
            bundle.problem(track_dir, 0, "a track folder needs a track.yaml")
            continue
        spec = _validate(bundle, TrackSpec, _read_yaml(bundle, track_file), track_file)
        if spec is None:
            continue
        if spec.code != track_dir.name:
            bundle.problem(track_file, 1, f"code '{spec.code}' differs from the folder name '{track_dir.name}'")
        track = LoadedTrack(spec=spec, path=track_dir)
        bundle.tracks[spec.code] = track
        if (track_dir / "modules").is_dir():
            _load_modules(bundle, track, track_dir / "modules")
        if (track_dir / "labs").is_dir():
            _load_labs(bundle, track, track_dir / "labs")
        bank = banks_dir / spec.code
        if (bank / "blueprint.yaml").exists():
            track.blueprint = _validate(bundle, BlueprintSpec, _read_yaml(bundle, bank / "blueprint.yaml"),
                                        bank / "blueprint.yaml")
        if bank.is_dir():
            _load_questions(bundle, track, bank)
    for path in sorted((curricula_dir / PATHS_FOLDER).glob("*.yaml")) if curricula_dir.exists() else []:
        data = _read_yaml(bundle, path)
        spec = _validate(bundle, PathSpec, data, path) if data is not None else None
        if spec is not None:
            if spec.id != path.stem:
                bundle.problem(path, 1, f"id '{spec.id}' differs from the file name '{path.stem}'")
            bundle.paths.append(LoadedPath(spec, data, path))
    if banks_dir.exists():
        for bank in sorted(p for p in banks_dir.iterdir() if p.is_dir() and p.name not in bundle.tracks):
            bundle.problem(bank, 0, f"question bank '{bank.name}' has no track in curricula/")
    return bundle


def fingerprint(*folders: Path) -> str:
    """A hash of every file's path and bytes: equal fingerprints mean nothing changed."""
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(folder.parent)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()
