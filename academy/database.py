"""Database set-up: SQLite pragmas, migrations to head, and where the migrations live."""
from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers proceed while one writer commits; the busy timeout makes a writer wait for the
    # lock instead of failing at once when another thread (the sandbox, a second request) holds it.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name == "sqlite" and not event.contains(engine, "connect", _sqlite_pragmas):
        event.listen(engine, "connect", _sqlite_pragmas)


def init_app(app: Flask) -> None:
    from academy.extensions import db

    with app.app_context():
        configure_engine(db.engine)


def upgrade(app: Flask) -> None:
    """Bring the schema to the newest migration (creates it in an empty database)."""
    from flask_migrate import upgrade as alembic_upgrade

    with app.app_context():
        alembic_upgrade(directory=str(MIGRATIONS_DIR))
