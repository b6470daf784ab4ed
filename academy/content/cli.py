"""`flask --app app content validate|stats|import`."""
from __future__ import annotations

import json

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


@content_cli.command("import")
def import_command():
    """Import the bundled content now (python app.py does this on every start)."""
    database.upgrade(current_app)
    try:
        report = content.import_bundled(current_app, force=True)
    except content.ContentError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Imported {report.tracks} tracks, {report.modules} modules, {report.lessons} lessons, "
               f"{report.questions} questions ({report.new_versions} new versions).")
