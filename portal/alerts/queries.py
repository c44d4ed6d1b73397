"""Reads of alerts: a user's (for their home page and /alerts) and, for chain-wide roles,
all of them; the rules list; the choices of the rule form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from wtforms.fields.choices import SelectChoice

from portal.access import CHAIN_WIDE, scope_to_user, store_label
from portal.models import Alert, AlertRecipient, AlertRule, Region, Store, User
from portal.pagination import Page, paginate

#: Alerts shown on a home page; the rest are one click away.
HOME_SHOWN = 10


@dataclass(frozen=True, slots=True)
class AlertRow:
    alert_id: int
    rule_name: str
    metric: str
    signal: str
    store_code: str
    store_name: str
    period_start: date
    period_end: date
    created_at: datetime
    #: The alert as stored, for `portal.alerts.words.alert_sentence`.
    alert: Alert
    #: Whether the reader received it (and so may dismiss it), and whether they did.
    mine: bool
    dismissed: bool


def _rows(session: Session, stmt: Select[Any]) -> list[AlertRow]:
    return [_row(alert, recipient) for alert, recipient in session.execute(stmt).all()]


def _row(alert: Alert, recipient: AlertRecipient | None) -> AlertRow:
    return AlertRow(
        alert.id,
        alert.rule.name,
        alert.rule.metric,
        alert.signal,
        alert.store.code,
        alert.store.name,
        alert.period_start,
        alert.period_end,
        alert.created_at,
        alert,
        recipient is not None,
        recipient is not None and recipient.dismissed_at is not None,
    )


def list_home_alerts(session: Session, user: User) -> list[AlertRow]:
    """The alerts sent to ``user`` that they have not dismissed, newest first."""
    stmt = (
        select(Alert, AlertRecipient)
        .join(AlertRecipient, AlertRecipient.alert_id == Alert.id)
        .where(AlertRecipient.user_id == user.id, AlertRecipient.dismissed_at.is_(None))
        .order_by(Alert.created_at.desc(), Alert.id.desc())
        .limit(HOME_SHOWN)
    )
    return _rows(session, scope_to_user(stmt, user, Alert.store_id))


def alerts_page(session: Session, user: User, page: int) -> tuple[Page[Any], list[AlertRow]]:
    """One page of ``user``'s alerts (every alert for chain-wide roles), newest first."""
    mine = (AlertRecipient.alert_id == Alert.id) & (AlertRecipient.user_id == user.id)
    stmt = select(Alert, AlertRecipient).outerjoin(AlertRecipient, mine)
    if user.role not in CHAIN_WIDE:
        stmt = stmt.where(AlertRecipient.user_id.is_not(None))
    stmt = scope_to_user(stmt, user, Alert.store_id).order_by(
        Alert.created_at.desc(), Alert.id.desc()
    )
    result = paginate(session, stmt, page)
    return result, [_row(alert, recipient) for alert, recipient in result.items]


def list_rules(session: Session) -> list[AlertRule]:
    return list(session.scalars(select(AlertRule).order_by(AlertRule.name, AlertRule.id)))


def scope_choices(session: Session, everywhere: str) -> list[SelectChoice]:
    """``chain``, ``region:<id>`` and ``store:<id>`` choices, with ``everywhere`` as the
    chain's label."""
    choices = [SelectChoice("chain", everywhere)]
    regions = select(Region).order_by(Region.name)
    choices += [SelectChoice(f"region:{r.id}", r.name) for r in session.scalars(regions)]
    choices += [
        (f"store:{s.id}", store_label(s))
        for s in session.scalars(
            select(Store).where(Store.closed_at.is_(None)).order_by(Store.code)
        )
    ]
    return choices
