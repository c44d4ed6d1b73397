"""``award-cycle`` (the monthly job for cron: finalise published months whose notice
period is over, then open a month) and ``verify-awards`` (recompute the award log's hash
chain). Registered by ``portal.cli.init_app``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from portal.audit import CLI
from portal.awards.ledger import verify_award_log
from portal.awards.operations import finalise_due, open_cycle
from portal.calendar import last_complete_month, month_key, parse_month
from portal.db import utcnow
from portal.models import AwardCycle, AwardEvent


@click.command("award-cycle")
@click.option(
    "--month",
    "month_text",
    metavar="YYYY-MM",
    help="The month to open; default: the last complete month (already open is then fine).",
)
@with_appcontext
def award_cycle_command(month_text: str | None) -> None:
    """Finalise award months whose notice period is over, then open a month's awards."""
    # Imported here: portal.cli imports this module to register the commands.
    from portal.cli import _transaction

    now = utcnow()
    month = None
    if month_text is not None:
        month = parse_month(month_text)
        if month is None:
            raise click.BadParameter("write the month as YYYY-MM", param_hint="--month")
    # Finalising is its own transaction: a refused opening does not undo it.
    with _transaction() as session:
        finalised = finalise_due(session, now, actor=CLI)
        for cycle in finalised:
            click.echo(f"{month_key(cycle.month)}\tfinal")
    with _transaction() as session:
        if month is None:
            month = last_complete_month(session, now)
            # Run daily by cron: the month being open already is the normal case.
            if session.scalar(select(AwardCycle.id).where(AwardCycle.month == month)):
                click.echo(f"{month_key(month)}: already open")
                return
        cycle = open_cycle(session, month, actor=CLI, now=now)
        proposals = len(cycle.nominations)
    click.echo(f"{month_key(month)}: {proposals} proposal(s)")


@click.command("verify-awards")
@with_appcontext
def verify_awards_command() -> None:
    """Recompute the award log's hash chain; exit non-zero if any event was altered."""
    from portal.cli import _transaction

    with _transaction() as session:
        broken = verify_award_log(session)
        total = int(session.scalar(select(func.count()).select_from(AwardEvent)) or 0)
    if broken:
        ids = ", ".join(str(event_id) for event_id in broken)
        raise click.ClickException(f"award log broken at event(s): {ids} (of {total} events)")
    click.echo(f"{total} award event(s): the chain is intact")
