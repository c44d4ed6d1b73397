"""``flask --app portal check-alerts``: the daily job that judges the alert rules."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from portal.alerts.evaluate import evaluate_alerts
from portal.commands import parse_now, transaction
from portal.config import current_settings


@click.command("check-alerts")
@click.option("--now", "now_text", default=None, help="Judge as of this ISO time (UTC if no zone).")
@with_appcontext
def check_alerts_command(now_text: str | None) -> None:
    """Judge every active alert rule on the last complete week of its stores; write and
    mail each new alert once (the mail goes out with ``send-mail``)."""
    now = parse_now(now_text)
    with transaction() as session:
        raised = evaluate_alerts(session, current_settings(), now=now)
        for alert in raised:
            click.echo(
                f"#{alert.id}\t{alert.store.code}\t{alert.rule.metric}\t"
                f"{alert.period_start.isoformat()}\t{alert.signal}"
            )
    click.echo(f"{len(raised)} new alert(s).")
