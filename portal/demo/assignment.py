"""The demo mystery shopper's assignment to try: a visit waiting to be accepted whose window
includes today, so that a newcomer who signs in as ``mystery@demo.example`` finds work at
once, however long ago the demo was built. The build leaves one store free of that
shopper's visits for it (see `Planner._plan`), and every ``flask demo`` run makes a new one
when the last has gone by.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit import Actor
from portal.calendar import local_today
from portal.config import Settings
from portal.demo.chain import DEMO_ADMIN_EMAIL, find_user
from portal.models import MysteryVisit, Store, VisitState
from portal.models.mystery import Daypart
from portal.mystery.scheduling import (
    VisitPlan,
    cancel_visit,
    rotation_conflict,
    schedule_visit,
)

#: The login the demo prints for the mystery role.
DEMO_SHOPPER_EMAIL = "mystery@demo.example"
#: The store the build keeps free of the demo shopper's visits for the assignment to try.
TRY_STORE = "SH-003"
#: Two weeks from today: a re-run of the demo in the next days still finds it open.
TRY_WINDOW_DAYS = 14
_CHECKLIST = "retail-standard"
_INSTRUCTIONS = (
    "午间访问，窗口内任选一天。付款前请向店员咨询一款小家电的保修期和退换政策，"
    "记录店员的回答是否与门店公示一致，并保留小票。"
)
_STALE = "访问窗口已过，任务未被接受，自动取消。"


def _unaccepted(session: Session) -> list[MysteryVisit]:
    shopper = find_user(session, DEMO_SHOPPER_EMAIL)
    return list(
        session.scalars(
            select(MysteryVisit)
            .where(MysteryVisit.shopper_id == shopper.id, MysteryVisit.state == VisitState.ASSIGNED)
            .order_by(MysteryVisit.id.desc())
        )
    )


def waiting_assignment(session: Session, *, now: datetime) -> MysteryVisit | None:
    """The demo shopper's assignment still to accept whose window includes today."""
    for visit in _unaccepted(session):
        today = local_today(visit.store.timezone, now)
        if visit.window_start <= today <= visit.window_end:
            return visit
    return None


def assignment_to_try(
    session: Session, settings: Settings, *, now: datetime
) -> MysteryVisit | None:
    """The demo shopper's waiting assignment, or a new one the demo admin schedules now, at
    `TRY_STORE` or else the first open store the rotation rules allow (earlier assignments
    whose window went by unaccepted are cancelled first). None when every store is locked
    for that shopper (they accepted the last one and visited every store lately).

    Adds and flushes; the caller commits.
    """
    waiting = waiting_assignment(session, now=now)
    if waiting is not None:
        return waiting
    shopper = find_user(session, DEMO_SHOPPER_EMAIL)
    admin = find_user(session, DEMO_ADMIN_EMAIL)
    # An earlier run's assignment nobody accepted in time would lock its store for the
    # rotation's 60 days: the admin calls it off, as a scheduler would.
    for stale in _unaccepted(session):
        if stale.window_end < local_today(stale.store.timezone, now):
            cancel_visit(session, stale, actor=Actor.of_user(admin), reason=_STALE, now=now)
    stores = session.scalars(select(Store).where(Store.closed_at.is_(None)).order_by(Store.code))
    for store in sorted(stores, key=lambda s: s.code != TRY_STORE):
        today = local_today(store.timezone, now)
        plan = VisitPlan(
            store_id=store.id,
            shopper_id=shopper.id,
            checklist_key=_CHECKLIST,
            window_start=today,
            window_end=today + timedelta(days=TRY_WINDOW_DAYS - 1),
            daypart=Daypart.MIDDAY.value,
            fee_cents=8_000,
            instructions=_INSTRUCTIONS,
        )
        if rotation_conflict(session, settings, shopper, store, plan) is None:
            return schedule_visit(session, settings, plan, actor=Actor.of_user(admin), now=now)
    return None
