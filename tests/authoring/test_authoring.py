"""Authoring: versions, checks, publishing to one organisation only, copies of bundled content, zip round trip."""
from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import func, select

from academy.authoring import archive, copying, publish, questions, starters, tree
from academy.extensions import db
from academy.models import AuthoredFile, Lab, Lesson, Organization, Question, Track, User
from tests.security.conftest import login, token_of

BODY = ("Our department sends every CT study to the archive as soon as the technologist closes the exam. "
        "The archive answers with a storage commitment report once the images are safe on two disks, and only "
        "then may the modality delete its local copy. This lesson shows where to look when a study is missing, "
        "who to call on each shift, and which log tells you whether the association was even opened. ")


def own_tree(code: str = "RAD", body: str = BODY) -> dict[str, bytes]:
    lab = code.lower() + "-echo"
    return {
        f"curricula/{code}/track.yaml": starters.track_file(code, "Radiology at General"),
        f"curricula/{code}/modules/first-week/module.md": starters.module_file("first-week", "First week", "local-practice"),
        f"curricula/{code}/modules/first-week/overview.md": starters.front_matter(
            {"title": "Where images go", "minutes": 5}, body + "\n\nSee also [ports](lesson:TST1/basics/01-ports)."),
        f"curricula/{code}/labs/{lab}.yaml": starters.lab_file(lab, code, "local-practice", "Register a reading station"),
        f"question_banks/{code}/blueprint.yaml": starters.blueprint_file(code, {"local-practice": 100}),
        f"question_banks/{code}/local-practice.yaml": questions.put(None, code, "local-practice", {
            "id": f"{lab}-q1", "type": "single", "stem": "Which service proves a DICOM connection?",
            "choices": [{"id": "a", "text": "C-ECHO"}, {"id": "b", "text": "C-FIND"}, {"id": "c", "text": "C-STORE"}],
            "answer": "a", "explanation": "The Verification service (C-ECHO) exists to test a connection.",
            "references": ["DICOM PS3.4 Annex A (Verification Service Class)"]}),
    }


def org_id(name: str) -> int:
    return db.session.scalar(select(Organization.id).where(Organization.name == name))


def write(organization_id: int, files: dict[str, bytes], author_id: int | None = None) -> None:
    archive.replace_tree(db.session, organization_id, files, author_id=author_id, note="test")
    db.session.commit()


def test_every_save_is_a_version_with_its_author_and_a_rollback_is_a_new_version(app, accounts):
    with app.app_context():
        general, path = org_id("General Hospital"), "curricula/RAD/track.yaml"
        first = tree.save(db.session, general, path, b"code: RAD\n", author_id=accounts["instructor"].id)
        assert tree.save(db.session, general, path, b"code: RAD\n", author_id=accounts["instructor"].id) is None
        second = tree.save(db.session, general, path, b"code: RAD\ntitle: Ours\n", author_id=accounts["org_admin"].id,
                           note="a title")
        db.session.commit()
        assert (first.number, second.number, second.note) == (1, 2, "a title")
        assert db.session.get(User, second.author_id).email == accounts["org_admin"].email
        file = tree.file_at(db.session, general, path)
        assert tree.diff(file, 1, 2) == ["--- version 1", "+++ version 2", "@@ -1 +1,2 @@", " code: RAD", "+title: Ours"]
        third = tree.restore(db.session, file, 1, author_id=accounts["instructor"].id)
        assert (third.number, third.data, third.note) == (3, b"code: RAD\n", "restored version 1")
        deleted = tree.save(db.session, general, path, None, author_id=None)
        assert deleted.data is None and tree.current_files(db.session, general) == {}
        with pytest.raises(tree.TreeError):
            tree.diff(file, 1, 9)


