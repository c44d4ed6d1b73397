"""``monthly-review``: the scheduled job that writes last month's service reviews and mails
them. Run it daily from cron: on the first day of a month it writes the month just over,
on every other day it finds them written and does nothing (after downtime, the first run
catches up). Registered by ``portal.cli.init_app``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from portal.calendar import last_complete_month, month_key, parse_month
from portal.commands import parse_now, transaction
from portal.config import current_settings
from portal.review.operations import generate_monthly_reviews, mail_reviews


@click.command("monthly-review")
@click.option(
    "--month",
    "month_text",
    metavar="YYYY-MM",
    help="The month to review; default: the last month that is over in every store.",
)
@click.option("--now", "now_text", metavar="ISO", help="The time to run as (default: now).")
@with_appcontext
def monthly_review_command(month_text: str | None, now_text: str | None) -> None:
    """Write the monthly service reviews that are missing, then queue their mail once."""
    settings, now = current_settings(), parse_now(now_text)
    month = None
    if month_text is not None:
        month = parse_month(month_text)
        if month is None:
            raise click.BadParameter("write the month as YYYY-MM", param_hint="--month")
    with transaction() as session:
        month = month or last_complete_month(session, now)
        if month > last_complete_month(session, now):
            raise click.ClickException(f"{month_key(month)} is not over yet in every store.")
        made = generate_monthly_reviews(session, settings, month=month, now=now)
    written, existed = len(made.created), made.existing
    click.echo(f"{month_key(month)}: {written} review(s) written, {existed} existed")
    # The mail is its own transaction: a written review is kept even if queueing fails.
    with transaction() as session:
        queued = mail_reviews(session, settings, now=now)
    click.echo(f"{queued} message(s) queued (send-mail sends them)")
