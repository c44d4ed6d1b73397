"""``send-sms``: send the queued text messages that are due (for cron, every few minutes).
Registered by ``portal.cli.init_app``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from portal.commands import transaction
from portal.config import current_settings
from portal.sms.delivery import deliver_pending_sms
from portal.sms.providers import sender_for


@click.command("send-sms")
@with_appcontext
def send_sms_command() -> None:
    """Send the queued text messages that are due through PORTAL_SMS_PROVIDER; those the
    provider could not take now are tried again by a later run."""
    settings = current_settings()
    if sender_for(settings) is None:
        click.echo(
            "Text messages: 0 sent (PORTAL_SMS_PROVIDER=outbox: "
            "messages stay on the text message page)."
        )
        return
    run = deliver_pending_sms(transaction, settings)
    click.echo(
        f"Text messages: {run.sent} sent, {run.retrying} to try again, "
        f"{run.failed} failed, {run.withheld} not sent (opted out or over the limit)."
    )