@pytest.mark.parametrize("path, data, reason", [
    ("../etc/passwd.yaml", b"x", "not a place"),
    ("curricula/RAD/modules/m/run.py", b"x", "not a place"),
    ("curricula/paths/ours.yaml", b"x", "not a place"),
    ("curricula/rad/track.yaml", b"x", "not a place"),
    ("curricula/RAD/modules/m/d.svg", b'<svg><script>alert(1)</script></svg>', "shapes and text only"),
    ("curricula/RAD/modules/m/d.svg", b'<svg onload="x()"/>', "shapes and text only"),
    ("curricula/RAD/modules/m/d.png", b"GIF89a", "not a PNG"),
    ("curricula/RAD/modules/m/l.md", b"\xff\xfe bad", "not UTF-8"),
    ("curricula/RAD/modules/m/l.md", b"x" * (tree.MAX_FILE_BYTES + 1), "at most 512 KB"),
])
def test_the_tree_refuses_files_it_could_not_load_or_that_could_carry_script(app, path, data, reason):
    with app.app_context():
        with pytest.raises(tree.TreeError, match=reason):
            tree.save(db.session, org_id("General Hospital"), path, data, author_id=None)
        db.session.rollback()
        assert db.session.scalar(select(func.count(AuthoredFile.id))) == 0


def test_a_published_tree_is_seen_by_its_organisation_only_and_drafts_by_nobody(app, accounts):
    with app.app_context():
        write(org_id("General Hospital"), own_tree(), accounts["instructor"].id)
    trainee, other = login(app, accounts["trainee"]), login(app, accounts["other_trainee"])
    assert trainee.get("/tracks/RAD").status_code == 404  # a draft
    staff = login(app, accounts["instructor"])
    response = staff.post("/authoring/publish", data={"csrf_token": token_of(staff, "/authoring")})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "Radiology at General" in trainee.get("/tracks/RAD").get_data(as_text=True)
    assert trainee.get("/labs/rad-echo").status_code == 200
    assert "Radiology at General" in trainee.get("/dashboard").get_data(as_text=True)
    for url in ("/tracks/RAD", "/tracks/RAD/modules/first-week", "/labs/rad-echo", "/practice/RAD"):
        assert other.get(url).status_code == 404, url
    assert "Radiology at General" not in other.get("/dashboard").get_data(as_text=True)
    assert "Radiology at General" not in other.get("/labs").get_data(as_text=True)

    # an edit is a draft until published; then trainees get a new version of the lesson
    lesson_url = "/tracks/RAD/modules/first-week/lessons/overview"
    with app.app_context():
        general = org_id("General Hospital")
        path = "curricula/RAD/modules/first-week/overview.md"
        tree.save(db.session, general, path, starters.front_matter({"title": "Where images go"}, BODY + " Rewritten."),
                  author_id=accounts["instructor"].id)
        db.session.commit()
    assert "Rewritten." not in trainee.get(lesson_url).get_data(as_text=True)
    staff.post("/authoring/publish", data={"csrf_token": token_of(staff, "/authoring")})
    assert "Rewritten." in trainee.get(lesson_url).get_data(as_text=True)
    with app.app_context():
        lesson = db.session.scalar(select(Lesson).where(Lesson.key == "overview"))
        assert lesson.version == 2
        assert db.session.scalar(select(Track).where(Track.code == "RAD")).organization_id == org_id("General Hospital")


def test_publishing_a_tree_with_problems_names_them_and_changes_nothing(app, accounts):
    files = own_tree(body="Too short to teach.")
    files["curricula/RAD/labs/rad-echo.yaml"] = files["curricula/RAD/labs/rad-echo.yaml"].replace(
        b"domain: local-practice", b"domain: nowhere")
    with app.app_context():
        write(org_id("General Hospital"), files)
    staff = login(app, accounts["org_admin"])
    response = staff.post("/authoring/publish", data={"csrf_token": token_of(staff, "/authoring")})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "curricula/RAD/modules/first-week/overview.md:" in page and "too short" in page
    assert "curricula/RAD/labs/rad-echo.yaml:1: domain &#39;nowhere&#39; is not a domain of RAD" in page
    with app.app_context():
        assert db.session.scalar(select(Track).where(Track.code == "RAD")) is None


def test_a_tree_may_not_take_a_bundled_code_or_lab_id(app):
    files = own_tree("TST1")
    files["curricula/TST1/labs/tst-echo.yaml"] = starters.lab_file("tst-echo", "TST1", "local-practice", "Clash")
    with app.app_context():
        problems = publish.check(db.session, files)
    assert any("code 'TST1' is a bundled track's" in p for p in problems)
    assert any("lab id 'tst-echo' is used twice (also in the bundled labs)" in p for p in problems)


