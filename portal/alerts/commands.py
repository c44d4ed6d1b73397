"""``flask --app portal check-alerts``: the daily job that judges the alert rules."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import with_appcontext

from portal.alerts.evaluate import evaluate_alerts
from portal.commands import transaction
from portal.config import current_settings
from portal.db import utcnow


@click.command("check-alerts")
@click.option("--now", "now_text", default=None, help="Judge as of this ISO time (UTC if no zone).")
@with_appcontext
def check_alerts_command(now_text: str | None) -> None:
    """Judge every active alert rule on the last complete week of its stores; write and
    mail each new alert once (the mail goes out with ``send-mail``)."""
    now = utcnow()
    if now_text:
        try:
            now = datetime.fromisoformat(now_text)
        except ValueError:
            raise click.BadParameter(
                "use an ISO time such as 2026-05-18T06:00", param_hint="--now"
            ) from None
        now = now if now.tzinfo else now.replace(tzinfo=UTC)
    with transaction() as session:
        raised = evaluate_alerts(session, current_settings(), now=now)
        for alert in raised:
            click.echo(
                f"#{alert.id}\t{alert.store.code}\t{alert.rule.metric}\t"
                f"{alert.period_start.isoformat()}\t{alert.signal}"
            )
    click.echo(f"{len(raised)} new alert(s).")
