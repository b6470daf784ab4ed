"""Authoring pages for instructors and organisation administrators: their organisation's tree only.

Every file id in a URL is looked up with the organisation (tree.file_of), so another organisation's file
is a 404 like a file that does not exist.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from academy import audit, sandbox_link
from academy.access import INSTRUCTOR, ORG_ADMIN, current_organization_id, role_required
from academy.auth.forms import EmptyForm, require_valid_post
from academy.authoring import archive, copying, forms, publish, questions, starters, tree
from academy.content import markdown
from academy.extensions import db
from academy.learn.links import resolver

bp = Blueprint("authoring", __name__, url_prefix="/authoring")
AUTHORS = (INSTRUCTOR, ORG_ADMIN)


def _org_id() -> int:
    org_id = current_organization_id()
    if org_id is None:
        abort(403)  # authoring belongs to an organisation
    return org_id


def _file_or_404(file_id: int):
    file = tree.file_of(db.session, _org_id(), file_id)
    if file is None:
        abort(404)
    return file


def _refused(form):
    """Back to the authoring page with what was wrong with a small form (the page holds several)."""
    flash("; ".join(f"{form[name].label.text}: {', '.join(errs)}" for name, errs in form.errors.items()), "danger")
    return redirect(url_for("authoring.index"))


def _domain_of(files: dict[str, bytes], form) -> bool:
    """The chosen domain belongs to the chosen track (the page offers every track's domains in one list)."""
    if form.domain.data in tree.tracks_in(files)[form.track.data]["domains"]:
        return True
    flash(f"'{form.domain.data}' is not a domain of {form.track.data}.", "danger")
    return False


def _choices(files: dict[str, bytes]):
    tracks = tree.tracks_in(files)
    track_choices = [(code, f"{code} · {t['title']}") for code, t in sorted(tracks.items())]
    domain_choices = [(d, d) for t in tracks.values() for d in t["domains"]]
    return tracks, track_choices, sorted(set(domain_choices))


def _forms(files: dict[str, bytes]) -> dict:
    """The small forms of the authoring page, their choices taken from the organisation's own tree."""
    tracks, track_choices, domain_choices = _choices(files)
    made = {"track": forms.NewTrackForm(prefix="track"), "module": forms.NewModuleForm(prefix="module"),
            "lesson": forms.NewLessonForm(prefix="lesson"), "lab": forms.NewLabForm(prefix="lab"),
            "asset": forms.AssetForm(prefix="asset"), "import": forms.ImportForm(prefix="import"),
            "copy": forms.CopyForm(prefix="copy")}
    modules = [(f"{code}/{m}", f"{code} / {m}") for code, t in sorted(tracks.items()) for m in sorted(t["modules"])]
    for name in ("module", "lab", "copy"):
        made[name].track.choices = track_choices
        made[name].domain.choices = domain_choices
    made["lesson"].module.choices = made["asset"].module.choices = modules
    made["copy"].source.choices = copying.bundled_sources(db.session)
    return made


@bp.get("")
@role_required(*AUTHORS)
def index():
    return _index_page()


def _index_page(problems: list[str] | None = None):
    """The tree with each file's state, the forms to write more, the releases; and why a publish failed."""
    org_id = _org_id()
    manifest = publish.published_manifest(db.session, org_id)
    entries = [e for e in tree.entries(db.session, org_id, published=manifest) if e.state != "gone"]
    files = {e.path: e.latest.data for e in entries if not e.deleted}
    return render_template("authoring/index.html", entries=entries, forms=_forms(files),
                           releases=publish.releases(db.session, org_id), tracks=tree.tracks_in(files),
                           pending=sum(e.state != "published" for e in entries), problems=problems), \
        422 if problems else 200


def _create(files: dict[str, bytes], note: str) -> int:
    """Save new files (refusing to overwrite one that exists) and return the id of the first."""
    org_id, first = _org_id(), None
    existing = tree.current_files(db.session, org_id)
    for path, data in files.items():
        if path in existing:
            raise tree.TreeError(f"'{path}' exists already: open it from the list instead.")
        version = tree.save(db.session, org_id, path, data, author_id=current_user.id, note=note)
        audit.record("content.created", path)
        first = first or version.file_id
    db.session.commit()
    return first


@bp.post("/new/<kind>")
@role_required(*AUTHORS)
def new(kind: str):
    org_id = _org_id()
    current = tree.current_files(db.session, org_id)
    made = _forms(current)
    form = made.get(kind)
    if form is None or kind in ("asset", "import", "copy"):
        abort(404)
    if not form.validate_on_submit():
        return _refused(form)
    if kind in ("module", "lab") and not _domain_of(current, form):
        return redirect(url_for("authoring.index"))
    try:
        if kind == "track":
            code = form.code.data
            file_id = _create({f"curricula/{code}/track.yaml": starters.track_file(code, form.title.data)}, "new track")
        elif kind == "module":
            folder = f"curricula/{form.track.data}/modules/{form.key.data}"
            file_id = _create({f"{folder}/module.md": starters.module_file(form.key.data, form.title.data, form.domain.data),
                               f"{folder}/overview.md": starters.lesson_file("Overview")}, "new module")
        elif kind == "lesson":
            code, _, module = form.module.data.partition("/")
            file_id = _create({f"curricula/{code}/modules/{module}/{form.key.data}.md": starters.lesson_file(form.title.data)},
                              "new lesson")
        else:
            file_id = _create({f"curricula/{form.track.data}/labs/{form.key.data}.yaml": starters.lab_file(
                form.key.data, form.track.data, form.domain.data, form.title.data)}, "new lab")
    except tree.TreeError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for("authoring.index"))
    return redirect(url_for("authoring.edit", file_id=file_id))