def test_export_import_into_an_empty_organisation_and_export_again_is_identical(app, accounts):
    with app.app_context():
        general = org_id("General Hospital")
        files = own_tree()
        files["curricula/RAD/modules/first-week/diagram.svg"] = b'<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>'
        write(general, files)
        assert publish.publish(db.session, general, user_id=None)[1] == []
        db.session.commit()
    staff = login(app, accounts["instructor"])
    exported = staff.get("/authoring/export.zip")
    assert exported.headers["Content-Type"] == "application/zip"
    with app.app_context():
        empty = Organization(name="Third Hospital")
        db.session.add(empty)
        db.session.flush()
        imported = archive.from_zip(exported.data)
        assert imported == files  # nothing lost or altered, binary files included
        archive.replace_tree(db.session, empty.id, imported, author_id=None, note="import")
        release, problems = publish.publish(db.session, empty.id, user_id=None)  # same codes, another organisation
        assert problems == [] and release.number == 1
        db.session.commit()
        assert archive.to_zip(tree.current_files(db.session, empty.id)) == exported.data
        assert db.session.scalar(select(func.count(Track.id)).where(Track.code == "RAD")) == 2
        assert db.session.scalar(select(func.count(Lab.id)).where(Lab.key == "rad-echo")) == 2
        assert db.session.scalar(select(func.count(Question.id)).where(Question.key == "rad-echo-q1")) == 2


