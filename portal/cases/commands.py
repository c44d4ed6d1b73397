"""``overdue`` and ``send-mail``: the case jobs for cron.

``overdue`` lists the open cases past their first-response deadline, tells each assignee
once, then sends the outbox when SMTP is configured; ``send-mail`` only sends the outbox.
Registered by ``portal.cli.init_app``.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.cases.notify import deliver_message, list_unsent_mail, notify_overdue, smtp_send
from portal.cases.queries import overdue_condition
from portal.commands import transaction
from portal.config import Settings, current_settings
from portal.db import utcnow
from portal.formatting import localtime
from portal.models import Case


@click.command("overdue")
@with_appcontext
def overdue_command() -> None:
    """List open cases past their first-response deadline and notify each assignee once;
    then send the mail if PORTAL_SMTP_URL is set."""
    settings, now = current_settings(), utcnow()
    with transaction() as session:
        overdue = session.scalars(
            select(Case)
            .where(overdue_condition(now))
            .options(joinedload(Case.store), joinedload(Case.assignee))
            .order_by(Case.first_response_due_at, Case.id)
        ).all()
        notified = {case.id for case in notify_overdue(session, settings, now=now)}
        for case in overdue:
            assignee = case.assignee.email if case.assignee else "unassigned"
            due = localtime(case.first_response_due_at, case.store.timezone)
            told = "notified now" if case.id in notified else "notified before"
            click.echo(f"#{case.id}\t{case.store.code}\tdue {due}\t{assignee}\t{told}")
    # Mail goes out after the notices are committed: a failed send never loses a notice.
    click.echo(f"{len(overdue)} overdue case(s), {len(notified)} notified now.")
    _deliver(settings)


@click.command("send-mail")
@with_appcontext
def send_mail_command() -> None:
    """Send the unsent messages of the outbox over SMTP (PORTAL_SMTP_URL)."""
    _deliver(current_settings())


def _deliver(settings: Settings) -> None:
    if settings.smtp_url is None:
        click.echo("Mail: 0 sent (no PORTAL_SMTP_URL: messages stay in the outbox page).")
        return
    with transaction(read_only=True) as session:
        pending = list_unsent_mail(session)
    sent = failed = 0
    # One transaction per message: each result is committed before the next message is
    # built, so a failure, or the job being killed, never re-sends the ones already sent.
    for message_id in pending:
        with transaction() as session:
            outcome = deliver_message(session, settings, message_id, now=utcnow(), send=smtp_send)
        sent += outcome is True
        failed += outcome is False
    click.echo(f"Mail: {sent} sent, {failed} failed.")
    if failed:
        raise click.ClickException(f"{failed} message(s) could not be sent; see the outbox page.")
