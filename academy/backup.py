"""Backup and restore of the whole platform: both databases, the DICOM file store and the secret key.

One archive (.tar.gz) holds `platform.jsonl` and `sandbox.jsonl` (every row of every table, engine
independent, so a SQLite backup restores into SQLite or PostgreSQL), the files under the data dir that
the rows point to, and `manifest.json` (last member) with counts and a sha256 for every other member.
Restore only fills an empty target and checks every hash before it writes anything there.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import logging
import os
import secrets
import shutil
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import metadata
from pathlib import Path, PurePosixPath

import sqlalchemy as sa
from flask import Flask

import sandbox
from academy import database, sandbox_link

log = logging.getLogger("academy.backup")

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PLATFORM_DUMP = "platform.jsonl"
SANDBOX_DUMP = "sandbox.jsonl"
SECRET_KEY_MEMBER = "data/secret_key"
STORE_PREFIX = "sandbox-store/"  # + a file store path relative to the sandbox's data dir
SANDBOX_PREFIX = "sandbox_"  # the sandbox's tables (sandbox/db.py); they may share the platform's database
ALEMBIC_TABLE = "alembic_version"  # written by the migrations on restore, never copied
COUNTED = {"users": ("platform", "user_account"), "lab_runs": ("platform", "lab_run"),
           "exam_sessions": ("platform", "exam_session"), "partitions": ("sandbox", "sandbox_partitions"),
           "stored_instances": ("sandbox", "sandbox_instances")}


class BackupError(Exception):
    """Bad input or a damaged archive: the message is for the operator, nothing was changed."""

    exit_code = 1


class TargetNotEmpty(BackupError):
    """Restore refuses to merge into, or overwrite, a platform that already holds data."""

    exit_code = 2


@dataclass
class Summary:
    path: Path
    manifest: dict
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        counts = ", ".join(f"{self.manifest['counts'].get(k, 0)} {k.replace('_', ' ')}" for k in COUNTED)
        return f"{self.path}: {len(self.manifest['files'])} files, {counts}"


# -- rows as JSON ------------------------------------------------------------------------------------


def _encode(value):
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Decimal):
        return str(value)
    return value


def _decode(column: sa.Column, value):
    """Undo `_encode` by the target column's type (tags in the data would clash with JSON columns)."""
    if value is None or not isinstance(value, str):
        return value
    kind = column.type
    if isinstance(kind, sa.DateTime):
        return dt.datetime.fromisoformat(value)
    if isinstance(kind, sa.Date):
        return dt.date.fromisoformat(value)
    if isinstance(kind, sa.Time):
        return dt.time.fromisoformat(value)
    if isinstance(kind, sa.LargeBinary):
        return base64.b64decode(value)
    if isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Float):
        return Decimal(value)
    return value


def _is_sandbox(name: str) -> bool:
    return name.startswith(SANDBOX_PREFIX)


def _tables(engine_or_conn, part: str) -> list[sa.Table]:
    """The part's tables in dependency order (parents first)."""
    return _schema(engine_or_conn, part)[0]


def _schema(engine_or_conn, part: str) -> tuple[list[sa.Table], dict[str, set[str]]]:
    """Tables parents first, and per table the columns of foreign keys in a cycle (question <->
    question_version): those are inserted empty and set once every row is in."""
    meta = sa.MetaData()
    meta.reflect(bind=engine_or_conn, only=lambda name, _m: name != ALEMBIC_TABLE and
                 _is_sandbox(name) == (part == "sandbox"))
    cyclic = [c for table, constraints in sa.schema.sort_tables_and_constraints(meta.tables.values())
              if table is None for c in constraints]
    # Of a cycle, only the foreign keys that may be NULL are set afterwards; the others order the inserts.
    nullable = {c for c in cyclic if all(col.nullable for col in c.columns)}
    tables, deferred = [], {}
    for table, constraints in sa.schema.sort_tables_and_constraints(
            meta.tables.values(), filter_fn=lambda c: True if c in nullable else None):
        if table is not None:
            tables.append(table)
            continue
        for constraint in constraints:
            if constraint not in nullable:
                raise BackupError(f"cannot order the inserts: foreign keys in a cycle ({constraint.table.name})")
            deferred.setdefault(constraint.table.name, set()).update(c.name for c in constraint.columns)
    return tables, deferred


