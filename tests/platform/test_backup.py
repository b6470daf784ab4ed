"""Backup and restore of the whole platform: a populated site (accounts, a marked exam, a graded lab run, a
sandbox partition with stored images) is backed up, restored into an empty data dir by a fresh app, and
everything is found again; damaged archives and non-empty targets are refused without changing anything."""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import select

import sandbox
from academy import backup, sandbox_link
from academy.auth import service
from academy.config import secret_key_for
from academy.extensions import db
from academy.models import ExamSession, Grading, LabRun, User
from tests.conftest import Auth, make_app
from tests.exams.test_exam_integrity import (
    exam_items,
    right_values,
    save,
    start_exam,
    submit,
)
from tests.labs.test_runs import post, run_row, start_run

CODE = "BACKUP1"


def sandbox_for(app) -> sandbox.Sandbox:
    """A sandbox on the app's own data dir (what gets backed up), listening on free ports."""
    app.config.update(ACADEMY_DICOM_PORT=0, ACADEMY_HL7_PORT=0)
    box = sandbox.Sandbox(sandbox_link.config_for(app))
    box.start()
    app.extensions[sandbox_link.EXTENSION_KEY] = box
    return box


@pytest.fixture
def populated(app, client, accounts):
    """The source platform: every kind of record the backup must carry."""
    secret_key_for(app.config["ACADEMY_DATA_DIR"])  # as a real site keeps it (tests pass SECRET_KEY instead)
    box = sandbox_for(app)
    auth = Auth(client)
    auth.login(accounts["trainee"])
    exam_id = start_exam(client)
    for position, question in exam_items(app, exam_id)[:3]:
        assert save(client, exam_id, position, right_values(question)).status_code == 302
    assert submit(client, exam_id).status_code == 302
    run_id = start_run(client)
    code = run_row(app, run_id).partition_code
    box.add_node(code, "MYVIEWER", "127.0.0.1", 11113)
    assert box.devices(code).echo(f"{code}_PACS").ok
    post(client, f"/runs/{run_id}/check", run_id, **{"answer-modality": "ct"})
    assert post(client, f"/runs/{run_id}/submit", run_id).status_code == 302
    box.create_partition(CODE)
    box.generate(CODE, studies=2, images_per_series=3, seed=7)
    yield box, exam_id, run_id
    box.close()


def snapshot(app, box) -> dict:
    """What a restored platform must show again, read through the app and the sandbox API."""
    with app.app_context():
        users = {u.email: u.password_hash for u in db.session.scalars(select(User))}
        exams = {e.id: (e.user_id, e.score, e.submitted_at) for e in db.session.scalars(select(ExamSession))}
        runs = {r.id: (r.user_id, r.partition_code, r.state, r.score, r.max_score)
                for r in db.session.scalars(select(LabRun))}
        gradings = sorted((g.run_id, g.score, g.final, g.at) for g in db.session.scalars(select(Grading)))
    files = {i.sop_instance_uid: hashlib.sha256(box.instance_path(CODE, i.sop_instance_uid).read_bytes()).hexdigest()
             for i in box.instances(CODE)}
    return {"users": users, "exams": exams, "runs": runs, "gradings": gradings, "files": files,
            "studies": box.studies(CODE),
            "partitions": sorted(p.code for p in box.list_partitions())}


def fresh_app(folder: Path):
    folder.mkdir()
    return make_app(folder, f"sqlite:///{folder / 'academy.db'}")


def tree(folder: Path) -> dict:
    """Every file's bytes; SQLite files only by name (a checkpoint moves pages from -wal without a change)."""
    return {str(p.relative_to(folder)): b"" if ".db" in p.name else p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.endswith(("-wal", "-shm"))}