def _zip(entries: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as made:
        for name, data in entries.items():
            made.writestr(name, data)
    return buffer.getvalue()


def _corrupt_zip() -> bytes:
    """A zip whose directory is intact but whose compressed data is damaged."""
    data = bytearray(_zip({"curricula/RAD/track.yaml": b"code: RAD\n" * 200}, zipfile.ZIP_DEFLATED))
    start = 30 + len("curricula/RAD/track.yaml")  # local header, then the file name, then the data
    data[start:start + 8] = b"\xff" * 8
    return bytes(data)


@pytest.mark.parametrize("upload, message", [
    (b"not a zip at all", "not a zip archive"),
    (_zip({"../curricula/RAD/track.yaml": b"x"}), "not a safe file name"),
    (_zip({"/curricula/RAD/track.yaml": b"x"}), "not a safe file name"),
    (_zip({"curricula/RAD/track.yaml": b"code: RAD\n", "curricula/RAD/modules/m/x.svg": b"<svg onclick='a()'/>"}),
     "shapes and text only"),
    (_zip({"README.md": b"nothing here"}), "holds no content files"),
    (_corrupt_zip(), "cannot be read from the zip"),
])
def test_a_hostile_or_empty_zip_is_refused_and_changes_nothing(app, accounts, upload, message):
    with app.app_context():
        write(org_id("General Hospital"), own_tree())
    staff = login(app, accounts["instructor"])
    before = staff.get("/authoring/export.zip").data
    response = staff.post("/authoring/import", data={"csrf_token": token_of(staff, "/authoring"),
                                                     "import-file": (io.BytesIO(upload), "content.zip")},
                          content_type="multipart/form-data", follow_redirects=True)
    assert "Nothing was imported" in response.get_data(as_text=True) and message in response.get_data(as_text=True)
    assert staff.get("/authoring/export.zip").data == before


def test_a_zip_made_from_a_repository_folder_is_accepted(app):
    files = own_tree()
    upload = _zip({f"our-content/{path}": data for path, data in files.items()} | {"our-content/README.md": b"hi"})
    assert archive.from_zip(upload) == files


def test_the_question_form_puts_the_validators_messages_beside_the_fields(app, accounts):
    with app.app_context():
        write(org_id("General Hospital"), {"curricula/RAD/track.yaml": starters.track_file("RAD", "Ours")})
    staff = login(app, accounts["instructor"])
    form = {"csrf_token": token_of(staff, "/authoring/questions/new"), "bank": "RAD/local-practice", "id": "rad-q1",
            "type": "single", "difficulty": "2", "stem": "Which port does DICOM register with IANA?",
            "choice_a": "104", "choice_b": "2575", "choice_c": "11112", "answer": "z",
            "explanation": "104 is the registered DICOM port.", "references": "DICOM PS3.8 Annex G"}
    response = staff.post("/authoring/questions/new", data=form)
    assert response.status_code == 422
    assert "write the one correct choice id as the answer" in response.get_data(as_text=True)
    with app.app_context():
        assert tree.file_at(db.session, org_id("General Hospital"), "question_banks/RAD/local-practice.yaml") is None
    response = staff.post("/authoring/questions/new", data={**form, "answer": "a"})
    assert response.status_code == 302
    with app.app_context():
        files = tree.current_files(db.session, org_id("General Hospital"))
        assert questions.find(files["question_banks/RAD/local-practice.yaml"], "rad-q1")["answer"] == "a"
        assert b"local-practice: 100" in files["question_banks/RAD/blueprint.yaml"]  # made for the first question
    edit = staff.get(response.headers["Location"])
    assert 'value="2575"' in edit.get_data(as_text=True)


def test_a_copied_bundled_module_keeps_its_links_pointing_at_the_bundled_track(app):
    with app.app_context():
        general = org_id("General Hospital")
        write(general, {"curricula/RAD/track.yaml": starters.track_file("RAD", "Ours")})
        copied = copying.files_for(db.session, "module:TST1/basics", "RAD", "local-practice", "our-basics")
        assert "curricula/RAD/modules/our-basics/flow.svg" in copied
        assert all(b"](lesson:02-bytes" not in data for data in copied.values())
        archive.replace_tree(db.session, general, {**tree.current_files(db.session, general), **copied}, author_id=None,
                             note="copy")
        assert publish.check(db.session, tree.current_files(db.session, general)) == []


def test_another_organisations_files_are_not_found(app, accounts):
    with app.app_context():
        write(org_id("Other Hospital"), own_tree())
        theirs = tree.file_at(db.session, org_id("Other Hospital"), "curricula/RAD/labs/rad-echo.yaml").id
    staff = login(app, accounts["org_admin"])
    token = token_of(staff, "/authoring")
    assert staff.get(f"/authoring/files/{theirs}").status_code == 404
    assert staff.get(f"/authoring/files/{theirs}/history").status_code == 404
    for action in ("restore/1", "delete", "try"):
        assert staff.post(f"/authoring/files/{theirs}/{action}", data={"csrf_token": token}).status_code == 404
    assert b"rad-echo" not in staff.get("/authoring/export.zip").data
    assert login(app, accounts["trainee"]).get("/authoring").status_code == 403


def test_the_preview_is_the_servers_sanitised_rendering(app, accounts):
    staff = login(app, accounts["instructor"])
    response = staff.post("/authoring/preview", data={
        "csrf_token": token_of(staff, "/authoring"), "path": "curricula/RAD/modules/m/l.md",
        "text": "---\ntitle: x\n---\n## Hello\n\n<script>alert(1)</script> [a](javascript:alert(1)) [b](lesson:TST1/basics/01-ports)"})
    html = response.get_json()["html"]
    assert "<h2>Hello</h2>" in html and "<script" not in html and 'href="javascript' not in html
    assert 'href="/tracks/TST1/modules/basics/lessons/01-ports"' in html


def test_try_it_plays_the_drafts_solution_and_an_idle_run_in_the_sandbox(app, accounts, box):
    app.extensions["academy.sandbox"] = box
    with app.app_context():
        write(org_id("General Hospital"), own_tree())
        lab = tree.file_at(db.session, org_id("General Hospital"), "curricula/RAD/labs/rad-echo.yaml")
    staff = login(app, accounts["instructor"])
    page = staff.post(f"/authoring/files/{lab.id}/try", data={"csrf_token": token_of(staff, "/authoring")})
    text = page.get_data(as_text=True)
    assert "The lab works: its solution scores 8/8 and doing nothing scores 0." in text
    assert text.count(">passed (4/4)") == 2 and "READ9 is not in the node registry" in text

    # a solution that misses a step shows which check fails
    with app.app_context():
        broken = own_tree()["curricula/RAD/labs/rad-echo.yaml"].replace(b"  device: READ9\n", b"  device: WS\n")
        assert broken != own_tree()["curricula/RAD/labs/rad-echo.yaml"]
        tree.save(db.session, org_id("General Hospital"), lab.path, broken, author_id=None)
        db.session.commit()
    text = staff.post(f"/authoring/files/{lab.id}/try", data={"csrf_token": token_of(staff, "/authoring")}).get_data(as_text=True)
    assert "Not yet: the solution scores 4/8" in text and "No successful C-ECHO from READ9 yet." in text


def test_the_cli_round_trips_a_tree_through_a_git_folder_and_publishes_it(app, runner, tmp_path):
    with app.app_context():
        write(org_id("General Hospital"), own_tree())
        db.session.add(Organization(name="Fourth Hospital"))
        db.session.commit()
    folder = tmp_path / "content-repo"
    result = runner.invoke(args=["content", "export", "--org", "General Hospital", str(folder)])
    assert result.exit_code == 0, result.output
    assert (folder / "curricula/RAD/labs/rad-echo.yaml").read_bytes() == own_tree()["curricula/RAD/labs/rad-echo.yaml"]
    result = runner.invoke(args=["content", "import", "--org", "Fourth Hospital", "--publish", str(folder)])
    assert result.exit_code == 0 and "published" in result.output, result.output
    result = runner.invoke(args=["content", "export", "--org", "Fourth Hospital", str(tmp_path / "again.zip")])
    assert result.exit_code == 0
    assert archive.from_zip((tmp_path / "again.zip").read_bytes()) == own_tree()
    (folder / "curricula/RAD/track.yaml").write_text("code: RAD\n")  # broken: nothing may change
    result = runner.invoke(args=["content", "import", "--org", "Fourth Hospital", "--publish", str(folder)])
    assert result.exit_code != 0 and "track.yaml" in result.output
    with app.app_context():
        assert tree.current_files(db.session, org_id("Fourth Hospital")) == own_tree()
    assert runner.invoke(args=["content", "export", "--org", "Nobody", str(folder)]).exit_code != 0


def test_trainees_attempts_keep_the_version_of_an_authored_question_they_answered(app, accounts):
    from academy.exams import practice
    from academy.models import Attempt, QuestionVersion
    from academy import clock

    with app.app_context():
        general = org_id("General Hospital")
        write(general, own_tree())
        publish.publish(db.session, general, user_id=None)
        db.session.commit()
        question = db.session.scalar(select(Question).where(Question.key == "rad-echo-q1"))
        first = question.current
        practice.answer(db.session, accounts["trainee"].id, first, ["a"], confidence=None, seconds=12, now=clock.now())
        db.session.commit()
        bank = "question_banks/RAD/local-practice.yaml"
        changed = tree.current_files(db.session, general)[bank].replace(b"proves a DICOM connection", b"tests a DICOM link")
        tree.save(db.session, general, bank, changed, author_id=None)
        publish.publish(db.session, general, user_id=None)
        db.session.commit()
        versions = db.session.scalars(select(QuestionVersion).where(QuestionVersion.question_id == question.id)
                                      .order_by(QuestionVersion.number)).all()
        assert [v.number for v in versions] == [1, 2] and "tests a DICOM link" in versions[1].stem
        attempt = db.session.scalar(select(Attempt).where(Attempt.user_id == accounts["trainee"].id))
        assert attempt.question_version_id == first.id


def test_a_bundled_question_can_be_copied_into_the_form_and_adapted(app, accounts):
    with app.app_context():
        write(org_id("General Hospital"), {"curricula/RAD/track.yaml": starters.track_file("RAD", "Ours")})
        bundled = db.session.scalar(select(Question).join(Track).where(Track.code == "TST1"))
        key, stem = bundled.key, bundled.current.stem
    staff = login(app, accounts["instructor"])
    page = staff.get(f"/authoring/questions/new?copy={key}").get_data(as_text=True)
    assert f'value="{key}-ours"' in page and stem.split()[0] in page
    assert staff.get("/authoring/questions/new?copy=no-such-question").status_code == 404


def test_publishing_twice_does_nothing_and_publishing_a_deleted_track_retires_it(app, accounts):
    with app.app_context():
        general = org_id("General Hospital")
        write(general, own_tree())
        first, _ = publish.publish(db.session, general, user_id=None)
        db.session.commit()
        assert publish.publish(db.session, general, user_id=None) == (None, [])
        archive.replace_tree(db.session, general, {}, author_id=None, note="start over")
        second, problems = publish.publish(db.session, general, user_id=None)
        db.session.commit()
        assert problems == [] and (first.number, second.number) == (1, 2) and "2 retired" in second.summary  # the track and its question
        assert db.session.scalar(select(Track).where(Track.code == "RAD")).retired
    assert login(app, accounts["trainee"]).get("/tracks/RAD").status_code == 404
