"""The demo's alert rules, and the weekly check replayed over its last weeks so that the
managers' home pages and /alerts have alerts to show."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from portal.alerts.evaluate import evaluate_alerts
from portal.alerts.rules import RuleFields, create_rule
from portal.audit import Actor
from portal.config import Settings
from portal.models import AlertKind, Metric, OutboxMessage, User

#: (name, metric, kind, threshold): a satisfaction floor, a complaint-rate ceiling, and the
#: control chart of the detractor share. The demo's weeks run at 66-89 % satisfied and 5-14
#: cases per 100 receipts: these thresholds catch about the worst tenth of store-weeks.
RULES = (
    ("满意度低于 72 %", Metric.CSAT, AlertKind.THRESHOLD, 72.0),
    ("投诉率高于 11 %", Metric.COMPLAINT_RATE, AlertKind.THRESHOLD, 11.0),
    ("贬损者占比异常", Metric.NPS, AlertKind.CONTROL_CHART, None),
)
#: The check is replayed for this many past weeks, oldest first.
REPLAYED_WEEKS = 4


def add_alerts(session: Session, settings: Settings, *, cx: User, now: datetime) -> int:
    """Add the demo rules (written by ``cx``) and run the daily check as it would have run
    on the Monday of each of the last `REPLAYED_WEEKS` weeks; returns the alerts raised."""
    actor = Actor.of_user(cx)
    start = now - timedelta(weeks=REPLAYED_WEEKS + 1)
    for name, metric, kind, threshold in RULES:
        fields = RuleFields(name, metric, kind, threshold, None, None)
        create_rule(session, fields, actor=actor, now=start)
    raised = 0
    for week in range(REPLAYED_WEEKS, -1, -1):
        raised += len(evaluate_alerts(session, settings, now=now - timedelta(weeks=week)))
    # As with the cases' notices, the mail of the weeks before went out when it was written.
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.created_at < now - timedelta(days=2))
        .values(sent_at=OutboxMessage.created_at)
        .execution_options(synchronize_session=False)
    )
    return raised
