"""Alert rules: written, changed and deleted by chain-wide users; and an alert dismissed by
its recipient. Which metric allows which kind of rule is decided here, once.

A rule's change is applied only if the rule is still as the editor loaded it (compared
column by column in the UPDATE itself), so of two people editing one rule at once the
second is told instead of silently overwriting the first.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.orm import Session

from portal.alerts.figures import MONTHLY_MIN_N, WEEKLY
from portal.audit import Actor, record_audit
from portal.errors import Conflict, DomainError, NotFound
from portal.models import (
    AlertKind,
    AlertRecipient,
    AlertRule,
    Metric,
    Region,
    Store,
    scope_key_of,
)

#: The metrics with a weekly figure per store, and so a threshold or a control chart.
#: First response, recovery and mystery scores have no weekly store figure yet.
KINDS_OF_METRIC: dict[Metric, frozenset[AlertKind]] = {
    **{metric: frozenset({AlertKind.THRESHOLD, AlertKind.CONTROL_CHART}) for metric in WEEKLY},
    # A month's few cases or visits make no control chart: a threshold only.
    **{metric: frozenset({AlertKind.THRESHOLD}) for metric in MONTHLY_MIN_N},
}
#: The range of a threshold, in the metric's display unit (NPS points, else percent).
THRESHOLD_RANGE: dict[Metric, tuple[float, float]] = {
    metric: ((-100.0, 100.0) if metric == Metric.NPS else (0.0, 100.0))
    for metric in KINDS_OF_METRIC
}


class InvalidRule(DomainError):
    status = 400
    code = "invalid_rule"


class RuleChanged(Conflict):
    message = _l("Someone changed this rule meanwhile: reload it and make your change again.")


@dataclass(frozen=True, slots=True)
class RuleFields:
    """What an editor sets on a rule."""

    name: str
    metric: str
    kind: str
    threshold: float | None
    region_id: int | None
    store_id: int | None
    active: bool = True

    @classmethod
    def of(cls, rule: AlertRule) -> RuleFields:
        return cls(
            rule.name,
            rule.metric,
            rule.kind,
            rule.threshold,
            rule.region_id,
            rule.store_id,
            rule.active,
        )


def check_rule(session: Session, fields: RuleFields) -> RuleFields:
    """``fields`` made consistent (no threshold on a control chart), or `InvalidRule` on the
    field at fault: a kind the metric does not allow, a
    missing or out-of-range threshold, an unknown region or store."""
    try:
        metric, kind = Metric(fields.metric), AlertKind(fields.kind)
    except ValueError:
        raise InvalidRule(
            _l("Choose a metric and a kind of rule from the lists."), field="metric"
        ) from None
    if kind not in KINDS_OF_METRIC[metric]:
        raise InvalidRule(
            _l(
                "A control chart needs a weekly share: choose NPS, satisfaction or the "
                "complaint rate, or a threshold rule."
            ),
            field="kind",
        )
    threshold = fields.threshold
    if kind == AlertKind.THRESHOLD:
        low, high = THRESHOLD_RANGE[metric]
        if threshold is None:
            raise InvalidRule(_l("A threshold rule needs a threshold."), field="threshold")
        if not low <= threshold <= high:
            raise InvalidRule(
                _l("The threshold must be between %(low)s and %(high)s.", low=low, high=high),
                field="threshold",
            )
    else:
        threshold = None
    if fields.region_id is not None and session.get(Region, fields.region_id) is None:
        raise InvalidRule(_l("This region no longer exists."), field="scope")
    if fields.store_id is not None and session.get(Store, fields.store_id) is None:
        raise InvalidRule(_l("This store no longer exists."), field="scope")
    name = fields.name.strip()
    if not name:
        raise InvalidRule(_l("Give the rule a name."), field="name")
    return RuleFields(
        name, metric, kind, threshold, fields.region_id, fields.store_id, fields.active
    )


def create_rule(session: Session, fields: RuleFields, *, actor: Actor, now: datetime) -> AlertRule:
    """Add a rule (checked by `check_rule`). Raises `InvalidRule`."""
    fields = check_rule(session, fields)
    rule = AlertRule(**asdict(fields), created_at=now, created_by_user_id=actor.user_id)
    session.add(rule)
    session.flush()
    record_audit(session, actor, "alert_rule.create", "alert_rule", rule.id, now, **_said(fields))
    return rule


def update_rule(
    session: Session,
    rule_id: int,
    loaded: RuleFields,
    fields: RuleFields,
    *,
    actor: Actor,
    now: datetime,
) -> AlertRule:
    """Change a rule that is still as ``loaded``. Raises `InvalidRule`, `NotFound`, or
    `RuleChanged` when someone changed it since."""
    rule = get_rule(session, rule_id)
    fields = check_rule(session, fields)
    columns = AlertRule.__table__.c
    still = [
        columns[name].is_(value)
        if value is None or isinstance(value, bool)
        else columns[name] == value
        for name, value in asdict(loaded).items()
    ]
    changed = session.execute(
        update(AlertRule)
        .where(AlertRule.id == rule_id, *still)
        .values(**asdict(fields))
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise RuleChanged()
    session.refresh(rule)
    record_audit(session, actor, "alert_rule.update", "alert_rule", rule.id, now, **_said(fields))
    return rule


def delete_rule(session: Session, rule_id: int, *, actor: Actor, now: datetime) -> None:
    """Delete a rule and the alerts it raised. Raises `NotFound`."""
    rule = get_rule(session, rule_id)
    record_audit(session, actor, "alert_rule.delete", "alert_rule", rule.id, now, name=rule.name)
    session.delete(rule)
    session.flush()


def get_rule(session: Session, rule_id: int) -> AlertRule:
    rule = session.get(AlertRule, rule_id)
    if rule is None:
        raise NotFound()
    return rule


def dismiss_alert(session: Session, alert_id: int, user_id: int, *, now: datetime) -> None:
    """Hide an alert from its recipient's home page (kept on their alerts list). Raises
    `NotFound` when the alert was not sent to them."""
    done = session.execute(
        update(AlertRecipient)
        .where(AlertRecipient.alert_id == alert_id, AlertRecipient.user_id == user_id)
        .values(dismissed_at=now)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound()


def _said(fields: RuleFields) -> dict[str, object]:
    return {
        "name": fields.name,
        "metric": fields.metric,
        "kind": fields.kind,
        "threshold": fields.threshold,
        "scope": scope_key_of(fields.region_id, fields.store_id),
    }