# -- snapshot ----------------------------------------------------------------------------------------


class _Snapshot:
    """One read transaction that sees one state of a database (SQLite: BEGIN; PostgreSQL: REPEATABLE READ)."""

    def __init__(self, url: str):
        self.url = sa.engine.make_url(url)
        if self.url.get_backend_name() == "sqlite":
            self.engine = sa.create_engine(self.url, connect_args={"isolation_level": None, "timeout": 30},
                                           poolclass=sa.pool.NullPool, hide_parameters=True)
        else:
            self.engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool, hide_parameters=True,
                                           isolation_level="REPEATABLE READ")

    def __enter__(self) -> sa.Connection:
        self.conn = self.engine.connect()
        if self.url.get_backend_name() == "sqlite":
            self.conn.exec_driver_sql("BEGIN")
        else:
            self.conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        return self.conn

    def __exit__(self, *exc) -> None:
        try:
            self.conn.rollback()
            self.conn.close()
        finally:
            self.engine.dispose()


def _dump(conn: sa.Connection, part: str, out: Path) -> tuple[dict[str, int], list[dict]]:
    """Write every row of the part's tables to `out`; returns row counts and the sandbox's instance rows."""
    counts, instances = {}, []
    with open(out, "w", encoding="utf-8") as handle:
        for table in _tables(conn, part):
            query = sa.select(table)
            order = list(table.primary_key.columns) or list(table.columns)
            rows = conn.execute(query.order_by(*order)).mappings()
            counts[table.name] = 0
            for row in rows:
                record = {key: _encode(value) for key, value in row.items()}
                handle.write(json.dumps({"table": table.name, "row": record}, ensure_ascii=False) + "\n")
                counts[table.name] += 1
                if table.name == "sandbox_instances":
                    instances.append(record)
    return counts, instances


def _alembic_revision(conn: sa.Connection) -> str | None:
    if not sa.inspect(conn).has_table(ALEMBIC_TABLE):
        return None
    return conn.execute(sa.text(f"SELECT version_num FROM {ALEMBIC_TABLE}")).scalar()


def _app_version() -> str:
    try:
        return metadata.version("pacs-academy")
    except metadata.PackageNotFoundError:
        return "unknown"


class _HashingReader:
    """Hashes what tarfile reads, so each file is read once."""

    def __init__(self, handle):
        self.handle, self.sha = handle, hashlib.sha256()

    def read(self, size=-1):
        data = self.handle.read(size)
        self.sha.update(data)
        return data


def _add_file(tar: tarfile.TarFile, name: str, source: Path, files: dict) -> None:
    with open(source, "rb") as handle:
        info = tarfile.TarInfo(name)
        info.size = os.fstat(handle.fileno()).st_size
        info.mode = 0o600
        info.mtime = int(os.fstat(handle.fileno()).st_mtime)
        reader = _HashingReader(handle)
        tar.addfile(info, reader)
    files[name] = {"sha256": reader.sha.hexdigest(), "size": info.size}


