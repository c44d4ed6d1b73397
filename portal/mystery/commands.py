"""``finalise-visits``: the mystery job for cron. Released reports whose dispute window has
closed become final (locked, never recalculated). Registered by ``portal.cli.init_app``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from portal.audit import CLI
from portal.commands import transaction
from portal.db import utcnow
from portal.mystery.review import finalise_due


@click.command("finalise-visits")
@with_appcontext
def finalise_visits_command() -> None:
    """Make released mystery reports final once their dispute window has closed."""
    with transaction() as session:
        done = finalise_due(session, now=utcnow(), actor=CLI)
    for visit_id in done:
        click.echo(f"#{visit_id}\tfinal")
    click.echo(f"{len(done)} report(s) made final")