@bp.post("/copy")
@role_required(*AUTHORS)
def copy():
    org_id = _org_id()
    current = tree.current_files(db.session, org_id)
    form = _forms(current)["copy"]
    if not form.validate_on_submit():
        return _refused(form)
    if not _domain_of(current, form):
        return redirect(url_for("authoring.index"))
    try:
        files = copying.files_for(db.session, form.source.data, form.track.data, form.domain.data, form.key.data)
        file_id = _create(files, f"copied from bundled {form.source.data}")
    except tree.TreeError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for("authoring.index"))
    flash(f"Copied {form.source.data}: adapt it, then publish.", "success")
    return redirect(url_for("authoring.edit", file_id=file_id))


@bp.post("/assets")
@role_required(*AUTHORS)
def upload_asset():
    org_id = _org_id()
    form = _forms(tree.current_files(db.session, org_id))["asset"]
    if not form.validate_on_submit():
        return _refused(form)
    code, _, module = form.module.data.partition("/")
    name = (form.file.data.filename or "").rsplit("/", 1)[-1].lower().replace("_", "-").replace(" ", "-")
    try:
        tree.save(db.session, org_id, f"curricula/{code}/modules/{module}/{name}", form.file.data.read(),
                  author_id=current_user.id, note="uploaded")
        audit.record("content.uploaded", f"{code}/{module}/{name}")
        db.session.commit()
        flash(f"Added {name}: show it in a lesson with ![description]({name}).", "success")
    except tree.TreeError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    return redirect(url_for("authoring.index"))


@bp.route("/files/<int:file_id>", methods=["GET", "POST"])
@role_required(*AUTHORS)
def edit(file_id: int):
    file = _file_or_404(file_id)
    latest = tree.latest(file)
    form, status, problems = forms.FileForm(), 200, None
    binary = not file.path.endswith(tree.TEXT_SUFFIXES)
    if request.method == "GET" and latest.data is not None and not binary:
        form.text.data = tree.text(latest)
    if request.method == "POST" and not binary:
        if form.validate_on_submit():
            text = (form.text.data or "").replace("\r\n", "\n")
            try:
                version = tree.save(db.session, file.organization_id, file.path, text.encode("utf-8"),
                                    author_id=current_user.id, note=form.note.data or "")
                if version is not None:
                    audit.record("content.saved", file.path, version=version.number)
                db.session.commit()
                flash(f"Saved version {version.number}." if version else "Nothing changed.", "success")
                return redirect(url_for("authoring.edit", file_id=file.id))
            except tree.TreeError as exc:
                db.session.rollback()
                form.text.errors.append(str(exc))
        status = 422
    if latest.data is not None and not binary:
        problems = publish.problems_of(db.session, tree.current_files(db.session, file.organization_id), file.path)
    is_bank = file.path.startswith("question_banks/") and not file.path.endswith("blueprint.yaml")
    return render_template("authoring/edit.html", file=file, latest=latest, form=form, binary=binary,
                           bank_questions=questions.ids(latest.data) if is_bank else [],
                           problems=problems, is_lab="/labs/" in file.path,
                           is_markdown=file.path.endswith(".md"), is_bank=is_bank), status