def create(app: Flask, path: Path | str) -> Summary:
    """Write a backup of the platform to `path` (a temporary name first, so a failure leaves nothing)."""
    path = Path(path)
    if path.exists():
        raise BackupError(f"{path} already exists; choose a new file name (backups are never overwritten)")
    if not path.parent.is_dir():
        raise BackupError(f"{path.parent} is not a directory")
    platform_url = app.config["SQLALCHEMY_DATABASE_URI"]
    box_config = sandbox_link.config_for(app)
    sandbox_url = box_config.database_url
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    notes: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="academy-backup-") as staging:
            staging = Path(staging)
            platform_file = _sqlite_file(platform_url)
            if platform_file is not None and not platform_file.exists():
                raise BackupError(f"there is no platform database at {platform_file} (is ACADEMY_DATA_DIR right?)")
            with _Snapshot(platform_url) as conn:
                revision = _alembic_revision(conn)
                if revision is None:
                    raise BackupError("the platform database has no schema yet (run `flask --app app init`)")
                platform_counts, _ = _dump(conn, "platform", staging / PLATFORM_DUMP)
                if sandbox_url == platform_url:  # one database: one snapshot for both
                    sandbox_counts, instances = _dump(conn, "sandbox", staging / SANDBOX_DUMP)
            if sandbox_url != platform_url:
                sandbox_file = _sqlite_file(sandbox_url)
                if sandbox_file is not None and not sandbox_file.exists():  # the sandbox never ran: nothing to keep
                    (staging / SANDBOX_DUMP).write_text("")
                    sandbox_counts, instances = {}, []
                else:
                    with _Snapshot(sandbox_url) as conn:
                        sandbox_counts, instances = _dump(conn, "sandbox", staging / SANDBOX_DUMP)
            files: dict[str, dict] = {}
            with open(tmp, "xb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
                _add_file(tar, PLATFORM_DUMP, staging / PLATFORM_DUMP, files)
                _add_file(tar, SANDBOX_DUMP, staging / SANDBOX_DUMP, files)
                secret = app.config["ACADEMY_DATA_DIR"] / "secret_key"
                if secret.is_file():
                    _add_file(tar, SECRET_KEY_MEMBER, secret, files)
                else:
                    notes.append("no secret_key file in the data dir (ACADEMY_SECRET_KEY comes from the "
                                 "environment): keep that value with the backup")
                for relpath in sorted({row["path"] for row in instances}):
                    name = STORE_PREFIX + relpath
                    if not _safe_name(name) or name in files:
                        raise BackupError(f"unexpected file store path in the index: {relpath!r}")
                    try:
                        _add_file(tar, name, box_config.data_dir / relpath, files)
                    except FileNotFoundError:
                        notes.append(f"indexed file missing from the store, not backed up: {relpath}")
                table_counts = {"platform": platform_counts, "sandbox": sandbox_counts}
                manifest = {
                    "format": FORMAT_VERSION,
                    "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "app_version": _app_version(),
                    "alembic_revision": revision,
                    "source": {"platform": sa.engine.make_url(platform_url).get_backend_name(),
                               "sandbox": sa.engine.make_url(sandbox_url).get_backend_name()},
                    "counts": {key: table_counts[part].get(table, 0) for key, (part, table) in COUNTED.items()},
                    "tables": table_counts,
                    "missing_files": [n.rsplit(": ", 1)[1] for n in notes if n.startswith("indexed file")],
                    "files": files,
                }
                data = json.dumps(manifest, indent=2, sort_keys=True).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mode, info.mtime = len(data), 0o600, int(dt.datetime.now().timestamp())
                tar.addfile(info, io.BytesIO(data))
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, (OSError, sa.exc.SQLAlchemyError)):
            raise BackupError(f"the backup failed and was not written: {exc}") from exc
        raise
    return Summary(path, manifest, notes)


# -- reading an archive ------------------------------------------------------------------------------


def _safe_name(name: str) -> bool:
    pure = PurePosixPath(name)
    return bool(name) and not pure.is_absolute() and ".." not in pure.parts and "\\" not in name and "\x00" not in name \
        and str(pure) == name


def _open_archive(path: Path) -> tarfile.TarFile:
    if not path.is_file():
        raise BackupError(f"{path}: no such backup file")
    try:
        return tarfile.open(path, mode="r:gz")
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise BackupError(f"{path} is not a readable backup archive ({exc})") from None


