"""The demo's mystery-shopping plan, decided before any of it is played: four shoppers visit
every store about twice a month in rotation (no shopper returns to a store within
``mystery_lockout_days``); each visit is placed on an unanswered demo receipt of the store
issued during it, so the POS check matches (a few transaction numbers are mistyped, and
visits before the demo's receipts began are "not found"); and each report gets its fate:
the newest still in the pipeline, the managed stores carrying the disputes (one upheld, one
adjusted, one open, and a released report the given manager can still dispute), some older
ones rejected, returned, corrected or failed on a critical item.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.access import managers_of
from portal.audit import CLI
from portal.auth.operations import create_user
from portal.calendar import local_day, local_today, zone
from portal.config import Settings
from portal.demo.answers import CLOSING_HOUR, OPENING_HOUR
from portal.demo.assignment import DEMO_SHOPPER_EMAIL, TRY_STORE
from portal.demo.mystery_texts import (
    DAYPART_ZH,
    PRODUCT_QUESTIONS,
    RETAIL,
    RETURN_PRODUCTS,
    RETURNS,
    UNNAMED,
)
from portal.models import MysteryVisit, Receipt, Role, Staff, Store, User
from portal.models.mystery import DAYPART_HOURS, Daypart
from surveys.checklists import ChecklistAnswers, ChecklistDefinition, Critical, get_checklist

_T = TypeVar("_T")

#: The programme runs at least this long, so that even a short demo has final reports.
MIN_DAYS = 60


@dataclass(frozen=True, slots=True)
class DemoShopper:
    email: str
    name: str
    #: Share of the "no" answers this shopper turns into "yes": a lenient shopper scores
    #: high against the others at the same stores.
    leniency: float
    #: Made here; mystery@demo.example is one of the demo's logins, made before.
    create: bool = True


#: The names carry a compound surname that no staff name has, so the rotation's "no
#: shopper known to the staff" rule never blocks them.
SHOPPERS = (
    DemoShopper(DEMO_SHOPPER_EMAIL, "", 0.0, create=False),
    DemoShopper("mystery2@demo.example", "神秘顾客 欧阳娜", 0.0),
    DemoShopper("mystery3@demo.example", "神秘顾客 上官宁", 0.65),
    DemoShopper("mystery4@demo.example", "神秘顾客 司徒悦", 0.05),
)


# Days from one visit window of a store to the next, and a window's length.
_GAP_DAYS = (12, 18)
_WINDOW_DAYS = (5, 7)
# A visit is scheduled this many days before its window opens.
_LEAD_DAYS = (5.0, 14.0)
# Hours a shopper takes to accept an assignment.
ACCEPT_HOURS = (1.0, 48.0)
# Every fourth visit of a store (the third, seventh...) uses the return-and-complaint one.
_RETURNS_EVERY = 4
_AGE_CHECK_RATE = 0.12
_DECLINE_RATE = 0.05
_CANCEL_RATE = 0.025
_LATE_RATE = 0.06
_TYPO_RATE = 0.04
_UNNAMED_RATE = 0.08
_RETURN_CYCLES = 3
_CORRECTIONS = 3
# Shoppers file reports between 7:00 and 23:00.
_AWAKE = (7, 23)
# Reviewers work 9:00-19:00; store managers answer until 21:00.
OFFICE = (9, 19)
MANAGER_CLOSING = 21

# What happens to a slot, decided before any of it is played.
UPCOMING = "upcoming"  # window ahead, or the visit not made yet: assigned or accepted
DECLINED = "declined"
CANCELLED = "cancelled"
DONE = "done"  # the ordinary life: filed, reviewed, released, final once the window closes
DRAFT = "draft"  # visited, the report half-filled
SUBMITTED = "submitted"
IN_REVIEW = "in_review"
RETURNED = "returned"
REJECTED = "rejected"
RELEASED = "released"  # released days ago: the store may still dispute it
DISPUTE_OPEN = "dispute_open"
UPHELD = "upheld"
ADJUSTED = "adjusted"
# The step a slot of each pipeline fate stops after (it must happen before `now`).
LAST_STEP = {
    SUBMITTED: "submit",
    IN_REVIEW: "review",
    RETURNED: "return",
    RELEASED: "release",
    DISPUTE_OPEN: "dispute",
}


@dataclass(frozen=True, slots=True)
class Shopper:
    user: User
    leniency: float


@dataclass(frozen=True, slots=True)
class SoldReceipt:
    id: int
    transaction_id: str
    issued_at: datetime
    staff_id: int
    total_cents: int


@dataclass(slots=True, eq=False)
class Slot:
    """One assignment: planned first, then played step by step."""

    store: Store
    shopper: Shopper
    checklist: ChecklistDefinition
    window_start: date
    window_end: date
    daypart: str
    instructions: str
    #: What the brief has the shopper ask about (or return).
    product: str
    scheduled_at: datetime
    #: The age-check scenario: the shopper also buys a bottle of beer (retail E7).
    age_check: bool = False
    fate: str = DONE
    visit: MysteryVisit | None = None
    #: When the shopper declined or the scheduler cancelled.
    decided_at: datetime | None = None
    accepted_at: datetime | None = None
    started: datetime | None = None
    ended: datetime | None = None
    receipt: SoldReceipt | None = None
    transaction_id: str = ""
    served_by: Staff | None = None
    served_description: str = ""
    answers: ChecklistAnswers | None = None
    #: A critical item failed on purpose: "visit" or "section".
    critical_fail: str | None = None
    returned_once: bool = False
    corrected: bool = False
    late: bool = False
    blurred: bool = False


class Planner:
    """Plans the programme: the shoppers, the visit slots, where and when each visit took
    place, and each report's fate."""

    def __init__(
        self,
        session: Session,
        settings: Settings,
        *,
        now: datetime,
        days: int,
        rng: random.Random,
        password: str,
        manager: User,
        quality: Mapping[str, float],
    ) -> None:
        self.session = session
        self.settings = settings
        self.now = now
        self.start = now - timedelta(days=days)
        self.rng = rng
        self.manager_stores = {store.id for store in manager.stores}
        self.quality = quality
        self.retail = get_checklist(RETAIL)
        self.returns = get_checklist(RETURNS)
        self.shoppers = [self._shopper(spec, password) for spec in SHOPPERS]
        self.stores = list(session.scalars(select(Store).order_by(Store.code)))
        self.staff: dict[int, list[Staff]] = {}
        for member in session.scalars(
            select(Staff).where(Staff.active.is_(True)).order_by(Staff.id)
        ):
            self.staff.setdefault(member.store_id, []).append(member)
        #: The manager who answers for each store that has one.
        self.managers = {
            store.id: found[0] for store in self.stores if (found := managers_of(session, store.id))
        }

    def _shopper(self, spec: DemoShopper, password: str) -> Shopper:
        if not spec.create:
            user = self.session.scalars(select(User).where(User.email == spec.email)).one()
            return Shopper(user, spec.leniency)
        user = create_user(
            self.session,
            email=spec.email,
            role=Role.MYSTERY.value,
            password=password,
            name=spec.name,
            actor=CLI,
            # Recruited before the first visits were scheduled.
            now=self.start - timedelta(days=21),
        )
        return Shopper(user, spec.leniency)

    # -- planning --------------------------------------------------------------------------

    def _plan(self) -> list[Slot]:
        """Each store's visit windows, one every two weeks or so; each goes to the shopper
        with the fewest visits so far among those the rotation allows at that store."""
        rng = self.rng
        slots: list[Slot] = []
        # (store id, shopper id) -> windows that count for the rotation.
        taken: dict[tuple[int, int], list[tuple[date, date]]] = {}
        load: Counter[int] = Counter()
        for store_index, store in enumerate(self.stores):
            tz = store.timezone
            today = local_today(tz, self.now)
            window_start = local_day(self.start, tz) + timedelta(days=rng.randint(0, 12))
            visit_index = 0
            peak = rng.random() < 0.5
            while True:
                length = rng.randint(*_WINDOW_DAYS)
                window_end = window_start + timedelta(days=length - 1)
                lead = timedelta(days=rng.uniform(*_LEAD_DAYS))
                scheduled = self._office(local_at(window_start, tz) - lead, tz)
                if scheduled > self.now - timedelta(hours=1):
                    break  # not planned yet
                free = [
                    s
                    for s in self.shoppers
                    if s.user.active
                    and not self._locked(
                        taken.get((store.id, s.user.id), ()), window_start, window_end
                    )
                    and not self._kept_for_try(store, s, window_end, today)
                ]
                if not free:
                    window_start += timedelta(days=3)
                    continue
                free.sort(key=lambda s: (load[s.user.id], rng.random()))
                peak = not peak
                window = (window_start, window_end)
                slot = self._slot(store, free[0], visit_index, peak, window, scheduled)
                # One assignment of the first store is declined for sure, others by chance.
                forced = store_index == 0 and visit_index == 1
                if len(free) > 1 and (forced or rng.random() < _DECLINE_RATE):
                    declined = self._declined(slot, free[1])
                    if declined is not None:
                        slots.append(declined)
                self._cancel_or_wait(slot, today, forced=store_index == 1 and visit_index == 2)
                slots.append(slot)
                # A cancelled visit still blocks the store for its shopper: the stricter way.
                taken.setdefault((store.id, slot.shopper.user.id), []).append(
                    (window_start, window_end)
                )
                load[slot.shopper.user.id] += 1
                visit_index += 1
                window_start += timedelta(days=rng.randint(*_GAP_DAYS))
        return slots

    def _slot(
        self,
        store: Store,
        shopper: Shopper,
        visit_index: int,
        peak: bool,
        window: tuple[date, date],
        scheduled: datetime,
    ) -> Slot:
        """A store's next assignment: every fourth uses the return-and-complaint checklist,
        peak and quiet dayparts alternate."""
        rng = self.rng
        checklist = self.returns if visit_index % _RETURNS_EVERY == 2 else self.retail
        daypart = rng.choice(
            (Daypart.MIDDAY, Daypart.EVENING) if peak else (Daypart.MORNING, Daypart.AFTERNOON)
        )
        age_check = checklist is self.retail and rng.random() < _AGE_CHECK_RATE
        instructions, product = self._brief(checklist, str(daypart), age_check)
        return Slot(
            store=store,
            shopper=shopper,
            checklist=checklist,
            window_start=window[0],
            window_end=window[1],
            daypart=str(daypart),
            instructions=instructions,
            product=product,
            scheduled_at=scheduled,
            age_check=age_check,
        )

    def _declined(self, slot: Slot, other: Shopper) -> Slot | None:
        """The assignment first offered to ``other``, who declines; the scheduler then asks
        the slot's shopper. None when that would all happen after `now`."""
        rng, tz = self.rng, slot.store.timezone
        declined = replace(slot, shopper=other, fate=DECLINED)
        decided = slot.scheduled_at + timedelta(hours=rng.uniform(2, 20))
        declined.decided_at = decided.replace(microsecond=0)
        rescheduled = self._office(declined.decided_at + timedelta(hours=rng.uniform(0.5, 6)), tz)
        if rescheduled >= self.now - timedelta(hours=1):
            return None
        slot.scheduled_at = rescheduled
        return declined

    def _cancel_or_wait(self, slot: Slot, today: date, *, forced: bool) -> None:
        """Cancel the visit (by chance, or ``forced``) a day or two before its window, or
        leave it upcoming when its window still lies ahead."""
        rng, tz = self.rng, slot.store.timezone
        before = local_at(slot.window_start, tz) - timedelta(days=rng.uniform(0.5, 2))
        cancel_at = self._office(before, tz)
        if cancel_at < self.now - timedelta(hours=1) and (forced or rng.random() < _CANCEL_RATE):
            slot.fate = CANCELLED
            slot.decided_at = cancel_at
        elif slot.window_start > today:
            slot.fate = UPCOMING

    def _kept_for_try(self, store: Store, shopper: Shopper, window_end: date, today: date) -> bool:
        """Whether this window would keep the demo shopper from the assignment to try,
        which `assignment_to_try` schedules at `TRY_STORE` from today on."""
        lockout = timedelta(days=self.settings.mystery_lockout_days)
        return (
            store.code == TRY_STORE
            and shopper.user.email == DEMO_SHOPPER_EMAIL
            and window_end >= today - lockout
        )

    def _locked(self, windows: Sequence[tuple[date, date]], start: date, end: date) -> bool:
        """The rotation rule as `rotation_conflict` applies it to windows."""
        lockout = timedelta(days=self.settings.mystery_lockout_days)
        return any(e >= start - lockout and s <= end + lockout for s, e in windows)

    def _brief(
        self, checklist: ChecklistDefinition, daypart: str, age_check: bool
    ) -> tuple[str, str]:
        """The instructions for the shopper, and the product they are about."""
        rng = self.rng
        when = DAYPART_ZH[daypart]
        if checklist is self.returns:
            product = rng.choice(RETURN_PRODUCTS)
            amount = rng.choice((29.9, 39.9, 45.0, 59.0, 68.0, 89.0))
            return (
                f"{when}访问。携带简报附带的小票，退回一件未使用的{product}，说明不适合自己，"
                f"并礼貌地投诉店员当时推荐有误。按政策应原路退款 {amount:.2f} 元。"
            ), product
        product, question = rng.choice(PRODUCT_QUESTIONS)
        text = f"{when}访问。付款前请向店员咨询：“{question}”标准答案见简报附件。"
        if age_check:
            text += "本次请加购一瓶啤酒，结账时说明未带身份证，记录收银员是否拒绝销售。"
        return text, product

    # -- the visit itself ------------------------------------------------------------------

    def _place(self, slot: Slot) -> None:
        """When the visit took place and what the shopper bought, or nothing when the visit
        still lies ahead. Prefers an unanswered receipt of the store issued during it."""
        rng = self.rng
        tz = slot.store.timezone
        checklist = slot.checklist
        low = max(DAYPART_HOURS[slot.daypart][0], OPENING_HOUR)
        high = min(DAYPART_HOURS[slot.daypart][1], CLOSING_HOUR)
        typical = 16 if checklist is self.retail else 22
        minutes = rng.lognormvariate(math.log(typical), 0.3)
        minutes = min(max(minutes, checklist.min_minutes + 4), min(checklist.max_minutes - 5, 50))
        duration = timedelta(seconds=round(minutes * 60))
        span = (slot.window_end - slot.window_start).days + 1
        days = [slot.window_start + timedelta(days=i) for i in range(span)]
        planned = rng.choice(days)
        latest = self.now - timedelta(hours=1)
        if local_at(planned, tz, low) + duration > latest:
            return  # the shopper goes later: still ahead
        others = [d for d in days if d != planned and local_at(d, tz, low) + duration <= latest]
        rng.shuffle(others)
        for day in (planned, *others):
            opening, closing = local_at(day, tz, low), local_at(day, tz, high)
            rows = self.session.execute(
                select(
                    Receipt.id,
                    Receipt.transaction_id,
                    Receipt.issued_at,
                    Receipt.staff_id,
                    Receipt.total_cents,
                )
                .where(
                    Receipt.store_id == slot.store.id,
                    Receipt.issued_at >= opening + duration,
                    Receipt.issued_at < min(closing, latest - timedelta(minutes=5)),
                    Receipt.answered_at.is_(None),
                )
                .order_by(Receipt.issued_at)
            ).all()
            if rows:
                row = rng.choice(rows)
                receipt = SoldReceipt(row[0], row[1], _aware(row[2]), row[3], row[4] or 0)
                slot.receipt = receipt
                slot.ended = receipt.issued_at + timedelta(seconds=rng.randint(60, 300))
                slot.started = slot.ended - duration
                slot.transaction_id = receipt.transaction_id
                if rng.random() < _TYPO_RATE:
                    slot.transaction_id = self._typo(slot.store, receipt.transaction_id)
                break
        else:
            # No receipt of the store then (before the demo's receipts began): the shopper
            # copied the till's number, which the POS does not know.
            opening = local_at(planned, tz, low)
            last_end = min(local_at(planned, tz, high), latest)
            room = (last_end - opening - duration).total_seconds()
            slot.started = opening + timedelta(seconds=rng.uniform(0, max(room, 0.0)))
            slot.ended = slot.started + duration
            slot.transaction_id = f"{slot.store.code}-{planned:%Y%m%d}-{rng.randint(90000, 99999)}"
        # The shopper notes the times to the minute.
        slot.started = slot.started.replace(second=0, microsecond=0)
        slot.ended = slot.ended.replace(microsecond=0)
        everyone = self.staff.get(slot.store.id, [])
        floor = [s for s in everyone if s.position != "收银员"] or everyone
        if floor and rng.random() >= _UNNAMED_RATE:
            slot.served_by = rng.choice(floor)
            slot.served_description = f"{slot.served_by.position}，工牌姓名：{slot.served_by.name}"
        else:
            slot.served_description = rng.choice(UNNAMED)

    def _typo(self, store: Store, transaction_id: str) -> str:
        """The number with two digits of its sequence swapped, if no receipt has it."""
        head, _, seq = transaction_id.rpartition("-")
        digits = list(seq)
        for i in range(len(digits) - 1, 0, -1):
            if digits[i] != digits[i - 1]:
                digits[i], digits[i - 1] = digits[i - 1], digits[i]
                candidate = f"{head}-{''.join(digits)}"
                exists = self.session.scalar(
                    select(Receipt.id).where(
                        Receipt.store_id == store.id, Receipt.transaction_id == candidate
                    )
                )
                if exists is None:
                    return candidate
                break
        return f"{head}-{self.rng.randint(90000, 99999)}"

    # -- fates -----------------------------------------------------------------------------

    def _decide_fates(self, slots: Sequence[Slot]) -> None:
        """Every state at least once: the newest visits are still in the pipeline, the
        managed stores carry the disputes, some older ones were rejected, returned,
        corrected or failed a critical item."""
        rng, now = self.rng, self.now
        for slot in slots:
            if slot.fate == DONE and slot.ended is None:
                slot.fate = UPCOMING
        visited = sorted((s for s in slots if s.fate == DONE), key=ended_at, reverse=True)
        for slot in visited:
            slot.late = rng.random() < _LATE_RATE
        free = list(visited)

        def age(slot: Slot) -> timedelta:
            return now - ended_at(slot)

        def take(fate: str, test: Callable[[Slot], bool]) -> Slot | None:
            for slot in free:  # newest first
                if test(slot):
                    free.remove(slot)
                    slot.fate = fate
                    slot.late = False
                    return slot
            return None

        for fate in (DRAFT, SUBMITTED, IN_REVIEW, RETURNED):
            if not take(fate, lambda s: age(s) <= timedelta(days=6)):
                take(fate, lambda s: True)
        window = timedelta(days=self.settings.dispute_days)
        managed = set(self.managers)
        # The manager's stores: a report released a few days ago, still open to dispute.
        own = self.manager_stores
        if not take(
            RELEASED, lambda s: s.store.id in own and timedelta(days=1.5) <= age(s) <= window
        ):
            take(RELEASED, lambda s: s.store.id in own)
        if not take(
            DISPUTE_OPEN,
            lambda s: s.store.id in managed and timedelta(days=3) <= age(s) <= window * 1.5,
        ):
            take(DISPUTE_OPEN, lambda s: s.store.id in managed)
        for fate in (UPHELD, ADJUSTED):
            take(fate, lambda s: s.store.id in managed and age(s) >= timedelta(days=20))
        settled = timedelta(days=12)

        def rejectable(slot: Slot) -> bool:
            return age(slot) >= settled and slot.store.id not in managed

        blurred = take(REJECTED, lambda s: rejectable(s) and s.receipt is None)
        blurred = blurred or take(REJECTED, rejectable)
        if blurred is not None:
            blurred.blurred = True
        take(REJECTED, rejectable)
        # Twists on reports that otherwise take the ordinary course.
        retail = [s for s in free if s.checklist is self.retail and age(s) >= settled]
        rng.shuffle(retail)
        if retail:
            # The expired product turns up in one of the weaker stores.
            weakest = min(retail[:8], key=lambda s: self.quality.get(s.store.code, 0.5))
            weakest.critical_fail = Critical.VISIT.value
            for slot in [s for s in retail if s is not weakest][:2]:
                slot.critical_fail = Critical.SECTION.value
        rest = [s for s in free if age(s) >= settled and s.critical_fail is None]
        rng.shuffle(rest)
        for slot in rest[:_RETURN_CYCLES]:
            slot.returned_once = True
        for slot in rest[_RETURN_CYCLES : _RETURN_CYCLES + _CORRECTIONS]:
            slot.corrected = True
        # Upcoming visits: most accepted already, the newest assignment not yet.
        upcoming = sorted((s for s in slots if s.fate == UPCOMING), key=lambda s: s.scheduled_at)
        for slot in upcoming:
            accepted = slot.scheduled_at + timedelta(hours=rng.uniform(*ACCEPT_HOURS))
            if accepted < now - timedelta(minutes=10):
                slot.accepted_at = accepted
        if upcoming:
            upcoming[-1].accepted_at = None

    def _awake(self, when: datetime, timezone: str) -> datetime:
        """``when``, or the next morning when the shopper would be asleep (23:00-7:00)."""
        local = when.astimezone(zone(timezone))
        if _AWAKE[0] <= local.hour < _AWAKE[1]:
            return when
        day = local.date() if local.hour < _AWAKE[0] else local.date() + timedelta(days=1)
        return local_at(day, timezone, _AWAKE[0]) + timedelta(minutes=self.rng.randint(30, 150))

    def _office(self, when: datetime, timezone: str, closing: int = OFFICE[1]) -> datetime:
        """``when``, or the next morning's start when it falls outside office hours."""
        local = when.astimezone(zone(timezone))
        if OFFICE[0] <= local.hour < closing:
            return when.replace(microsecond=0)
        day = local.date() if local.hour < OFFICE[0] else local.date() + timedelta(days=1)
        moved = local_at(day, timezone, OFFICE[0]) + timedelta(minutes=self.rng.randint(5, 90))
        return moved.replace(microsecond=0)


def visit_of(slot: Slot) -> MysteryVisit:
    assert slot.visit is not None, "scheduled before its other steps"
    return slot.visit


def known(value: _T | None) -> _T:
    assert value is not None
    return value


def ended_at(slot: Slot) -> datetime:
    return known(slot.ended)


def local_at(day: date, timezone: str, hour: int = 0) -> datetime:
    """``hour`` o'clock of ``day`` on a store's clock, as a UTC datetime."""
    return datetime.combine(day, time(hour), zone(timezone)).astimezone(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
