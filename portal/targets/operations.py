"""Setting and removing targets. Plain functions over a session that only flush.

A target is never edited: a new target of the same metric and scope takes over from its
own date, so a month already judged keeps the target it was judged by. For the same
reason a target may only start today or later, and only a target not yet in force may be
removed.
"""

from __future__ import annotations

import math
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.audit import Actor, record_audit
from portal.calendar import chain_today
from portal.errors import Conflict, DomainError, NotFound
from portal.models import Metric, Region, Store, Target
from portal.targets.queries import Scope

#: The range of each metric's display unit: NPS in points, the rest in percent.
VALUE_RANGE: dict[Metric, tuple[float, float]] = {
    metric: ((-100.0, 100.0) if metric == Metric.NPS else (0.0, 100.0)) for metric in Metric
}


class InvalidTarget(DomainError):
    status = 400
    code = "invalid_target"


class DuplicateTarget(Conflict):
    code = "duplicate_target"


class TargetInForce(Conflict):
    code = "target_in_force"


def _check_scope(session: Session, scope: Scope) -> None:
    if scope.region_id is not None and scope.store_id is not None:
        raise InvalidTarget(_("Choose the chain, one region or one store."), field="scope")
    if scope.region_id is not None and session.get(Region, scope.region_id) is None:
        raise InvalidTarget(_("No such region."), field="region")
    if scope.store_id is not None and session.get(Store, scope.store_id) is None:
        raise InvalidTarget(_("No such store."), field="store")


def _check_value(metric: Metric, value: float) -> float:
    low, high = VALUE_RANGE[metric]
    if not math.isfinite(value) or not low <= value <= high:
        raise InvalidTarget(
            _("The target must be between %(low)s and %(high)s.", low=f"{low:g}", high=f"{high:g}"),
            field="value",
        )
    return float(value)


def set_target(
    session: Session,
    *,
    metric: Metric,
    scope: Scope,
    value: float,
    effective_from: date,
    actor: Actor,
    now: datetime,
) -> Target:
    """Set a target for ``metric`` over ``scope`` from ``effective_from`` (today or later);
    it takes over from the target in force before it on that date.

    Raises
    ------
    InvalidTarget
        A value outside the metric's unit, a past date, or a scope that does not exist.
    DuplicateTarget
        This metric and scope already have a target from that date (also when two people
        set one at once: the second is refused by the unique constraint).
    """
    _check_scope(session, scope)
    value = _check_value(metric, value)
    if effective_from < chain_today(session, now):
        raise InvalidTarget(
            _("A target starts today or later; a past month keeps the target it had."),
            field="effective_from",
        )
    target = Target(
        metric=metric.value,
        region_id=scope.region_id,
        store_id=scope.store_id,
        scope_key=scope.key,
        value=value,
        effective_from=effective_from,
        created_at=now,
        created_by_user_id=actor.user_id,
    )
    # The target joins the session inside the savepoint, so that a refused one leaves
    # nothing pending behind for the caller's next flush to try again.
    try:
        with session.begin_nested():
            session.add(target)
            session.flush()
    except IntegrityError:
        raise DuplicateTarget(
            _(
                "This metric already has a target for this scope from %(day)s; remove it "
                "first to change it.",
                day=effective_from.isoformat(),
            ),
            field="effective_from",
        ) from None
    record_audit(
        session,
        actor,
        "target.set",
        "target",
        target.id,
        now,
        metric=metric.value,
        scope=scope.key,
        value=value,
        effective_from=effective_from.isoformat(),
    )
    return target


def get_target(session: Session, target_id: int) -> Target:
    """Raises `NotFound`."""
    target = session.get(Target, target_id)
    if target is None:
        raise NotFound(_("No such target."))
    return target


def remove_target(session: Session, target: Target, *, actor: Actor, now: datetime) -> None:
    """Remove a target that is not yet in force (it starts after today).

    Raises
    ------
    TargetInForce
        The target is in force or was: it judged figures already, so it stays on record.
    """
    if target.effective_from <= chain_today(session, now):
        raise TargetInForce(
            _("A target already in force stays on record; set a new one to replace it.")
        )
    record_audit(
        session,
        actor,
        "target.removed",
        "target",
        target.id,
        now,
        metric=target.metric,
        scope=target.scope_key,
        value=target.value,
        effective_from=target.effective_from.isoformat(),
    )
    session.delete(target)
    session.flush()
