"""A mystery shopper's home: their own assignments still waiting for them, sorted into what
they do next: accept (or decline), visit, finish a started report, fix a returned one.
Each carries the store's name and address and the visit window; only the shopper's own
visits are read (`portal.mystery.queries.visible_visits`), never a list of stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from portal.calendar import local_today
from portal.models import MysteryVisit, Store, User, VisitEvent, VisitState
from portal.mystery.queries import visible_visits

#: The states in which an assignment waits for its shopper.
WAITING_STATES = (VisitState.ASSIGNED, VisitState.ACCEPTED, VisitState.RETURNED)


@dataclass(frozen=True, slots=True)
class Assignment:
    visit_id: int
    state: str
    store_code: str
    store_name: str
    address: str
    window_start: date
    window_end: date
    daypart: str
    checklist_key: str
    fee_cents: int
    #: What the reviewer asked to change (returned reports).
    review_note: str
    #: Part of the report is saved (a draft).
    started: bool
    #: The last day of the window is behind, on the store's calendar.
    window_passed: bool


@dataclass(frozen=True, slots=True)
class ShopperHome:
    to_accept: tuple[Assignment, ...]
    to_visit: tuple[Assignment, ...]
    drafts: tuple[Assignment, ...]
    returned: tuple[Assignment, ...]

    @property
    def nothing_waiting(self) -> bool:
        return not (self.to_accept or self.to_visit or self.drafts or self.returned)


def shopper_home(session: Session, user: User, now: datetime) -> ShopperHome:
    """``user``'s assignments waiting for them at ``now``, the earliest window end first,
    in one query (a shopper holds a handful at a time)."""
    draft_saved = exists(
        select(VisitEvent.id).where(
            VisitEvent.visit_id == MysteryVisit.id, VisitEvent.kind == "draft_saved"
        )
    )
    stmt = (
        visible_visits(user)
        .with_only_columns(
            MysteryVisit.id,
            MysteryVisit.state,
            Store.code,
            Store.name,
            Store.address,
            Store.timezone,
            MysteryVisit.window_start,
            MysteryVisit.window_end,
            MysteryVisit.daypart,
            MysteryVisit.checklist_key,
            MysteryVisit.fee_cents,
            MysteryVisit.review_note,
            draft_saved.label("started"),
        )
        .join(Store, Store.id == MysteryVisit.store_id)
        .where(MysteryVisit.state.in_(WAITING_STATES))
        .order_by(MysteryVisit.window_end, MysteryVisit.id)
    )
    lists: dict[str, list[Assignment]] = {"accept": [], "visit": [], "draft": [], "returned": []}
    for row in session.execute(stmt):
        item = Assignment(
            visit_id=row.id,
            state=row.state,
            store_code=row.code,
            store_name=row.name,
            address=row.address,
            window_start=row.window_start,
            window_end=row.window_end,
            daypart=row.daypart,
            checklist_key=row.checklist_key,
            fee_cents=row.fee_cents,
            review_note=row.review_note,
            started=bool(row.started),
            window_passed=row.window_end < local_today(row.timezone, now),
        )
        lists[_next_step(item)].append(item)
    return ShopperHome(
        to_accept=tuple(lists["accept"]),
        to_visit=tuple(lists["visit"]),
        drafts=tuple(lists["draft"]),
        returned=tuple(lists["returned"]),
    )


def _next_step(item: Assignment) -> str:
    if item.state == VisitState.ASSIGNED:
        return "accept"
    if item.state == VisitState.RETURNED:
        return "returned"
    return "draft" if item.started else "visit"
