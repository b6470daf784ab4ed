"""`flask --app app content validate|stats|import`."""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from academy import content, database
from academy.content import stats

content_cli = AppGroup("content", help="Check and import curricula/ and question_banks/.")


@content_cli.command("validate")
def validate_command():
    """Check every content file; print each problem with its file and line."""
    bundle = content.validate(*content.content_dirs(current_app))
    for problem in bundle.problems:
        click.echo(str(problem), err=True)
    figures = stats.track_stats(bundle)["tracks"]
    summary = ", ".join(f"{code}: {f['modules']} modules, {f['lessons']} lessons, {f['questions']} questions"
                        for code, f in figures.items())
    if bundle.problems:
        raise click.ClickException(f"{len(bundle.problems)} problem(s) found ({summary})")
    click.echo(f"Content is valid ({summary}).")


@content_cli.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def stats_command(as_json: bool):
    """Per track: domains, modules, lessons, words, labs and questions per domain."""
    figures = stats.track_stats(content.validate(*content.content_dirs(current_app)))
    if as_json:
        click.echo(json.dumps(figures, indent=2))
        return
    for code, f in figures["tracks"].items():
        click.echo(f"{code}: {f['domains']} domains, {f['modules']} modules, {f['lessons']} lessons, "
                   f"{f['words']} words, {f['labs']} labs, {f['questions']} questions")



def _organization(name: str):
    from sqlalchemy import select

    from academy.extensions import db
    from academy.models import Organization

    org = db.session.scalar(select(Organization).where(Organization.name == name))
    if org is None:
        raise click.ClickException(f"There is no organisation called {name!r}.")
    return org


@content_cli.command("export")
@click.option("--org", "org_name", required=True, help="The organisation's name.")
@click.argument("target", type=click.Path(path_type=Path))
def export_command(org_name: str, target: Path):
    """Write an organisation's authored tree to TARGET: a .zip file, or a folder (for git)."""
    from academy.authoring import archive, tree
    from academy.extensions import db

    files = tree.current_files(db.session, _organization(org_name).id)
    if target.suffix == ".zip":
        target.write_bytes(archive.to_zip(files))
    else:
        archive.to_folder(files, target)
    click.echo(f"Exported {len(files)} files to {target}.")


@content_cli.command("import")
@click.option("--org", "org_name", default=None, help="Import into this organisation's authored tree (as drafts).")
@click.option("--publish", is_flag=True, help="With --org: publish the tree after importing it.")
@click.argument("source", required=False, type=click.Path(exists=True, path_type=Path))
def import_command(org_name: str | None, publish: bool, source: Path | None):
    """Without --org: import the bundled content now (python app.py does this on every start).
    With --org and SOURCE (a .zip or a folder holding curricula/ and question_banks/): replace that
    organisation's drafts with it."""
    database.upgrade(current_app)
    if org_name is None:
        try:
            report = content.import_bundled(current_app, force=True)
        except content.ContentError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"Imported {report.tracks} tracks, {report.modules} modules, {report.lessons} lessons, "
                   f"{report.questions} questions ({report.new_versions} new versions).")
        return
    from academy import audit
    from academy.authoring import archive, tree
    from academy.authoring import publish as publishing
    from academy.extensions import db

    if source is None:
        raise click.UsageError("Give the zip or folder to import.")
    org = _organization(org_name)
    try:
        files = archive.from_zip(source.read_bytes()) if source.is_file() else archive.from_folder(source)
        changed, deleted = archive.replace_tree(db.session, org.id, files, author_id=None, note=f"imported from {source.name}")
        audit.record("content.imported", f"{len(files)} files", organization_id=org.id, changed=changed, deleted=deleted)
        if publish:
            release, problems = publishing.publish(db.session, org.id, user_id=None)
            if problems:
                raise click.ClickException("Nothing was imported; the tree has problems:\n" + "\n".join(problems))
            audit.record("content.published", f"release {release.number}", organization_id=org.id)
        db.session.commit()
    except tree.TreeError as exc:
        db.session.rollback()
        raise click.ClickException(f"Nothing was imported: {exc}") from None
    except click.ClickException:
        db.session.rollback()
        raise
    click.echo(f"Imported {len(files)} files into {org.name} ({changed} changed, {deleted} removed)"
               + (", published." if publish else "; publish them from the authoring page."))