def test_a_restored_platform_has_everything_the_backup_had(app, populated, accounts, tmp_path):
    box, exam_id, run_id = populated
    before = snapshot(app, box)
    assert before["exams"][exam_id][1] == pytest.approx(0.6) and before["runs"][run_id][3] == 10
    assert len(before["files"]) == 6

    archive = tmp_path / "site.tar.gz"
    summary = backup.create(app, archive)
    assert summary.manifest["counts"] == {"users": len(before["users"]), "lab_runs": 1, "exam_sessions": 1,
                                          "partitions": len(before["partitions"]),
                                          "stored_instances": summary.manifest["counts"]["stored_instances"]}
    assert summary.manifest["counts"]["stored_instances"] >= 6
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".site")] == []  # no temp file left
    assert backup.verify(archive).manifest == summary.manifest

    target = fresh_app(tmp_path / "restored")
    backup.restore(target, archive)
    assert (tmp_path / "restored" / "secret_key").read_text() == (tmp_path / "secret_key").read_text()

    new_box = sandbox_for(target)
    try:
        assert snapshot(target, new_box) == before
        for uid, digest in before["files"].items():  # byte-identical files, at the path the index gives
            assert hashlib.sha256(new_box.instance_path(CODE, uid).read_bytes()).hexdigest() == digest
        found = new_box.devices(CODE).find(f"{CODE}_PACS", PatientID="", StudyInstanceUID="")
        assert found.ok and sorted(m["StudyInstanceUID"] for m in found.matches) == \
            sorted(s.study_uid for s in before["studies"])
    finally:
        new_box.close()

    client = target.test_client()
    for key in ("trainee", "instructor", "site_admin"):  # password hashes survived: the same passwords work
        response = Auth(client).login(accounts[key])
        assert response.status_code == 302 and "/login" not in response.headers["Location"]
        Auth(client).logout()
    assert Auth(client).login(accounts["trainee"], password="wrong").status_code != 302
    Auth(client).login(accounts["trainee"])
    assert "60%" in client.get(f"/exams/{exam_id}/results").get_data(as_text=True)
    with target.app_context():  # new rows get new ids (sequences / autoincrement past the restored ones)
        user = service.create_user(db.session, email="new@general.example.org", password="a-new-password-1",
                                   role="site_admin")
        db.session.commit()
        assert user.id > max(a.id for a in accounts.values())
        db.engine.dispose()


def test_the_cli_backs_up_verifies_and_refuses_a_non_empty_target(app, populated, tmp_path):
    box = populated[0]
    archive = tmp_path / "cli.tar.gz"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["backup", "create", str(archive)])
    assert result.exit_code == 0, result.output
    assert "Backed up" in result.output and "1 lab runs" in result.output
    result = runner.invoke(args=["backup", "create", str(archive)])
    assert result.exit_code == 1 and "already exists" in result.output  # never overwrites a backup
    result = runner.invoke(args=["backup", "verify", str(archive)])
    assert result.exit_code == 0 and result.output.startswith("OK"), result.output

    before, rows = tree(tmp_path), snapshot(app, box)
    result = runner.invoke(args=["backup", "restore", str(archive)])  # into the populated source itself
    assert result.exit_code == 2 and "refusing to restore" in result.output
    assert "Traceback" not in result.output
    assert tree(tmp_path) == before and snapshot(app, box) == rows  # nothing changed


def test_restore_refuses_a_data_dir_with_stray_files(app, populated, tmp_path):
    archive = tmp_path / "site.tar.gz"
    backup.create(app, archive)
    target = fresh_app(tmp_path / "target")
    (tmp_path / "target" / "notes.txt").write_text("someone's file")
    with pytest.raises(backup.TargetNotEmpty, match="notes.txt"):
        backup.restore(target, archive)
    assert sorted(p.name for p in (tmp_path / "target").iterdir()) == ["notes.txt"]


def test_a_restore_that_fails_half_way_leaves_an_empty_target(app, populated, tmp_path, monkeypatch):
    archive = tmp_path / "site.tar.gz"
    backup.create(app, archive)
    target = fresh_app(tmp_path / "target")
    moved = []

    def failing_move(source, destination):  # the disk fills up after the databases and three files
        if len(moved) == 3:
            raise OSError(28, "No space left on device")
        moved.append(destination)
        return shutil.move(source, destination)

    monkeypatch.setattr(backup.shutil, "move", failing_move)
    with pytest.raises(backup.BackupError, match="No space left"):
        backup.restore(target, archive)
    assert len(moved) == 3 and not any(Path(p).exists() for p in moved)
    with target.app_context():
        assert db.session.scalars(select(User)).all() == []
        db.session.remove()
    monkeypatch.undo()
    backup.restore(target, archive)  # the target still counts as empty: a second try succeeds
    with target.app_context():
        assert len(db.session.scalars(select(User)).all()) == len(populated_users(app))
        db.engine.dispose()


def populated_users(app) -> list:
    with app.app_context():
        return db.session.scalars(select(User)).all()


def rewrite(archive: Path, out: Path, change) -> None:
    """Copy the archive member by member, letting `change(name, data)` alter a member's bytes."""
    with tarfile.open(archive, "r:gz") as src, tarfile.open(out, "w:gz") as dst:
        for member in src:
            data = change(member.name, src.extractfile(member).read())
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))


def assert_refused_and_untouched(archive: Path, folder: Path, match: str) -> None:
    target = fresh_app(folder)
    before = tree(folder)
    with pytest.raises(backup.BackupError, match=match):
        backup.verify(archive)
    with pytest.raises(backup.BackupError, match=match):
        backup.restore(target, archive)
    assert tree(folder) == before
    assert not (folder / "academy.db").exists() and not (folder / "sandbox").exists()
    assert [p.name for p in folder.parent.iterdir() if p.name.startswith(".academy-restore-")] == []
    result = target.test_cli_runner().invoke(args=["backup", "restore", str(archive)])
    assert result.exit_code == 1 and "Traceback" not in result.output and "Error:" in result.output