@bp.post("/preview")
@role_required(*AUTHORS)
def preview():
    """The server's rendering of Markdown as the author types: the same renderer and sanitiser trainees get."""
    require_valid_post()
    path = request.form.get("path", "")
    text = request.form.get("text", "")[: tree.MAX_FILE_BYTES]
    from academy.content import yaml_lines

    try:
        _, body, _ = yaml_lines.split_front_matter(text)
    except ValueError:
        body = text
    parts = path.split("/")
    code = parts[1] if len(parts) > 2 else ""
    folder = "/".join(parts[:-1])
    html = markdown.render(body, resolver(code), lambda name: url_for("authoring.raw", path=f"{folder}/{name}"))
    return jsonify(html=html)


@bp.get("/raw/<path:path>")
@role_required(*AUTHORS)
def raw(path: str):
    file = tree.file_at(db.session, _org_id(), path)
    if file is None or tree.latest(file).data is None or not path.endswith((".svg", ".png")):
        abort(404)
    media = "image/svg+xml" if path.endswith(".svg") else "image/png"
    return Response(tree.latest(file).data, mimetype=media, headers={"Content-Disposition": "inline"})


@bp.get("/files/<int:file_id>/history")
@role_required(*AUTHORS)
def history(file_id: int):
    file = _file_or_404(file_id)
    numbers = [v.number for v in file.versions]
    old = request.args.get("from", type=int) or (numbers[-2] if len(numbers) > 1 else numbers[-1])
    new = request.args.get("to", type=int) or numbers[-1]
    try:
        lines = tree.diff(file, old, new)
    except tree.TreeError as exc:
        abort(404, str(exc))
    manifest = publish.published_manifest(db.session, file.organization_id)
    return render_template("authoring/history.html", file=file, lines=lines, old=old, new=new,
                           published=manifest.get(file.path), form=EmptyForm())


@bp.post("/files/<int:file_id>/restore/<int:number>")
@role_required(*AUTHORS)
def restore(file_id: int, number: int):
    require_valid_post()
    file = _file_or_404(file_id)
    try:
        version = tree.restore(db.session, file, number, author_id=current_user.id)
    except tree.TreeError as exc:
        abort(404, str(exc))
    if version is not None:
        audit.record("content.restored", file.path, version=number)
    db.session.commit()
    flash(f"Version {number} is the draft again (saved as version {version.number})." if version
          else "That version is the current one.", "success")
    return redirect(url_for("authoring.edit", file_id=file.id))


@bp.post("/files/<int:file_id>/delete")
@role_required(*AUTHORS)
def delete(file_id: int):
    require_valid_post()
    file = _file_or_404(file_id)
    if tree.latest(file).data is not None:
        tree.save(db.session, file.organization_id, file.path, None, author_id=current_user.id, note="deleted")
        audit.record("content.deleted", file.path)
        db.session.commit()
    flash(f"Deleted {file.path} from the draft; trainees keep seeing it until you publish. "
          "Its history can restore it.", "success")
    return redirect(url_for("authoring.index"))


@bp.post("/files/<int:file_id>/try")
@role_required(*AUTHORS)
def try_lab(file_id: int):
    """Play the lab's solution on a fresh partition and do nothing on another: what trainees will meet."""
    require_valid_post()
    file = _file_or_404(file_id)
    if "/labs/" not in file.path or tree.latest(file).data is None:
        abort(404)
    from academy.authoring import tryout

    outcome = tryout.run(db.session, file, sandbox_link.get())
    audit.record("lab.tried", file.path, ok=bool(outcome.result and outcome.result.ok))
    db.session.commit()
    return render_template("authoring/try.html", file=file, outcome=outcome)


@bp.route("/questions/new", methods=["GET", "POST"])
@role_required(*AUTHORS)
def new_question():
    return _question_page(None, None)


@bp.route("/questions/<int:file_id>/<question_id>", methods=["GET", "POST"])
@role_required(*AUTHORS)
def edit_question(file_id: int, question_id: str):
    return _question_page(file_id, question_id)


