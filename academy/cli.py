"""Command-line tools: `flask --app app user create ...` and friends."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from academy import audit, database
from academy.auth import service
from academy.extensions import db
from academy.models import ROLE_NAMES

user_cli = AppGroup("user", help="Manage accounts.")


@user_cli.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(ROLE_NAMES), help="The account's role.")
@click.option("--org", "org_name", default=None, help="The organisation (created if new).")
@click.option("--name", "display_name", default="", help="The name shown on the site.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(email: str, role: str, org_name: str | None, display_name: str, password_stdin: bool):
    """Create an account with EMAIL and a role."""
    database.upgrade(current_app)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        org = service.get_or_create_organization(db.session, org_name) if org_name else None
        user = service.create_user(db.session, email=email, password=password, role=role,
                                   display_name=display_name, organization=org)
        audit.record("user.created", user.email, organization_id=org.id if org else None, role=role)
        db.session.commit()
    except service.AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created {role} {user.email}" + (f" in {org.name}" if org else ""))


@click.command("init")
@with_appcontext
@click.option("--demo/--no-demo", default=False, show_default=True,
              help="Create the demo organisation and accounts when the database has none.")
def init_command(demo: bool):
    """Migrate the database and import the bundled content (run once per deployment, before the workers)."""
    from academy import content, first_run

    database.upgrade(current_app)
    try:
        report = content.import_bundled(current_app)
    except content.ContentError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("Content is up to date." if report is None else
               f"Imported {report.tracks} tracks, {report.modules} modules, {report.lessons} lessons, "
               f"{report.labs} labs, {report.questions} questions.")
    if demo:
        for account in first_run.create_demo_organization():
            click.echo(f"  {account.role:<11} {account.email:<40} {account.password}")


@click.command("maintenance")
@with_appcontext
def maintenance_command():
    """Close mock exams past their deadline and free finished lab runs' images (run it from cron)."""
    from academy import maintenance

    click.echo(maintenance.run_once(current_app))


backup_cli = AppGroup("backup", help="Back up and restore the whole platform (databases, DICOM files, secret key).")


def _backup_call(action, *args):
    from academy import backup

    try:
        return action(*args)
    except backup.BackupError as exc:
        error = click.ClickException(str(exc))
        error.exit_code = exc.exit_code
        raise error from None


@backup_cli.command("create")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_create_command(path: Path):
    """Write one archive at PATH (a new file) with everything needed to rebuild this platform."""
    from academy import backup

    summary = _backup_call(backup.create, current_app._get_current_object(), path)
    for note in summary.notes:
        click.echo(f"Note: {note}", err=True)
    click.echo(f"Backed up {summary.describe()}")


@backup_cli.command("verify")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_verify_command(path: Path):
    """Check every file in the archive at PATH against its manifest, without restoring."""
    from academy import backup

    summary = _backup_call(backup.verify, path)
    click.echo(f"OK {summary.describe()} (made {summary.manifest['created']}, "
               f"revision {summary.manifest['alembic_revision']})")


@backup_cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_restore_command(path: Path):
    """Restore the archive at PATH into this (empty) data dir and databases; refuses if any data is there."""
    from academy import backup

    summary = _backup_call(backup.restore, current_app._get_current_object(), path)
    click.echo(f"Restored {summary.describe()}")


def init_app(app: Flask) -> None:
    from academy.content.cli import content_cli
    from academy.labs.cli import labs_cli

    app.cli.add_command(init_command)
    app.cli.add_command(maintenance_command)
    app.cli.add_command(user_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(content_cli)
    app.cli.add_command(labs_cli)