def _check_manifest(path: Path, manifest_bytes: bytes | None) -> dict:
    if manifest_bytes is None:
        raise BackupError(f"{path} has no {MANIFEST}: not a platform backup, or truncated")
    try:
        manifest = json.loads(manifest_bytes)
        files = manifest["files"]
        assert isinstance(files, dict) and isinstance(manifest["counts"], dict)
    except (ValueError, KeyError, TypeError, AssertionError):
        raise BackupError(f"{path}: {MANIFEST} is damaged") from None
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"{path}: backup format {manifest.get('format')!r} is not supported "
                          f"(this version reads format {FORMAT_VERSION})")
    return manifest


def _scan(path: Path, extract_to: Path | None = None) -> dict:
    """Read every member, check names, types and sha256 against the manifest; optionally extract (data filter)."""
    seen: dict[str, dict] = {}
    manifest_bytes = None
    tar = _open_archive(path)
    try:
        with tar:
            for member in tar:
                if member.name in seen or (member.name == MANIFEST and manifest_bytes is not None):
                    raise BackupError(f"{path}: member {member.name!r} appears twice")
                if not member.isfile() or not _safe_name(member.name):
                    raise BackupError(f"{path}: refusing member {member.name!r} (only plain files with "
                                      f"relative paths belong in a backup)")
                handle = tar.extractfile(member)
                if member.name == MANIFEST:
                    manifest_bytes = handle.read()
                    continue
                sha = hashlib.sha256()
                while chunk := handle.read(1 << 20):
                    sha.update(chunk)
                seen[member.name] = {"sha256": sha.hexdigest(), "size": member.size}
                if extract_to is not None:
                    tar.extract(member, extract_to, filter="data")
    except BackupError:
        raise
    except (tarfile.TarError, EOFError, OSError, zlib.error, ValueError) as exc:
        raise BackupError(f"{path} is damaged or truncated ({exc})") from None
    manifest = _check_manifest(path, manifest_bytes)
    expected = manifest["files"]
    if set(seen) != set(expected):
        missing, extra = sorted(set(expected) - set(seen)), sorted(set(seen) - set(expected))
        raise BackupError(f"{path} does not match its manifest (missing: {missing[:5]}, unexpected: {extra[:5]})")
    bad = sorted(name for name, info in seen.items() if info["sha256"] != expected[name].get("sha256"))
    if bad:
        raise BackupError(f"{path} is damaged: checksum mismatch in {', '.join(bad[:5])}")
    for required in (PLATFORM_DUMP, SANDBOX_DUMP):
        if required not in seen:
            raise BackupError(f"{path} has no {required}")
    return manifest


def verify(path: Path | str) -> Summary:
    """Check the archive against its manifest (every member's sha256) without restoring anything."""
    path = Path(path)
    return Summary(path, _scan(path))


# -- restore -----------------------------------------------------------------------------------------


def _sqlite_file(url: str) -> Path | None:
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return Path(parsed.database).resolve()
    return None


def _rows_in(url: str, part: str) -> dict[str, int]:
    """Tables of the part that hold rows (reading only; a missing SQLite file counts as empty)."""
    sqlite_file = _sqlite_file(url)
    if sqlite_file is not None and not sqlite_file.exists():
        return {}
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool, hide_parameters=True)
    try:
        with engine.connect() as conn:
            found = {}
            for table in _tables(conn, part):
                count = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
                if count:
                    found[table.name] = count
            return found
    finally:
        engine.dispose()


