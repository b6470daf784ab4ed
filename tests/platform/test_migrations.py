"""Migrations build the schema from empty on SQLite and PostgreSQL, and match the models exactly."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from academy.extensions import db


def test_migrations_from_empty_match_the_models(any_db_app):
    with any_db_app.app_context():
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
            tables = set(inspect(connection).get_table_names())
    assert differences == [], f"models and migrations differ; run `flask db migrate`: {differences}"
    assert {"user_account", "organization", "membership", "cohort", "audit_event"} <= tables


def test_demo_bootstrap_works_on_each_database(any_db_app):
    from academy import first_run

    with any_db_app.app_context():
        assert len(first_run.create_demo_organization()) == 3
        assert first_run.create_demo_organization() == []
