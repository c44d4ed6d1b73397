"""Alerts of the translated world: the demo's few weeks raise none at its small n, so one
alert of each signal is written for the demo manager's store, sent to its managers (so
every home page, the alerts list and the rules pages have alerts to say in words)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.alerts.evaluate import alert_recipients
from portal.alerts.signals import EWMA_ABOVE, LANEY_ABOVE, THRESHOLD
from portal.models import Alert, AlertKind, AlertRecipient, AlertRule, Store


def add_world_alerts(session: Session, store: Store, *, now: datetime) -> list[int]:
    """One alert per signal at ``store``; returns the ids of the demo's rules."""
    rules = session.scalars(select(AlertRule).order_by(AlertRule.id)).all()
    threshold = next(r for r in rules if r.kind == AlertKind.THRESHOLD)
    chart = next(r for r in rules if r.kind == AlertKind.CONTROL_CHART)
    week = date(2000, 1, 3)
    detail = {"center": 12.5, "share": 30.0, "laney": True, "sigma_z": 1.4, "run_weeks": 1}
    for rule, signal, value, limit in (
        (threshold, THRESHOLD, 80.0, 90.0),
        (chart, LANEY_ABOVE, 30.0, 24.1),
        (chart, EWMA_ABOVE, 1.02, 0.95),
    ):
        alert = Alert(
            rule_id=rule.id,
            store_id=store.id,
            period_start=week,
            period_end=week + timedelta(days=6),
            signal=signal,
            value=value,
            limit_value=limit,
            n=120,
            detail=detail,
            created_at=now,
        )
        session.add(alert)
        session.flush()
        for user in alert_recipients(session, store):
            session.add(AlertRecipient(alert_id=alert.id, user_id=user.id, mailed_at=now))
    session.flush()
    return [r.id for r in rules]