def _check_empty(app: Flask) -> None:
    platform_url = app.config["SQLALCHEMY_DATABASE_URI"]
    sandbox_url = sandbox_link.config_for(app).database_url
    problems = []
    for label, url, part in (("platform database", platform_url, "platform"),
                             ("sandbox database", sandbox_url, "sandbox")):
        rows = _rows_in(url, part)
        if rows:
            problems.append(f"the {label} holds data ({', '.join(f'{t}: {n}' for t, n in list(rows.items())[:3])})")
    data_dir: Path = app.config["ACADEMY_DATA_DIR"]
    # What a fresh start leaves behind is allowed: the generated secret key and empty database files.
    allowed = {(data_dir / "secret_key").resolve()}
    for url in (platform_url, sandbox_url):
        if (db_file := _sqlite_file(url)) is not None:
            allowed |= {db_file, Path(f"{db_file}-wal"), Path(f"{db_file}-shm"), Path(f"{db_file}-journal")}
    if data_dir.exists():
        others = sorted(str(p.relative_to(data_dir)) for p in data_dir.rglob("*")
                        if not p.is_dir() and p.resolve() not in allowed)
        if others:
            problems.append(f"the data dir {data_dir} holds files ({', '.join(others[:3])})")
    if problems:
        raise TargetNotEmpty("refusing to restore into a platform that already has data: " + "; ".join(problems)
                             + ". Restore into an empty data dir and empty databases.")


def _read_dump(path: Path) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            try:
                record = json.loads(line)
                rows.setdefault(record["table"], []).append(record["row"])
            except (ValueError, KeyError, TypeError):
                raise BackupError(f"{path.name} line {number} is not a row") from None
    return rows


def _load(conn: sa.Connection, part: str, rows: dict[str, list[dict]]) -> None:
    """Insert the rows parents first, in the caller's transaction; then move PostgreSQL sequences past them."""
    ordered, deferred = _schema(conn, part)
    tables = {t.name: t for t in ordered}
    unknown = sorted(set(rows) - set(tables))
    if unknown:
        raise BackupError(f"the backup has tables this version does not: {', '.join(unknown)}")
    later: list[tuple[sa.Table, list[dict]]] = []
    for name, table in tables.items():
        batch = rows.get(name, [])
        if not batch:
            continue
        columns = table.columns
        extra = sorted(set().union(*batch) - set(columns.keys()))
        if extra:
            raise BackupError(f"the backup's table {name} has columns this version does not: {', '.join(extra)}")
        decoded = [{key: _decode(columns[key], value) for key, value in row.items()} for row in batch]
        cyclic = deferred.get(name, set())
        if cyclic:
            keys = [c.name for c in table.primary_key.columns]
            later.append((table, [{**{f"pk_{k}": row[k] for k in keys}, **{c: row[c] for c in cyclic if c in row}}
                                  for row in decoded if any(row.get(c) is not None for c in cyclic)]))
            decoded = [{**row, **{c: None for c in cyclic if c in row}} for row in decoded]
        for start in range(0, len(decoded), 500):
            conn.execute(table.insert(), decoded[start:start + 500])
        if conn.dialect.name == "postgresql":
            for column in table.primary_key.columns:
                if not isinstance(column.type, sa.Integer):
                    continue
                sequence = conn.execute(sa.text("SELECT pg_get_serial_sequence(:t, :c)"),
                                        {"t": name, "c": column.name}).scalar()
                if sequence:
                    conn.execute(sa.text(f'SELECT setval(:s, (SELECT COALESCE(MAX("{column.name}"), 0) + 1 '
                                         f'FROM "{name}"), false)'), {"s": sequence})
    for table, updates in later:
        keys = [c.name for c in table.primary_key.columns]
        for update in updates:
            values = {k: v for k, v in update.items() if not k.startswith("pk_")}
            condition = sa.and_(*(table.c[k] == sa.bindparam(f"pk_{k}") for k in keys))
            conn.execute(table.update().where(condition).values(**{k: sa.bindparam(k) for k in values}), update)


def _wipe(engine: sa.Engine, part: str) -> None:
    """Undo `_load` when a later step fails (the databases are separate: no shared transaction)."""
    with engine.begin() as conn:
        tables, deferred = _schema(conn, part)
        for table in tables:
            if deferred.get(table.name):
                conn.execute(table.update().values(**{c: None for c in deferred[table.name]}))
        for table in reversed(tables):
            conn.execute(table.delete())


