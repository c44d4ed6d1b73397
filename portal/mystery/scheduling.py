"""Scheduling mystery visits: the plan a reviewer assigns, the rotation rules that keep a
shopper unknown to the store, and the moves before any report exists: the shopper accepts
or declines the assignment, a reviewer cancels it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.audit import Actor
from portal.calendar import local_today
from portal.config import Settings
from portal.models import MysteryVisit, Role, Staff, Store, User, VisitState
from portal.models.mystery import DAYPART_HOURS
from portal.mystery.visits import VISITS, InvalidVisit, own_visit
from portal.versions import publish_survey_version
from portal.workflow import move, record_change, require_reason
from surveys.checklists import get_checklist


@dataclass(frozen=True, slots=True)
class VisitPlan:
    store_id: int
    shopper_id: int
    checklist_key: str
    window_start: date
    window_end: date
    daypart: str
    fee_cents: int = 0
    instructions: str = ""


def rotation_conflict(
    session: Session, settings: Settings, shopper: User, store: Store, plan: VisitPlan
) -> str | None:
    """Why this shopper may not visit this store in the planned window, or None.

    The same shopper is not sent to the same store within ``mystery_lockout_days`` of
    another of their visits there, and never to a store where someone of the same name
    works (a shopper known to the staff is no mystery).
    """
    lockout = timedelta(days=settings.mystery_lockout_days)
    near = session.scalar(
        select(MysteryVisit.id)
        .where(
            MysteryVisit.shopper_id == shopper.id,
            MysteryVisit.store_id == store.id,
            MysteryVisit.state.not_in([VisitState.DECLINED, VisitState.CANCELLED]),
            MysteryVisit.window_end >= plan.window_start - lockout,
            MysteryVisit.window_start <= plan.window_end + lockout,
        )
        .limit(1)
    )
    if near is not None:
        return str(
            _l(
                "This shopper already has a visit to this store within %(days)s days "
                "(visit %(visit)s).",
                days=settings.mystery_lockout_days,
                visit=near,
            )
        )
    if shopper.name.strip():
        colleague = session.scalar(
            select(Staff.code).where(
                Staff.store_id == store.id,
                func.lower(func.trim(Staff.name)) == shopper.name.strip().lower(),
            )
        )
        if colleague is not None:
            return str(_l("This shopper works at this store (staff %(code)s).", code=colleague))
    return None


def schedule_visit(
    session: Session, settings: Settings, plan: VisitPlan, *, actor: Actor, now: datetime
) -> MysteryVisit:
    """Assign a visit to a shopper, checking the plan and the rotation rules.

    Raises
    ------
    InvalidVisit
        Unknown store, shopper or checklist, a bad window, daypart or fee, or a rotation
        rule broken (the message says which).
    """
    store = session.get(Store, plan.store_id)
    if store is None:
        raise InvalidVisit(_l("Choose a store."), field="store")
    shopper = session.get(User, plan.shopper_id)
    if shopper is None or shopper.role != Role.MYSTERY or not shopper.active:
        raise InvalidVisit(_l("Choose an active mystery shopper."), field="shopper")
    try:
        definition = get_checklist(plan.checklist_key)
    except KeyError:
        raise InvalidVisit(_l("Choose a checklist."), field="checklist") from None
    if plan.window_end < plan.window_start:
        raise InvalidVisit(_l("The window must end on or after its first day."), field="window_end")
    if plan.window_end < local_today(store.timezone, now):
        raise InvalidVisit(_l("The window is already over."), field="window_end")
    if plan.window_end - plan.window_start > timedelta(days=62):
        raise InvalidVisit(_l("A window is at most two months long."), field="window_end")
    if plan.daypart not in DAYPART_HOURS:
        raise InvalidVisit(_l("Choose a time of day."), field="daypart")
    if not 0 <= plan.fee_cents <= 100_000_00:
        raise InvalidVisit(_l("The fee must be between 0 and 100,000."), field="fee")
    conflict = rotation_conflict(session, settings, shopper, store, plan)
    if conflict is not None:
        raise InvalidVisit(conflict, field="shopper")
    version = publish_survey_version(session, definition, now)
    visit = MysteryVisit(
        store_id=store.id,
        shopper_id=shopper.id,
        checklist_version_id=version.id,
        checklist_key=definition.key,
        window_start=plan.window_start,
        window_end=plan.window_end,
        daypart=plan.daypart,
        fee_cents=plan.fee_cents,
        instructions=plan.instructions.strip(),
        state=VisitState.ASSIGNED,
        scheduled_by_id=actor.user_id,
        created_at=now,
        answers={},
        flags=[],
        section_scores={},
    )
    session.add(visit)
    session.flush()
    record_change(
        session,
        VISITS,
        visit,
        actor,
        "scheduled",
        now,
        store=store.code,
        shopper_id=shopper.id,
        window=[plan.window_start.isoformat(), plan.window_end.isoformat()],
        daypart=plan.daypart,
    )
    return visit


# -- before the visit ------------------------------------------------------------------------


def accept_visit(
    session: Session,
    visit: MysteryVisit,
    *,
    actor: Actor,
    now: datetime,
    expected_version: int | None = None,
) -> MysteryVisit:
    """The shopper takes the assignment on."""
    own_visit(visit, actor)
    from_state = move(VISITS, visit, VisitState.ACCEPTED, expected_version)
    record_change(session, VISITS, visit, actor, "accepted", now, from_state=from_state)
    return visit


def decline_visit(
    session: Session,
    visit: MysteryVisit,
    *,
    actor: Actor,
    reason: str = "",
    now: datetime,
    expected_version: int | None = None,
) -> MysteryVisit:
    """The shopper turns the assignment down, saying why if they like."""
    own_visit(visit, actor)
    from_state = move(VISITS, visit, VisitState.DECLINED, expected_version)
    record_change(
        session, VISITS, visit, actor, "declined", now, note=reason, from_state=from_state
    )
    return visit


def cancel_visit(
    session: Session,
    visit: MysteryVisit,
    *,
    actor: Actor,
    reason: str,
    now: datetime,
    expected_version: int | None = None,
) -> MysteryVisit:
    """A reviewer calls off a visit that has no report yet; a reason is required."""
    require_reason(reason, field="reason")
    from_state = move(VISITS, visit, VisitState.CANCELLED, expected_version)
    record_change(
        session, VISITS, visit, actor, "cancelled", now, note=reason, from_state=from_state
    )
    return visit
