"""`flask --app app labs selftest|release`."""
from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from academy import clock, content, sandbox_link
from academy.extensions import db

labs_cli = AppGroup("labs", help="Check and maintain the hands-on labs.")


@labs_cli.command("selftest")
@click.option("--lab", "only", default=None, help="Only this lab id.")
def selftest_command(only: str | None):
    """Play every lab's intended solution (full marks expected) and a do-nothing run (zero expected)."""
    from academy.labs import selftest

    bundle = content.validate(*content.content_dirs(current_app))
    problems = [p for p in bundle.problems if only is None or only in str(p.path)]
    for problem in problems:
        click.echo(f"invalid: {problem}")
    try:
        box = sandbox_link.start(current_app)
    except OSError:  # the port is taken: a running sandbox (python app.py, or the service) answers there
        box = sandbox_link.get()
    failed = 0
    for lab_id, lab in sorted(bundle.labs.items()):
        if only and lab_id != only:
            continue
        result = selftest.run(box, lab.spec.model_dump(mode="json", by_alias=True),
                              hl7_port=sandbox_link.hl7_port(box))
        failed += not result.ok
        click.echo(f"{'ok  ' if result.ok else 'FAIL'} {lab_id}: solution {result.solved}/{result.max_score}, "
                   f"doing nothing {result.idle}/{result.max_score}")
        for failure in result.failures:
            click.echo(f"     {failure}")
    if failed or problems:
        raise click.ClickException(f"{failed} lab(s) failed the self-test, {len(problems)} content problem(s)")


@labs_cli.command("release")
@click.option("--hours", default=24, show_default=True, help="Release runs finished at least this long ago.")
def release_command(hours: int):
    """Free the images of finished runs' partitions (their journals stay for the trace)."""
    from academy.labs import runs

    count = runs.release_finished(db.session, sandbox_link.get(), clock.now(), after=timedelta(hours=hours))
    click.echo(f"Released {count} partition(s).")