def _known_revision(app: Flask, revision: str) -> bool:
    from alembic.script import ScriptDirectory

    try:
        with app.app_context():
            config = app.extensions["migrate"].migrate.get_config(str(database.MIGRATIONS_DIR))
        return ScriptDirectory.from_config(config).get_revision(revision) is not None
    except Exception:  # noqa: BLE001 - alembic raises several kinds for an unknown id
        return False


def restore(app: Flask, path: Path | str) -> Summary:
    """Restore a backup into this app's (empty) data dir and databases.

    Order: refuse a non-empty target; extract into a staging dir beside the data dir and check every
    sha256 (a bad archive stops here, the target untouched); then the platform schema at the backup's
    revision, its rows, the newest migrations; the sandbox schema and rows; the files last. A failure
    after the first insert removes what was inserted and placed.
    """
    from flask_migrate import upgrade as alembic_upgrade

    from academy.extensions import db

    path = Path(path)
    _check_empty(app)
    data_dir: Path = app.config["ACADEMY_DATA_DIR"]
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    try:  # beside the data dir (same file system), else the system's temp dir (e.g. a volume at /data)
        staging = Path(tempfile.mkdtemp(prefix=".academy-restore-", dir=data_dir.parent))
    except OSError:
        staging = Path(tempfile.mkdtemp(prefix=".academy-restore-"))
    placed: list[Path] = []
    loaded: list[tuple[sa.Engine, str]] = []
    try:
        manifest = _scan(path, extract_to=staging)
        revision = manifest.get("alembic_revision")
        if not revision or not _known_revision(app, revision):
            raise BackupError(f"the backup's schema revision {revision!r} is unknown to this version of the "
                              f"platform (restore with the version that made it, app {manifest.get('app_version')})")
        platform_rows = _read_dump(staging / PLATFORM_DUMP)
        sandbox_rows = _read_dump(staging / SANDBOX_DUMP)
        with app.app_context():
            alembic_upgrade(directory=str(database.MIGRATIONS_DIR), revision=revision)
            with db.engine.begin() as conn:
                _load(conn, "platform", platform_rows)
            loaded.append((db.engine, "platform"))
            alembic_upgrade(directory=str(database.MIGRATIONS_DIR))
        box_config = sandbox_link.config_for(app)
        sandbox.Sandbox(box_config).close()  # the sandbox creates its own schema (it is not migrated)
        sandbox_engine = sa.create_engine(box_config.database_url, poolclass=sa.pool.NullPool, hide_parameters=True)
        with sandbox_engine.begin() as conn:
            _load(conn, "sandbox", sandbox_rows)
        loaded.append((sandbox_engine, "sandbox"))
        store_files = sorted(n for n in manifest["files"] if n.startswith(STORE_PREFIX))
        for name in store_files:
            target = box_config.data_dir / name[len(STORE_PREFIX):]
            if target.exists():
                raise BackupError(f"{target} appeared during the restore; stopping")
            target.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(staging / name, 0o644)
            shutil.move(staging / name, target)
            placed.append(target)
        if SECRET_KEY_MEMBER in manifest["files"]:  # last: the only step that replaces a file (a fresh key)
            os.chmod(staging / SECRET_KEY_MEMBER, 0o600)
            shutil.move(staging / SECRET_KEY_MEMBER, data_dir / "secret_key.restoring")
            os.replace(data_dir / "secret_key.restoring", data_dir / "secret_key")
    except BaseException as exc:
        (data_dir / "secret_key.restoring").unlink(missing_ok=True)
        for target in placed:
            target.unlink(missing_ok=True)
        for engine, part in reversed(loaded):
            try:
                _wipe(engine, part)
            except Exception:  # report the first failure, not the clean-up's
                log.exception("could not remove the rows a failed restore had inserted into the %s database", part)
        if isinstance(exc, (OSError, sa.exc.SQLAlchemyError, ValueError)):
            raise BackupError(f"the restore failed and what it had written was removed: {exc}") from exc
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Summary(path, manifest)