def _question_page(file_id: int | None, question_id: str | None):
    """Write a question in a form; it is saved into its domain's file as a new version of that file."""
    org_id = _org_id()
    files = tree.current_files(db.session, org_id)
    tracks = tree.tracks_in(files)
    form = forms.QuestionForm()
    form.bank.choices = [(f"{code}/{d}", f"{code} · {d}") for code, t in sorted(tracks.items()) for d in t["domains"]]
    bank_file, original = None, None
    if file_id is not None:
        bank_file = _file_or_404(file_id)
        try:
            original = questions.find(tree.latest(bank_file).data, question_id)
        except tree.TreeError:
            original = None
        if original is None:
            abort(404)
        if request.method == "GET":
            form.process(data=questions.to_form(original))
            form.bank.data = bank_file.path.split("/")[1] + "/" + bank_file.path.rsplit("/", 1)[1].removesuffix(".yaml")
    if file_id is None and request.method == "GET" and request.args.get("copy"):
        bundled = copying.bundled_question(db.session, request.args["copy"])
        if bundled is None:
            abort(404)
        form.process(data=questions.to_form(bundled))
    inline, status = {}, 200
    if request.method == "POST" and form.validate_on_submit():
        code, _, domain = form.bank.data.partition("/")
        item = questions.from_form({name: field.data or "" for name, field in form._fields.items()})
        inline = questions.errors(item)
        if not inline:
            try:
                path = questions.bank_path(code, domain)
                if bank_file is not None and bank_file.path != path:
                    raise tree.TreeError("A question stays in its track and domain; write a new one for another domain.")
                version = questions.save(db.session, org_id, files, code, domain, item, replace=question_id,
                                         author_id=current_user.id)
                audit.record("question.saved", f"{code}/{item['id']}")
                db.session.commit()
                flash(f"Saved question {item['id']}" + (f" (version {version.number} of {path})." if version else "."),
                      "success")
                saved = tree.file_at(db.session, org_id, path)
                return redirect(url_for("authoring.edit_question", file_id=saved.id, question_id=item["id"]))
            except tree.TreeError as exc:
                db.session.rollback()
                inline = {"id": [str(exc)]}
    if request.method == "POST":
        status = 422
        for name, messages in inline.items():
            if name in form._fields:
                form[name].errors = list(form[name].errors) + messages
    return render_template("authoring/question.html", form=form, inline=inline, original=original,
                           bank_file=bank_file, no_tracks=not tracks), status


@bp.post("/publish")
@role_required(*AUTHORS)
def publish_tree():
    require_valid_post()
    org_id = _org_id()
    try:
        release, problems = publish.publish(db.session, org_id, user_id=current_user.id)
        if release is None:
            db.session.rollback()
            if not problems:
                flash("Nothing has changed since the last release.", "info")
                return redirect(url_for("authoring.index"))
            return _index_page(problems)
        audit.record("content.published", f"release {release.number}", summary=release.summary)
        db.session.commit()
    except IntegrityError:  # someone else published this organisation's tree at the same moment
        db.session.rollback()
        flash("Someone else published at the same moment. Look at the releases, then publish again if needed.", "warning")
        return redirect(url_for("authoring.index"))
    flash(f"Published release {release.number}: {release.summary}.", "success")
    return redirect(url_for("authoring.index"))


@bp.get("/export.zip")
@role_required(*AUTHORS)
def export():
    org_id = _org_id()
    data = archive.to_zip(tree.current_files(db.session, org_id))
    audit.record("content.exported", f"{len(data)} bytes")
    db.session.commit()
    return Response(data, mimetype="application/zip",
                    headers={"Content-Disposition": "attachment; filename=content.zip"})


@bp.post("/import")
@role_required(*AUTHORS)
def import_zip():
    org_id = _org_id()
    form = _forms(tree.current_files(db.session, org_id))["import"]
    if not form.validate_on_submit():
        return _refused(form)
    try:
        files = archive.from_zip(form.file.data.read())
        changed, deleted = archive.replace_tree(db.session, org_id, files, author_id=current_user.id, note="imported")
        audit.record("content.imported", f"{len(files)} files", changed=changed, deleted=deleted)
        db.session.commit()
    except tree.TreeError as exc:
        db.session.rollback()
        flash(f"Nothing was imported: {exc}", "danger")
        return redirect(url_for("authoring.index"))
    flash(f"Imported {len(files)} files ({changed} changed, {deleted} removed) as drafts; publish when ready.", "success")
    return redirect(url_for("authoring.index"))