def test_a_member_changed_by_one_byte_is_refused(app, populated, tmp_path):
    archive = tmp_path / "site.tar.gz"
    backup.create(app, archive)
    dicom = next(n for n in json.loads(_member(archive, backup.MANIFEST))["files"] if n.endswith(".dcm"))

    def flip(name, data):
        if name != dicom:
            return data
        return data[:200] + bytes([data[200] ^ 1]) + data[201:]

    rewrite(archive, tmp_path / "tampered.tar.gz", flip)
    assert_refused_and_untouched(tmp_path / "tampered.tar.gz", tmp_path / "t1", "checksum mismatch")

    rewrite(archive, tmp_path / "rows.tar.gz",
            lambda name, data: data.replace(b'"score": 10', b'"score": 11') if name == backup.PLATFORM_DUMP else data)
    assert_refused_and_untouched(tmp_path / "rows.tar.gz", tmp_path / "t2", "platform.jsonl")


def test_a_damaged_or_truncated_archive_is_refused(app, populated, tmp_path):
    archive = tmp_path / "site.tar.gz"
    backup.create(app, archive)
    data = archive.read_bytes()
    (tmp_path / "truncated.tar.gz").write_bytes(data[: len(data) // 2])
    assert_refused_and_untouched(tmp_path / "truncated.tar.gz", tmp_path / "t1", "damaged or truncated|manifest")
    middle = len(data) // 2
    (tmp_path / "flipped.tar.gz").write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:])
    assert_refused_and_untouched(tmp_path / "flipped.tar.gz", tmp_path / "t2", "damaged|truncated|not a readable")
    (tmp_path / "plain.tar.gz").write_bytes(gzip.compress(b"not a tar file at all"))
    assert_refused_and_untouched(tmp_path / "plain.tar.gz", tmp_path / "t3", "damaged|truncated|not a readable")


def test_an_archive_with_a_path_outside_the_data_dir_is_refused(app, populated, tmp_path):
    archive = tmp_path / "site.tar.gz"
    backup.create(app, archive)
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "r:gz") as src, tarfile.open(evil, "w:gz") as dst:
        for member in src:
            dst.addfile(member, src.extractfile(member))
        info = tarfile.TarInfo("../escaped")
        info.size = 3
        dst.addfile(info, io.BytesIO(b"bad"))
    assert_refused_and_untouched(evil, tmp_path / "t1", "refusing member")
    assert not (tmp_path / "escaped").exists()


def _member(archive: Path, name: str) -> bytes:
    with tarfile.open(archive, "r:gz") as tar:
        return tar.extractfile(name).read()


@pytest.fixture
def second_postgres_url(postgres_url):
    """Another fresh PostgreSQL database (dropped afterwards), for a PostgreSQL -> PostgreSQL restore."""
    import uuid

    import sqlalchemy as sa

    name = f"academy_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield str(sa.engine.make_url(postgres_url).set(database=name))
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def restored_on_postgres(archive: Path, folder: Path, url: str):
    folder.mkdir()
    target = make_app(folder, url, ACADEMY_SANDBOX_DATABASE_URL=url)
    backup.restore(target, archive)
    return target


@pytest.mark.postgres
def test_sqlite_to_postgres_and_postgres_to_postgres(app, populated, accounts, tmp_path, postgres_url,
                                                     second_postgres_url):
    """Platform and sandbox sharing one PostgreSQL database, as when scaled out."""
    box = populated[0]
    before = snapshot(app, box)
    archive = tmp_path / "site.tar.gz"
    backup.create(app, archive)
    targets, boxes = [], []
    try:
        targets.append(restored_on_postgres(archive, tmp_path / "pg1", postgres_url))
        boxes.append(sandbox_for(targets[0]))
        assert snapshot(targets[0], boxes[0]) == before
        second = tmp_path / "from-pg.tar.gz"
        assert backup.create(targets[0], second).manifest["counts"] == backup.verify(archive).manifest["counts"]
        with pytest.raises(backup.TargetNotEmpty):
            backup.restore(targets[0], second)
        targets.append(restored_on_postgres(second, tmp_path / "pg2", second_postgres_url))
        boxes.append(sandbox_for(targets[1]))
        assert snapshot(targets[1], boxes[1]) == before
        with targets[1].app_context():  # the sequences were moved past the restored ids
            user = service.create_user(db.session, email="new@general.example.org", password="a-new-password-1",
                                       role="site_admin")
            db.session.commit()
            assert user.id > max(a.id for a in accounts.values())
    finally:
        for new_box in boxes:
            new_box.close()
        for target in targets:
            with target.app_context():
                db.session.remove()
                db.engine.dispose()
