"""The demo chain's mystery-shopping programme: months of visits in every state.

Four shoppers visit every store about twice a month, in rotation (no shopper returns to a
store within ``mystery_lockout_days``), mostly with the retail-standard checklist and now
and then with the return-and-complaint one. Each visit goes through the real operations
(`schedule_visit` ... `decide_dispute`, and the nightly `finalise_due`) at backdated
times, in time order across all visits, so its timeline, its audit entries, the automatic
checks at submission and the staff observations written at release are the ones the
portal itself makes.

What the visits show:

* stores differ: the answers follow the same latent store quality as the demo's customer
  answers, plus the own effect of the staff member who served the shopper (or of the
  cashier on the receipt), so mystery and customer scores tell one story;
* most reports name a real, unanswered demo receipt of the store issued during the visit,
  so the POS check matches and checkout is credited to that cashier; a few transaction
  numbers were mistyped, and visits before the demo's receipts began are "not found";
* one shopper is lenient and scores about 12 points above the others at the same stores
  (the reliability report's outlier); one visit fails on an expired product, two lose
  their checkout section on a price mismatch;
* older reports are final; the last week's are released, the last days' in review,
  submitted, returned or still a half-filled draft; some were returned and filed again,
  a few answers were corrected in review, two reports were rejected, a few assignments
  declined or cancelled, the next ones assigned; the store managers disputed three
  reports (one upheld, one adjusted, one still open), and the given manager has a
  released report they can still dispute.

Receipt photos are small generated pictures of a receipt lying on a table, each one
different, cleaned and stored as an upload would be.
"""

from __future__ import annotations

import io
import math
import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageFilter, ImageFont
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.audit import CLI, Actor
from portal.auth.operations import create_user
from portal.config import Settings
from portal.models import (
    DisputeOutcome,
    MysteryVisit,
    Receipt,
    Role,
    Staff,
    Store,
    User,
    VisitState,
)
from portal.models.mystery import DAYPART_HOURS, Daypart
from portal.mystery.by_user import (
    accept_visit,
    adjust_answers,
    decide_dispute,
    decline_visit,
    dispute_report,
    reject_report,
    release_report,
    return_report,
    save_answers,
    save_facts,
    save_photo,
    start_review,
    submit_report,
)
from portal.mystery.photos import clean_photo
from portal.mystery.report import VisitFacts
from portal.mystery.review import finalise_due
from portal.mystery.scheduling import VisitPlan, cancel_visit, schedule_visit
from surveys.checklists import (
    NA,
    NO,
    YES,
    Attribution,
    ChecklistAnswers,
    ChecklistDefinition,
    ChecklistItem,
    ChecklistSection,
    Critical,
    ItemAnswer,
    ItemKind,
    get_checklist,
)

_T = TypeVar("_T")

RETAIL = "retail-standard"
RETURNS = "return-complaint"
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
    DemoShopper("mystery@demo.example", "", 0.0, create=False),
    DemoShopper("mystery2@demo.example", "神秘顾客 欧阳娜", 0.0),
    DemoShopper("mystery3@demo.example", "神秘顾客 上官宁", 0.65),
    DemoShopper("mystery4@demo.example", "神秘顾客 司徒悦", 0.05),
)


@dataclass(frozen=True, slots=True)
class MysteryDemoSummary:
    visits: int
    #: (state, count) in the order of VisitState; states without visits are left out.
    by_state: tuple[tuple[str, int], ...]
    shoppers: int
    photos: int
    lockout_days: int

    def line(self) -> str:
        """One line for the demo's output: ``mystery visits: N (final 80, ...)``."""
        states = ", ".join(f"{state} {count}" for state, count in self.by_state)
        return f"mystery visits: {self.visits} ({states})"


def build_mystery_demo(
    session: Session,
    settings: Settings,
    *,
    now: datetime,
    days: int,
    seed: int,
    password: str,
    admin: User,
    reviewer: User,
    manager: User,
    quality: Mapping[str, float],
    staff_effect: Mapping[int, float],
    photo_folder: Path,
    progress: Callable[[float], None] | None = None,
) -> MysteryDemoSummary:
    """Add the mystery shoppers and ``max(days, MIN_DAYS)`` days of visits up to ``now``.

    Parameters
    ----------
    session, settings
        As for every operation; ``settings.mystery_lockout_days`` is the rotation kept.
    now, days, seed
        The demo's present, the length of its past, and its seed (the same seed gives the
        same visits and answers).
    password
        The demo password, for the shoppers made here.
    admin, reviewer, manager
        Who schedules (and cancels), who reviews, and a store manager who should find a
        released report of their stores still open to dispute.
    quality, staff_effect
        Each store's latent service level by store code and each staff member's effect by
        staff id, as the demo's customer answers use them.
    photo_folder
        Where receipt photos are kept: the folder the mystery pages serve them from.
    progress
        Receives the share of the work done, 0..1.

    Adds and flushes; the caller commits. Photo files are written at once.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    programme = _Programme(
        session,
        settings,
        now=now.astimezone(UTC).replace(microsecond=0),
        days=max(days, MIN_DAYS),
        rng=random.Random(f"{seed}:mystery"),
        admin=admin,
        reviewer=reviewer,
        manager=manager,
        quality=quality,
        staff_effect=staff_effect,
        photo_folder=photo_folder,
    )
    return programme.build(password, progress)


# The demo stores' opening hours (portal.demo draws receipts from 9:00 to 21:59).
_OPEN, _CLOSE = 9, 22
# Days from one visit window of a store to the next, and a window's length.
_GAP_DAYS = (12, 18)
_WINDOW_DAYS = (5, 7)
# A visit is scheduled this many days before its window opens.
_LEAD_DAYS = (5.0, 14.0)
# Hours a shopper takes to accept an assignment.
_ACCEPT_HOURS = (1.0, 48.0)
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
_OFFICE = (9, 19)
_MANAGER_CLOSING = 21
# The nightly finalise-visits job, local time.
_CRON_HOUR = 2

# What happens to a slot, decided before any of it is played.
_UPCOMING = "upcoming"  # window ahead, or the visit not made yet: assigned or accepted
_DECLINED = "declined"
_CANCELLED = "cancelled"
_DONE = "done"  # the ordinary life: filed, reviewed, released, final once the window closes
_DRAFT = "draft"  # visited, the report half-filled
_SUBMITTED = "submitted"
_IN_REVIEW = "in_review"
_RETURNED = "returned"
_REJECTED = "rejected"
_RELEASED = "released"  # released days ago: the store may still dispute it
_DISPUTE_OPEN = "dispute_open"
_UPHELD = "upheld"
_ADJUSTED = "adjusted"
# The step a slot of each pipeline fate stops after (it must happen before `now`).
_LAST_STEP = {
    _SUBMITTED: "submit",
    _IN_REVIEW: "review",
    _RETURNED: "return",
    _RELEASED: "release",
    _DISPUTE_OPEN: "dispute",
}


@dataclass(frozen=True, slots=True)
class _Shopper:
    user: User
    leniency: float


@dataclass(frozen=True, slots=True)
class _Receipt:
    id: int
    transaction_id: str
    issued_at: datetime
    staff_id: int
    total_cents: int


@dataclass(slots=True, eq=False)
class _Slot:
    """One assignment: planned first, then played step by step."""

    store: Store
    shopper: _Shopper
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
    fate: str = _DONE
    visit: MysteryVisit | None = None
    #: When the shopper declined or the scheduler cancelled.
    decided_at: datetime | None = None
    accepted_at: datetime | None = None
    started: datetime | None = None
    ended: datetime | None = None
    receipt: _Receipt | None = None
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


class _Programme:
    def __init__(
        self,
        session: Session,
        settings: Settings,
        *,
        now: datetime,
        days: int,
        rng: random.Random,
        admin: User,
        reviewer: User,
        manager: User,
        quality: Mapping[str, float],
        staff_effect: Mapping[int, float],
        photo_folder: Path,
    ) -> None:
        self.session = session
        self.settings = settings
        self.now = now
        self.start = now - timedelta(days=days)
        self.rng = rng
        self.admin = admin
        self.reviewer = reviewer
        self.manager_stores = {store.id for store in manager.stores}
        self.quality = quality
        self.staff_effect = staff_effect
        self.photo_folder = photo_folder
        self.retail = get_checklist(RETAIL)
        self.returns = get_checklist(RETURNS)
        #: (when, order of queueing, the step): played in time order.
        self.steps: list[tuple[datetime, int, Callable[[], object]]] = []
        self.visits: list[MysteryVisit] = []
        self.photo_hashes: set[str] = set()
        self.photos = 0
        # The small bitmap font draws a receipt line in microseconds, FreeType in about one
        # millisecond (Pillow < 10.1 has only the bitmap one, as load_default).
        self.font = getattr(ImageFont, "load_default_imagefont", ImageFont.load_default)()

    # -- the whole build -------------------------------------------------------------------

    def build(self, password: str, progress: Callable[[float], None] | None) -> MysteryDemoSummary:
        session = self.session
        self.shoppers = [self._shopper(spec, password) for spec in SHOPPERS]
        self.stores = list(session.scalars(select(Store).order_by(Store.code)))
        self.staff: dict[int, list[Staff]] = {}
        for member in session.scalars(
            select(Staff).where(Staff.active.is_(True)).order_by(Staff.id)
        ):
            self.staff.setdefault(member.store_id, []).append(member)
        self.managers: dict[int, User] = {}
        for manager in session.scalars(
            select(User).where(User.role == Role.MANAGER, User.active.is_(True)).order_by(User.id)
        ):
            for store in manager.stores:
                self.managers.setdefault(store.id, manager)

        slots = self._plan()
        for slot in slots:
            if slot.fate == _DONE:
                self._place(slot)
        self._decide_fates(slots)
        for slot in slots:
            if slot.started is not None:
                slot.answers = self._answers(slot)
            self._timeline(slot)
        self._cron()

        self.steps.sort(key=lambda step: (step[0], step[1]))
        total = len(self.steps)
        for index, (_when, _seq, action) in enumerate(self.steps):
            action()
            if progress is not None and index % 64 == 0:
                progress(index / total)
        if progress is not None:
            progress(1.0)

        counts = dict(
            session.execute(select(MysteryVisit.state, func.count()).group_by(MysteryVisit.state))
            .tuples()
            .all()
        )
        return MysteryDemoSummary(
            visits=sum(counts.values()),
            by_state=tuple((str(s), counts[s]) for s in VisitState if counts.get(s)),
            shoppers=len(self.shoppers),
            photos=self.photos,
            lockout_days=self.settings.mystery_lockout_days,
        )

    def _shopper(self, spec: DemoShopper, password: str) -> _Shopper:
        if not spec.create:
            user = self.session.scalars(select(User).where(User.email == spec.email)).one()
            return _Shopper(user, spec.leniency)
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
        return _Shopper(user, spec.leniency)

    # -- planning --------------------------------------------------------------------------

    def _plan(self) -> list[_Slot]:
        """Each store's visit windows, one every two weeks or so; each goes to the shopper
        with the fewest visits so far among those the rotation allows at that store."""
        rng = self.rng
        slots: list[_Slot] = []
        # (store id, shopper id) -> windows that count for the rotation.
        taken: dict[tuple[int, int], list[tuple[date, date]]] = {}
        load: Counter[int] = Counter()
        for store_index, store in enumerate(self.stores):
            zone = ZoneInfo(store.timezone)
            today = self.now.astimezone(zone).date()
            window_start = self.start.astimezone(zone).date() + timedelta(days=rng.randint(0, 12))
            visit_index = 0
            peak = rng.random() < 0.5
            while True:
                length = rng.randint(*_WINDOW_DAYS)
                window_end = window_start + timedelta(days=length - 1)
                lead = timedelta(days=rng.uniform(*_LEAD_DAYS))
                scheduled = self._office(_local(window_start, zone) - lead, zone)
                if scheduled > self.now - timedelta(hours=1):
                    break  # not planned yet
                free = [
                    s
                    for s in self.shoppers
                    if s.user.active
                    and not self._locked(
                        taken.get((store.id, s.user.id), ()), window_start, window_end
                    )
                ]
                if not free:
                    window_start += timedelta(days=3)
                    continue
                free.sort(key=lambda s: (load[s.user.id], rng.random()))
                checklist = self.returns if visit_index % _RETURNS_EVERY == 2 else self.retail
                peak = not peak
                daypart = rng.choice(
                    (Daypart.MIDDAY, Daypart.EVENING)
                    if peak
                    else (Daypart.MORNING, Daypart.AFTERNOON)
                )
                age_check = checklist is self.retail and rng.random() < _AGE_CHECK_RATE
                instructions, product = self._brief(checklist, str(daypart), age_check)
                slot = _Slot(
                    store=store,
                    shopper=free[0],
                    checklist=checklist,
                    window_start=window_start,
                    window_end=window_end,
                    daypart=str(daypart),
                    instructions=instructions,
                    product=product,
                    scheduled_at=scheduled,
                    age_check=age_check,
                )
                # One assignment of the first store is declined for sure, others by chance.
                forced = store_index == 0 and visit_index == 1
                if len(free) > 1 and (forced or rng.random() < _DECLINE_RATE):
                    # Offered to someone who declines; the scheduler then asks the next one.
                    declined = replace(slot, shopper=free[1], fate=_DECLINED)
                    declined.decided_at = (scheduled + timedelta(hours=rng.uniform(2, 20))).replace(
                        microsecond=0
                    )
                    rescheduled = self._office(
                        declined.decided_at + timedelta(hours=rng.uniform(0.5, 6)), zone
                    )
                    if rescheduled < self.now - timedelta(hours=1):
                        slots.append(declined)
                        slot.scheduled_at = rescheduled
                before = _local(window_start, zone) - timedelta(days=rng.uniform(0.5, 2))
                cancel_at = self._office(before, zone)
                # And one of the second store is cancelled for sure.
                forced = store_index == 1 and visit_index == 2
                if cancel_at < self.now - timedelta(hours=1) and (
                    forced or rng.random() < _CANCEL_RATE
                ):
                    slot.fate = _CANCELLED
                    slot.decided_at = cancel_at
                elif window_start > today:
                    slot.fate = _UPCOMING
                slots.append(slot)
                # A cancelled visit still blocks the store for its shopper: the stricter way.
                taken.setdefault((store.id, slot.shopper.user.id), []).append(
                    (window_start, window_end)
                )
                load[slot.shopper.user.id] += 1
                visit_index += 1
                window_start += timedelta(days=rng.randint(*_GAP_DAYS))
        return slots

    def _locked(self, windows: Sequence[tuple[date, date]], start: date, end: date) -> bool:
        """The rotation rule as `rotation_conflict` applies it to windows."""
        lockout = timedelta(days=self.settings.mystery_lockout_days)
        return any(e >= start - lockout and s <= end + lockout for s, e in windows)

    def _brief(
        self, checklist: ChecklistDefinition, daypart: str, age_check: bool
    ) -> tuple[str, str]:
        """The instructions for the shopper, and the product they are about."""
        rng = self.rng
        when = _DAYPART_ZH[daypart]
        if checklist is self.returns:
            product = rng.choice(_RETURN_PRODUCTS)
            amount = rng.choice((29.9, 39.9, 45.0, 59.0, 68.0, 89.0))
            return (
                f"{when}访问。携带简报附带的小票，退回一件未使用的{product}，说明不适合自己，"
                f"并礼貌地投诉店员当时推荐有误。按政策应原路退款 {amount:.2f} 元。"
            ), product
        product, question = rng.choice(_PRODUCT_QUESTIONS)
        text = f"{when}访问。付款前请向店员咨询：“{question}”标准答案见简报附件。"
        if age_check:
            text += "本次请加购一瓶啤酒，结账时说明未带身份证，记录收银员是否拒绝销售。"
        return text, product

    # -- the visit itself ------------------------------------------------------------------

    def _place(self, slot: _Slot) -> None:
        """When the visit took place and what the shopper bought, or nothing when the visit
        still lies ahead. Prefers an unanswered receipt of the store issued during it."""
        rng = self.rng
        zone = ZoneInfo(slot.store.timezone)
        checklist = slot.checklist
        low = max(DAYPART_HOURS[slot.daypart][0], _OPEN)
        high = min(DAYPART_HOURS[slot.daypart][1], _CLOSE)
        typical = 16 if checklist is self.retail else 22
        minutes = rng.lognormvariate(math.log(typical), 0.3)
        minutes = min(max(minutes, checklist.min_minutes + 4), min(checklist.max_minutes - 5, 50))
        duration = timedelta(seconds=round(minutes * 60))
        span = (slot.window_end - slot.window_start).days + 1
        days = [slot.window_start + timedelta(days=i) for i in range(span)]
        planned = rng.choice(days)
        latest = self.now - timedelta(hours=1)
        if _local(planned, zone, low) + duration > latest:
            return  # the shopper goes later: still ahead
        others = [d for d in days if d != planned and _local(d, zone, low) + duration <= latest]
        rng.shuffle(others)
        for day in (planned, *others):
            opening, closing = _local(day, zone, low), _local(day, zone, high)
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
                receipt = _Receipt(row[0], row[1], _aware(row[2]), row[3], row[4] or 0)
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
            opening = _local(planned, zone, low)
            last_end = min(_local(planned, zone, high), latest)
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
            slot.served_description = rng.choice(_UNNAMED)

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

    def _decide_fates(self, slots: Sequence[_Slot]) -> None:
        """Every state at least once: the newest visits are still in the pipeline, the
        managed stores carry the disputes, some older ones were rejected, returned,
        corrected or failed a critical item."""
        rng, now = self.rng, self.now
        for slot in slots:
            if slot.fate == _DONE and slot.ended is None:
                slot.fate = _UPCOMING
        visited = sorted((s for s in slots if s.fate == _DONE), key=_ended, reverse=True)
        for slot in visited:
            slot.late = rng.random() < _LATE_RATE
        free = list(visited)

        def age(slot: _Slot) -> timedelta:
            return now - _ended(slot)

        def take(fate: str, test: Callable[[_Slot], bool]) -> _Slot | None:
            for slot in free:  # newest first
                if test(slot):
                    free.remove(slot)
                    slot.fate = fate
                    slot.late = False
                    return slot
            return None

        for fate in (_DRAFT, _SUBMITTED, _IN_REVIEW, _RETURNED):
            if not take(fate, lambda s: age(s) <= timedelta(days=6)):
                take(fate, lambda s: True)
        window = timedelta(days=self.settings.dispute_days)
        managed = set(self.managers)
        # The manager's stores: a report released a few days ago, still open to dispute.
        own = self.manager_stores
        if not take(
            _RELEASED, lambda s: s.store.id in own and timedelta(days=1.5) <= age(s) <= window
        ):
            take(_RELEASED, lambda s: s.store.id in own)
        if not take(
            _DISPUTE_OPEN,
            lambda s: s.store.id in managed and timedelta(days=3) <= age(s) <= window * 1.5,
        ):
            take(_DISPUTE_OPEN, lambda s: s.store.id in managed)
        for fate in (_UPHELD, _ADJUSTED):
            take(fate, lambda s: s.store.id in managed and age(s) >= timedelta(days=20))
        settled = timedelta(days=12)

        def rejectable(slot: _Slot) -> bool:
            return age(slot) >= settled and slot.store.id not in managed

        blurred = take(_REJECTED, lambda s: rejectable(s) and s.receipt is None)
        blurred = blurred or take(_REJECTED, rejectable)
        if blurred is not None:
            blurred.blurred = True
        take(_REJECTED, rejectable)
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
        upcoming = sorted((s for s in slots if s.fate == _UPCOMING), key=lambda s: s.scheduled_at)
        for slot in upcoming:
            accepted = slot.scheduled_at + timedelta(hours=rng.uniform(*_ACCEPT_HOURS))
            if accepted < now - timedelta(minutes=10):
                slot.accepted_at = accepted
        if upcoming:
            upcoming[-1].accepted_at = None

    # -- answers ---------------------------------------------------------------------------

    def _answers(self, slot: _Slot) -> ChecklistAnswers:
        """The shopper's answers: each scored item "yes" with a chance set by the item's
        difficulty, the store's quality, the person credited with the section and the
        visit's luck; every "no" and N/A with a comment; a narrative for every section."""
        rng = self.rng
        checklist = slot.checklist
        retail = checklist is self.retail
        base = _RETAIL_LOGITS if retail else _RETURNS_LOGITS
        quality = self.quality.get(slot.store.code, 0.45)
        luck = rng.gauss(0.0, 0.35)
        served = self.staff_effect.get(slot.served_by.id, 0.0) if slot.served_by else 0.0
        cashier = served
        if slot.receipt is not None:
            cashier = self.staff_effect.get(slot.receipt.staff_id, 0.0)
        effects = {Attribution.NONE: 0.0, Attribution.OBSERVED_STAFF: served}
        effects[Attribution.CASHIER] = cashier
        forced = self._forced_no(slot)
        context = self._context(slot)
        items: dict[str, ItemAnswer] = {}
        for section in checklist.sections:
            for item in section.items:
                if not item.scored:
                    continue
                na = self._not_applicable(slot, item)
                if na is not None:
                    items[item.key] = ItemAnswer(NA, na)
                    continue
                if item.critical is not Critical.NONE:
                    failed = item.key in forced
                elif item.key in forced:
                    failed = True
                else:
                    logit = base[item.key] + 3.0 * (quality - 0.45) + luck
                    failed = rng.random() >= _sigmoid(logit + 1.6 * effects[section.attribution])
                    # The lenient shopper lets most shortcomings pass.
                    failed = failed and rng.random() >= slot.shopper.leniency
                items[item.key] = self._answer(checklist, item, failed, context)
        feeling = _feeling(checklist, items, rng)
        narratives: dict[str, str] = {}
        for section in checklist.sections:
            for item in section.items:
                if item.kind is ItemKind.RATING:
                    items[item.key] = ItemAnswer(feeling)
                elif item.kind is ItemKind.TEXT:
                    items[item.key] = ItemAnswer(rng.choice(_NOTES) if rng.random() < 0.3 else None)
            narratives[section.key] = self._narrative(slot, section, items, context)
        return ChecklistAnswers(items=items, narratives=narratives)

    def _forced_no(self, slot: _Slot) -> set[str]:
        """Items that must be "no": the critical failure, and an item for a dispute or a
        correction to be about."""
        forced: set[str] = set()
        if slot.critical_fail is not None:
            wanted = Critical(slot.critical_fail)
            forced.add(
                next(
                    i.key for i in slot.checklist.items if i.critical is wanted and not i.na_allowed
                )
            )
        if slot.fate in (_UPHELD, _ADJUSTED, _DISPUTE_OPEN) or slot.corrected:
            forced.add(self.rng.choice(_DISPUTABLE[slot.checklist.key]))
        return forced

    def _not_applicable(self, slot: _Slot, item: ChecklistItem) -> str | None:
        """The comment of an N/A answer, or None when the item applies."""
        if not item.na_allowed:
            return None
        key = f"{slot.checklist.key}:{item.key}"
        if key == f"{RETAIL}:A5":
            # Some stores have no restroom or fitting room for customers.
            applies = _stable(slot.store.code) % 4 != 0
        elif key == f"{RETAIL}:E7":
            applies = slot.age_check
        else:
            applies = self.rng.random() >= _NA_RATES[key]
        return None if applies else self.rng.choice(_NA_COMMENTS[key])

    def _answer(
        self,
        checklist: ChecklistDefinition,
        item: ChecklistItem,
        failed: bool,
        context: dict[str, Any],
    ) -> ItemAnswer:
        rng = self.rng
        table = _RETAIL_NO if checklist is self.retail else _RETURNS_NO
        comments = table.get(item.key, ())
        if item.kind is ItemKind.TIME:
            standard = item.standard_seconds or 60
            factor = rng.uniform(1.15, 2.6) if failed else rng.uniform(0.2, 0.95)
            seconds = round(standard * factor)
            context.update({f"{k}_{item.key}": v for k, v in _durations(seconds).items()})
            if not failed:
                return ItemAnswer(seconds)
            return ItemAnswer(
                seconds, rng.choice(comments).format(**_durations(seconds), **context)
            )
        if not failed:
            return ItemAnswer(YES)
        return ItemAnswer(NO, rng.choice(comments).format(**context))

    def _context(self, slot: _Slot) -> dict[str, Any]:
        """What the comments and narratives of one visit may mention."""
        rng = self.rng
        zone = ZoneInfo(slot.store.timezone)
        started = _known(slot.started).astimezone(zone)
        if slot.served_by is not None:
            name = slot.served_by.name
            staff = rng.choice((f"工牌为“{name}”的店员", f"店员{name}", name))
        else:
            staff = rng.choice(("一位女店员", "一位男店员", "一位年轻店员", "一位戴眼镜的店员"))
        return {
            "time": f"{started:%H:%M}",
            "product": slot.product,
            "staff": staff,
            "queue": rng.randint(1, 4),
            "tills": rng.randint(2, 4),
            "price": f"{rng.randint(12, 39)}.90",
            "shelf": f"{rng.randint(5, 11)}.90",
        }

    def _narrative(
        self,
        slot: _Slot,
        section: ChecklistSection,
        items: Mapping[str, ItemAnswer],
        context: dict[str, Any],
    ) -> str:
        """The section as the shopper tells it: what happened, the shortcomings in the
        words of their comments, or else a few things that went right."""
        rng = self.rng
        pools = _RETAIL_NARRATIVE if slot.checklist is self.retail else _RETURNS_NARRATIVE
        openers, observations, closers = pools[section.key]
        passed = {item.key for item in section.items if _passed(item, items.get(item.key))}
        vouched = [
            text
            for keys, text in observations
            if not keys or all(key in passed for key in keys.split(","))
        ]
        misses = [
            answer.comment
            for item in section.items
            if item.scored
            and not _passed(item, answer := items[item.key])
            and answer.comment
            and answer.value != NA
        ]
        sentences = [rng.choice(openers)]
        if misses:
            sentences.append(rng.choice(("不足之处：", "需要改进的是：", "")) + misses[0])
            if len(misses) > 1:
                sentences.append("另外，" + misses[1])
        else:
            sentences.extend(rng.sample(vouched, k=min(2, len(vouched))))
        sentences.append(rng.choice(closers))
        text = "".join(sentences).format(**context)
        for extra in [*rng.sample(vouched, k=len(vouched)), *closers, _NOTHING_ELSE]:
            if len(text) >= section.narrative_min_chars:
                break
            if extra not in sentences:
                text += extra.format(**context)
        return text

    # -- the timeline ----------------------------------------------------------------------

    def _timeline(self, slot: _Slot) -> None:
        """Queue every step of the slot's life at its own time."""
        rng, now = self.rng, self.now
        session, shopper = self.session, slot.shopper.user
        self._queue(slot.scheduled_at, lambda: self._schedule(slot))
        if slot.fate == _DECLINED:
            declined_at = _known(slot.decided_at)
            reason = rng.choice(_DECLINE_REASONS)
            self._queue(
                declined_at,
                lambda: decline_visit(
                    session, _visit(slot), shopper=shopper, reason=reason, now=declined_at
                ),
            )
            return
        accepted = slot.accepted_at
        if slot.fate != _UPCOMING:
            accepted = slot.scheduled_at + timedelta(hours=rng.uniform(*_ACCEPT_HOURS))
            if slot.started is not None:
                accepted = min(accepted, slot.started - timedelta(hours=2))
            if slot.decided_at is not None:
                accepted = min(accepted, slot.decided_at - timedelta(hours=1))
            accepted = max(accepted, slot.scheduled_at + timedelta(minutes=20))
        if accepted is not None and accepted < now:
            accepted_at = accepted.replace(microsecond=0)
            self._queue(
                accepted_at,
                lambda: accept_visit(session, _visit(slot), shopper=shopper, now=accepted_at),
            )
        if slot.fate == _CANCELLED:
            cancelled_at = _known(slot.decided_at)
            reason = rng.choice(_CANCEL_REASONS)
            actor = Actor.of_user(self.admin)
            self._queue(
                cancelled_at,
                lambda: cancel_visit(
                    session, _visit(slot), actor=actor, reason=reason, now=cancelled_at
                ),
            )
            return
        if slot.ended is not None and slot.fate != _UPCOMING:
            for kind, at in self._fit(slot, self._report_plan(slot)):
                if at < now:
                    self._queue(at, self._step(slot, kind, at.replace(microsecond=0)))

    def _report_plan(self, slot: _Slot) -> list[tuple[str, datetime]]:
        """(kind, time) of every step after the visit, in order, as its fate has them."""
        rng = self.rng
        zone = ZoneInfo(slot.store.timezone)
        if slot.late:
            fill = rng.uniform(25, 40)
        else:
            fill = min(max(rng.lognormvariate(math.log(2.5), 0.8), 0.2), 20.0)
        t = self._awake(_ended(slot) + timedelta(hours=fill), zone)
        plan = [("facts", t)]
        if slot.fate == _DRAFT:
            # Page by page, as the report pages save them: the draft stops part-way.
            for section in slot.checklist.sections:
                t += timedelta(seconds=rng.randint(90, 300))
                plan.append((f"section:{section.key}", t))
        else:
            # The checklist saved in one go (one event instead of one per page keeps the
            # demo fast; the stored answers are the same).
            t += timedelta(seconds=sum(rng.randint(90, 300) for _ in slot.checklist.sections))
            plan.append(("checklist", t))
        t += timedelta(seconds=rng.randint(60, 180))
        plan.append(("photo", t))
        t += timedelta(seconds=rng.randint(30, 120))
        plan.append(("submit", t))
        if slot.fate in (_DRAFT, _SUBMITTED):
            return plan
        t = self._office(t + self._review_delay(), zone)
        plan.append(("review", t))
        if slot.returned_once or slot.fate == _RETURNED:
            t += timedelta(minutes=rng.uniform(10, 30))
            plan.append(("return", t))
            if slot.fate == _RETURNED:
                return plan
            t += timedelta(hours=min(max(rng.lognormvariate(math.log(5), 0.7), 0.5), 22))
            plan.append(("fix", t))
            t += timedelta(seconds=rng.randint(60, 240))
            plan.append(("resubmit", t))
            t = self._office(t + self._review_delay(), zone)
            plan.append(("review", t))
        if slot.fate == _IN_REVIEW:
            return plan
        if slot.fate == _REJECTED:
            plan.append(("reject", t + timedelta(minutes=rng.uniform(10, 40))))
            return plan
        if slot.corrected:
            t += timedelta(minutes=rng.uniform(5, 20))
            plan.append(("correct", t))
        t += timedelta(minutes=rng.uniform(5, 40))
        plan.append(("release", t))
        if slot.fate in (_DISPUTE_OPEN, _UPHELD, _ADJUSTED):
            t = self._office(t + timedelta(days=rng.uniform(0.3, 4.5)), zone, _MANAGER_CLOSING)
            plan.append(("dispute", t))
            if slot.fate != _DISPUTE_OPEN:
                t = self._office(t + timedelta(days=rng.uniform(0.5, 3.5)), zone)
                plan.append(("decide", t))
        return plan

    def _review_delay(self) -> timedelta:
        return timedelta(hours=min(max(self.rng.lognormvariate(math.log(14), 0.7), 0.3), 60.0))

    def _fit(self, slot: _Slot, plan: list[tuple[str, datetime]]) -> list[tuple[str, datetime]]:
        """Times that leave the slot in its state at `now`: the steps its state needs
        happen before `now` (squeezed, or the review delayed for a report that must have
        been released only days ago), the rest after it."""
        rng, now = self.rng, self.now
        ended = _ended(slot)
        later = now + timedelta(hours=1)
        if slot.fate == _DRAFT:
            # The facts and the first sections are saved; the rest is still to come.
            first = ended + min(plan[0][1] - ended, (now - ended) * rng.uniform(0.3, 0.7))
            shift = first - plan[0][1]
            saved = 1 + rng.randint(2, 3)
            return [(k, at + shift if i < saved else later) for i, (k, at) in enumerate(plan)]
        last = _LAST_STEP.get(slot.fate)
        if last is None:
            return plan
        index = max(i for i, (kind, _at) in enumerate(plan) if kind == last)
        submit = max(i for i, (kind, _at) in enumerate(plan) if kind == "submit")
        window = timedelta(days=self.settings.dispute_days)
        # Shortly before `now`, but well after the visit however recent it was.
        latest = now - min(timedelta(minutes=rng.uniform(10, 240)), (now - ended) / 4)

        def delay_review(release_at: datetime) -> None:
            # The reviewer got to it late: every reviewer step moves, the shopper's stay.
            nonlocal plan
            delay = release_at - next(at for kind, at in plan if kind == "release")
            plan = [(k, at + delay if i > submit else at) for i, (k, at) in enumerate(plan)]

        if slot.fate == _RELEASED and plan[index][1] < now - window + timedelta(hours=6):
            delay_review(now - timedelta(days=rng.uniform(0.5, min(3.0, window.days - 0.5))))
        if slot.fate == _DISPUTE_OPEN:
            release = next(at for kind, at in plan if kind == "release")
            if release < now - window:
                delay_review(now - timedelta(days=rng.uniform(2, min(4.0, window.days - 1))))
                release = next(at for kind, at in plan if kind == "release")
            closes = release + window
            dispute = min(plan[index][1], closes - timedelta(hours=2))
            plan[index] = ("dispute", max(dispute, release + timedelta(hours=1)))
            latest = min(latest, closes - timedelta(hours=1))
        if plan[index][1] > latest:
            scale = max((latest - ended) / (plan[index][1] - ended), 0.0)
            plan = [(kind, ended + (at - ended) * scale) for kind, at in plan]
        return [(k, at if i <= index else max(at, later)) for i, (k, at) in enumerate(plan)]

    def _step(self, slot: _Slot, kind: str, at: datetime) -> Callable[[], None]:
        """The operation one step of a report runs, at ``at``."""
        session, settings = self.session, self.settings
        shopper, reviewer = slot.shopper.user, self.reviewer

        def run() -> None:
            visit = _visit(slot)
            answers = _known(slot.answers)
            if kind == "facts":
                zone = ZoneInfo(slot.store.timezone)
                facts = VisitFacts(
                    started_at=_wall_clock(_known(slot.started), zone),
                    ended_at=_wall_clock(_known(slot.ended), zone),
                    served_by_id=slot.served_by.id if slot.served_by else None,
                    served_by_description=slot.served_description,
                    transaction_id=slot.transaction_id,
                )
                save_facts(session, visit, facts, shopper=shopper, now=at)
            elif kind == "checklist":
                if slot.returned_once or slot.fate == _RETURNED:
                    answers = self._first_filing(slot, answers)
                save_answers(session, visit, answers, shopper=shopper, now=at, part=kind)
            elif kind.startswith("section:") or kind == "fix":
                if kind == "fix":
                    section = slot.checklist.section_of(self._fixed_item(slot))
                else:
                    section = slot.checklist.section(kind.partition(":")[2])
                part = ChecklistAnswers(
                    items={item.key: answers.items[item.key] for item in section.items},
                    narratives={section.key: answers.narratives[section.key]},
                )
                save_answers(session, visit, part, shopper=shopper, now=at, part=section.key)
            elif kind == "photo":
                self._photo(slot, visit, at)
            elif kind in ("submit", "resubmit"):
                submit_report(session, settings, visit, shopper=shopper, now=at)
            elif kind == "review":
                start_review(session, visit, reviewer=reviewer, now=at)
            elif kind == "return":
                note = self._return_note(slot)
                return_report(session, visit, reviewer=reviewer, comments=note, now=at)
            elif kind == "correct":
                adjust_answers(
                    session,
                    settings,
                    visit,
                    {self._disputed_item(slot): ItemAnswer(YES)},
                    reviewer=reviewer,
                    reason=self.rng.choice(_CORRECTION_REASONS),
                    now=at,
                )
            elif kind == "reject":
                if slot.blurred:
                    reason = _REJECT_UNFOUND if slot.receipt is None else _REJECT_BLURRED
                else:
                    reason = _REJECT_CONTRADICTIONS
                reject_report(session, visit, reviewer=reviewer, reason=reason, now=at)
            elif kind == "release":
                note = self.rng.choice(_RELEASE_NOTES)
                release_report(session, settings, visit, reviewer=reviewer, now=at, note=note)
            elif kind == "dispute":
                key = self._disputed_item(slot)
                text = slot.checklist.item(key).text.zh_CN
                dispute_report(
                    session,
                    settings,
                    visit,
                    manager=self.managers[slot.store.id],
                    item_key=key,
                    reason=self.rng.choice(_DISPUTE_REASONS).format(item=text, **_clock(slot)),
                    now=at,
                )
            elif kind == "decide":
                upheld = slot.fate == _UPHELD
                decide_dispute(
                    session,
                    settings,
                    visit,
                    reviewer=reviewer,
                    outcome=DisputeOutcome.UPHELD if upheld else DisputeOutcome.ADJUSTED,
                    note=_UPHOLD_NOTE if upheld else _ADJUST_NOTE,
                    changes=None if upheld else {self._disputed_item(slot): ItemAnswer(YES)},
                    now=at,
                )
            else:  # pragma: no cover - plans hold only the kinds above
                raise AssertionError(kind)

        return run

    def _disputed_item(self, slot: _Slot) -> str:
        """The "no" a dispute or a correction is about (`_forced_no` made one)."""
        answers = _known(slot.answers)
        return next(key for key in _DISPUTABLE[slot.checklist.key] if answers.value(key) == NO)

    def _fixed_item(self, slot: _Slot) -> str:
        """The item whose comment the reviewer wants completed, or with no "no" answer,
        an item of the section whose narrative was too short."""
        answers = _known(slot.answers)
        for item in slot.checklist.items:
            if item.kind is ItemKind.CHECK and answers.value(item.key) == NO:
                if item.critical is Critical.NONE:
                    return item.key
        return slot.checklist.sections[-2].items[0].key

    def _first_filing(self, slot: _Slot, answers: ChecklistAnswers) -> ChecklistAnswers:
        """A report the reviewer returns was thinner when first filed: the comment of an
        item (or a section's narrative) said too little, until the fix."""
        key = self._fixed_item(slot)
        if answers.value(key) == NO:
            items = {**answers.items, key: ItemAnswer(NO, self.rng.choice(_THIN_COMMENTS))}
            return ChecklistAnswers(items=items, narratives=answers.narratives)
        section = slot.checklist.section_of(key)
        narratives = {**answers.narratives, section.key: self.rng.choice(_THIN_NARRATIVES)}
        return ChecklistAnswers(items=answers.items, narratives=narratives)

    def _return_note(self, slot: _Slot) -> str:
        key = self._fixed_item(slot)
        if _known(slot.answers).value(key) == NO:
            text = slot.checklist.item(key).text.zh_CN
            return (
                f"{key}（{text}）的说明太笼统，请写明具体情况：时间、店员的原话或动作，"
                "以便门店核实。"
            )
        title = slot.checklist.section_of(key).title.zh_CN
        return (
            f"“{title}”部分的叙述过于简略，请按时间顺序补充经过："
            "店员说了什么、做了什么、用了多长时间。"
        )

    # -- scheduling and the nightly job ----------------------------------------------------

    def _schedule(self, slot: _Slot) -> None:
        slot.visit = visit = schedule_visit(
            self.session,
            self.settings,
            VisitPlan(
                store_id=slot.store.id,
                shopper_id=slot.shopper.user.id,
                checklist_key=slot.checklist.key,
                window_start=slot.window_start,
                window_end=slot.window_end,
                daypart=slot.daypart,
                # Fee in fen: the return visit takes longer.
                fee_cents=10_000 if slot.checklist is self.returns else 8_000,
                instructions=slot.instructions,
            ),
            actor=Actor.of_user(self.admin),
            now=slot.scheduled_at.replace(microsecond=0),
        )
        self.visits.append(visit)

    def _cron(self) -> None:
        """``flask finalise-visits`` every night at 02:00 in the stores' time zone."""
        zone = ZoneInfo(self.stores[0].timezone if self.stores else "UTC")
        day = self.start.astimezone(zone).date()
        while (at := _local(day, zone, _CRON_HOUR)) < self.now:
            when = (at + timedelta(seconds=self.rng.randint(5, 90))).replace(microsecond=0)
            self._queue(when, self._finaliser(when))
            day += timedelta(days=1)

    def _finaliser(self, when: datetime) -> Callable[[], None]:
        def run() -> None:
            # The nights with nothing due leave no trace: skip their query.
            if any(
                visit.state == VisitState.RELEASED and _known(visit.dispute_until) < when
                for visit in self.visits
            ):
                finalise_due(self.session, now=when, actor=CLI)

        return run

    # -- photos ----------------------------------------------------------------------------

    def _photo(self, slot: _Slot, visit: MysteryVisit, at: datetime) -> None:
        for attempt in range(10):
            photo = clean_photo(
                self._picture(slot, attempt), max_bytes=self.settings.photo_max_bytes
            )
            if photo.average_hash not in self.photo_hashes:
                break
        self.photo_hashes.add(photo.average_hash)
        save_photo(
            self.session, visit, photo, folder=self.photo_folder, shopper=slot.shopper.user, now=at
        )
        self.photos += 1

    def _picture(self, slot: _Slot, attempt: int) -> bytes:
        """A phone photo of the receipt: a paper slip, a little turned, on a table."""
        rng = random.Random(f"{slot.store.code}:{slot.transaction_id}:{attempt}")
        zone = ZoneInfo(slot.store.timezone)
        issued = slot.receipt.issued_at if slot.receipt else _ended(slot)
        total = slot.receipt.total_cents if slot.receipt else rng.randint(1500, 12000)
        lines = [
            "DEMO RETAIL  " + slot.store.code,
            f"{issued.astimezone(zone):%Y-%m-%d %H:%M}",
            slot.transaction_id,
            "-" * 26,
        ]
        shares = [rng.uniform(0.2, 1.2) for _ in range(rng.randint(1, 4))]
        for share in shares:
            cents = round(total * share / sum(shares))
            lines.append(f"{rng.randint(100000, 999999)}    {cents / 100:>8.2f}")
        lines += ["-" * 26, f"TOTAL CNY  {total / 100:>9.2f}", "THANK YOU"]
        # Grey paper, drawn small: a phone photo of a receipt, not a scan.
        paper = Image.new("L", (170, 30 + 14 * len(lines) + 40), 246)
        draw = ImageDraw.Draw(paper)
        for row, text in enumerate(lines):
            draw.text((10, 12 + 14 * row), text, fill=40, font=self.font)
        # A barcode, different on every receipt.
        x, top = 12, paper.height - 36
        while x < paper.width - 14:
            width = rng.choice((1, 1, 2, 3))
            draw.rectangle((x, top, x + width - 1, top + 24), fill=20)
            x += width + rng.choice((1, 2, 2, 3))
        angle = rng.uniform(-14, 14)
        turned = paper.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True)
        mask = Image.new("L", paper.size, 255).rotate(angle, expand=True)
        table = Image.new(
            "RGB", (270, 360), (rng.randint(90, 170), rng.randint(70, 130), rng.randint(40, 100))
        )
        offset = (
            rng.randint(0, max(0, table.width - turned.width)),
            rng.randint(0, max(0, table.height - turned.height)),
        )
        table.paste(turned.convert("RGB"), offset, mask)
        if slot.blurred:
            table = table.filter(ImageFilter.GaussianBlur(4))
        out = io.BytesIO()
        table.save(out, format="JPEG", quality=80)
        return out.getvalue()

    # -- helpers ---------------------------------------------------------------------------

    def _queue(self, when: datetime, action: Callable[[], object]) -> None:
        self.steps.append((when, len(self.steps), action))

    def _awake(self, when: datetime, zone: ZoneInfo) -> datetime:
        """``when``, or the next morning when the shopper would be asleep (23:00-7:00)."""
        local = when.astimezone(zone)
        if _AWAKE[0] <= local.hour < _AWAKE[1]:
            return when
        day = local.date() if local.hour < _AWAKE[0] else local.date() + timedelta(days=1)
        return _local(day, zone, _AWAKE[0]) + timedelta(minutes=self.rng.randint(30, 150))

    def _office(self, when: datetime, zone: ZoneInfo, closing: int = _OFFICE[1]) -> datetime:
        """``when``, or the next morning's start when it falls outside office hours."""
        local = when.astimezone(zone)
        if _OFFICE[0] <= local.hour < closing:
            return when.replace(microsecond=0)
        day = local.date() if local.hour < _OFFICE[0] else local.date() + timedelta(days=1)
        moved = _local(day, zone, _OFFICE[0]) + timedelta(minutes=self.rng.randint(5, 90))
        return moved.replace(microsecond=0)


def _visit(slot: _Slot) -> MysteryVisit:
    assert slot.visit is not None, "scheduled before its other steps"
    return slot.visit


def _known(value: _T | None) -> _T:
    assert value is not None
    return value


def _ended(slot: _Slot) -> datetime:
    return _known(slot.ended)


def _local(day: date, zone: ZoneInfo, hour: int = 0) -> datetime:
    """``hour`` o'clock of ``day`` in ``zone``, as a UTC datetime."""
    return datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)


def _wall_clock(when: datetime, zone: ZoneInfo) -> datetime:
    """The store's wall-clock time to the minute, as a shopper writes it down."""
    return when.astimezone(zone).replace(second=0, microsecond=0, tzinfo=None)


def _clock(slot: _Slot) -> dict[str, str]:
    zone = ZoneInfo(slot.store.timezone)
    return {"clock": f"{_ended(slot).astimezone(zone) - timedelta(minutes=6):%H:%M}"}


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _stable(text: str) -> int:
    """A small number fixed by ``text`` (not ``hash``, which changes between runs)."""
    return sum(ord(c) * (i + 1) for i, c in enumerate(text))


def _durations(seconds: int) -> dict[str, int]:
    return {"seconds": seconds, "minutes": seconds // 60, "rest": seconds % 60}


def _passed(item: ChecklistItem, answer: ItemAnswer | None) -> bool:
    """Whether a scored item earned its points (a "yes", or a time within the standard)."""
    if answer is None:
        return False
    if item.kind is ItemKind.TIME:
        standard = item.standard_seconds or 0
        return isinstance(answer.value, int) and answer.value <= standard
    return answer.value == YES


def _feeling(
    checklist: ChecklistDefinition, items: Mapping[str, ItemAnswer], rng: random.Random
) -> int:
    """The unscored 1-5 overall feeling, in line with what went right."""
    earned = possible = 0
    for item in checklist.items:
        answer = items.get(item.key)
        if not item.scored or answer is None or answer.value == NA:
            continue
        possible += item.points
        earned += item.points if _passed(item, answer) else 0
    share = earned / possible if possible else 0.8
    feeling = 5 if share >= 0.92 else 4 if share >= 0.78 else 3 if share >= 0.6 else 2
    if rng.random() < 0.2:
        feeling += rng.choice((-1, 1))
    return min(5, max(1, feeling))


# --- text --------------------------------------------------------------------------------------

_DAYPART_ZH: dict[str, str] = {
    Daypart.MORNING: "上午（11:00 前）",
    Daypart.MIDDAY: "午间高峰（11:00–14:00）",
    Daypart.AFTERNOON: "下午（14:00–18:00）",
    Daypart.EVENING: "晚间高峰（18:00 后）",
}
_RETURN_PRODUCTS = ("保温杯", "电动牙刷刷头", "厨房剪刀", "毛巾套装", "充电线", "儿童牙膏")
#: (product, the question the brief has the shopper ask about it).
_PRODUCT_QUESTIONS = (
    ("洗发水", "这款洗发水适合油性头皮吗？"),
    ("洗衣液", "这两款洗衣液有什么区别，哪款适合婴儿衣物？"),
    ("保温杯", "这款保温杯能装碳酸饮料吗？"),
    ("咖啡豆", "这款咖啡豆是中度烘焙还是深度烘焙？"),
    ("燕麦片", "这款燕麦片含糖吗，适合控糖的人吗？"),
    ("护手霜", "这款护手霜孕妇可以用吗？"),
    ("牙膏", "这款牙膏适合牙齿敏感的人用吗？"),
)
_UNNAMED = (
    "戴眼镜的年轻男店员，工牌被外套挡住，看不清姓名。",
    "短发女店员，约三十岁，未佩戴工牌。",
    "穿蓝色马甲的男店员，在生鲜区理货。",
)
_NOTES = (
    "门口促销堆头略占通道，推购物车需要侧身。",
    "冷柜旁地面有少量冷凝水，已放置防滑提示牌。",
    "背景音乐音量偏大，与店员交流需要提高声音。",
    "自助收银区有一台机器暂停使用。",
    "店内温度适宜，照明充足。",
)

# How likely "yes" is on each scored item, as a logit before the store and staff effects
# (soft skills are missed more often than hygiene and the basics of checkout).
_RETAIL_LOGITS = {
    "A1": 2.3, "A2": 1.6, "A3": 2.0, "A5": 1.8,
    "B1": 1.7, "B2": 1.4, "B3": 2.5,
    "C1": 1.0, "C2": 0.8, "C3": 0.5,
    "D1": 1.5, "D2": 1.0, "D3": 0.7, "D4": 1.1,
    "E1": 1.5, "E2": 1.7, "E4": 0.9, "E5": 2.1, "E6": 1.1,
    "F1": 2.1, "F2": 1.4, "F3": 1.3,
}  # fmt: skip
_RETURNS_LOGITS = {
    "A1": 1.9, "A2": 1.1, "A3": 1.9,
    "B1": 1.6, "B2": 1.5, "B3": 2.3,
    "C1": 1.4, "C2": 1.0, "C3": 1.1,
    "D1": 1.7, "D3": 1.3, "D4": 0.9, "D5": 1.1, "D6": 1.3,
    "E2": 1.7, "E3": 1.3, "E4": 1.0,
    "F1": 1.6, "F2": 0.9, "F3": 1.5,
}  # fmt: skip
# Items a store manager might query, or a reviewer correct: plain observations of staff.
_DISPUTABLE = {
    RETAIL: ("B2", "C2", "D2", "E2", "E4", "E6", "F2"),
    RETURNS: ("B2", "C2", "C3", "D1", "D4", "E3", "F2"),
}
# Chance of N/A where an item allows it (A5 and E7 of the retail checklist follow the
# store and the scenario instead).
_NA_RATES = {
    f"{RETAIL}:C1": 0.25,
    f"{RETAIL}:D4": 0.15,
    f"{RETAIL}:F3": 0.3,
    f"{RETURNS}:D5": 0.6,
    f"{RETURNS}:E4": 0.2,
}
_NA_COMMENTS = {
    f"{RETAIL}:A5": ("该门店没有供顾客使用的卫生间或试衣间，按定义选择不适用。",),
    f"{RETAIL}:C1": (
        "进店后我先主动向店员询问商品位置，因此本项不适用。",
        "刚进店就直接走向店员咨询，没有浏览的过程，本项不适用。",
    ),
    f"{RETAIL}:D4": (
        "所咨询的商品就在我所站的货架上，无需带领，选择不适用。",
        "店员回答问题时商品就在手边，不需要带路，本项不适用。",
    ),
    f"{RETAIL}:E7": (
        "本次访问简报未要求购买烟酒等限龄商品，本项不适用。",
        "情景中没有限龄商品，收银时无需查验证件，选择不适用。",
    ),
    f"{RETAIL}:F3": (
        "本次只购买了一件小商品，未使用购物袋，选择不适用。",
        "我自带了环保袋并自己装袋，店员无需装袋，本项不适用。",
    ),
    f"{RETURNS}:D5": (
        "店员自行完成了退货办理，无需请主管，本项不适用。",
        "退货在店员权限内，当场办结，没有需要主管处理的情况。",
    ),
    f"{RETURNS}:E4": ("本次为现金退款，当场退回现金，到账时间不适用。",),
}
_RETAIL_NO: dict[str, tuple[str, ...]] = {
    "A1": (
        "入口处地面有一滩饮料洒落物，约五分钟内无人处理，有顾客绕行。",
        "所购物的通道地面有纸屑和塑料包装，冷柜前有明显水渍。",
    ),
    "A2": (
        "{product}所在货架清点到 5 个空缺陈列位，其中一整排空置。",
        "饮料货架空缺明显，清点到 4 个空位，未见补货人员。",
    ),
    "A3": (
        "抽查的 3 件商品中有 1 件没有价签，另 1 件价签与商品规格不符。",
        "{product}价签写的是小规格，货架上摆放的却是大规格商品。",
    ),
    "A4": (
        "抽查的一盒酸奶已过保质期两天，仍在冷柜中销售，已拍照留证。",
        "抽查的一袋面包保质期至前一天，仍摆在货架上销售，已拍照。",
    ),
    "A5": (
        "卫生间地面湿滑、有异味，洗手液已用完无人补充。",
        "试衣间内堆放杂物，镜子有污渍，没有可用的挂钩。",
    ),
    "B1": (
        "进店后约 {seconds} 秒才有店员看向我，期间两名店员在理货时聊天。",
        "从进门到有人招呼用了 {seconds} 秒，附近的店员一直在看手机。",
    ),
    "B2": (
        "{staff}只说了一句“要什么”，没有微笑，也没有看我。",
        "{staff}点头示意但没有问候语，随后继续整理货架。",
    ),
    "B3": (
        "{staff}穿着制服但没有佩戴工牌，无法看到姓名。",
        "接待我的店员外套敞开遮住了工牌，制服上有明显污渍。",
    ),
    "C1": ("在{product}货架前浏览约 4 分钟，无人主动上前询问，店员在收银台附近聊天。",),
    "C2": (
        "{staff}没有询问用途，直接指着货架说“都在那边”。",
        "{staff}只问了“要哪个牌子”，没有了解我的使用需求。",
    ),
    "C3": (
        "{staff}没有确认我的需求，直接推荐了正在促销的商品。",
        "我说明需求后，{staff}没有复述或确认，马上拿了一款最贵的给我。",
    ),
    "D1": (
        "按简报询问{product}的问题，{staff}的回答与标准答案不符。",
        "{staff}表示“不清楚，你自己看说明”，未能回答情景问题。",
    ),
    "D2": (
        "{staff}只说了“这个卖得好”，没有介绍与我需求相关的特点。",
        "{staff}只介绍了价格和促销，没有说明商品本身的特点或好处。",
    ),
    "D3": (
        "{staff}没有推荐任何相关商品或替代品，回答完就离开了。",
        "{staff}反复推销会员卡，我婉拒两次后仍在继续劝说。",
    ),
    "D4": ("{staff}只用手指了方向说“在最后一排”，没有带我过去。",),
    "E1": (
        "排队约 {minutes} 分 {rest} 秒，只开了一个收银台，前面有 {queue} 位顾客。",
        "结账等候 {minutes} 分 {rest} 秒，另外 {tills} 个收银台关闭，也没有加开。",
    ),
    "E2": (
        "收银员没有任何问候，拿过商品就直接开始扫描。",
        "收银员低头扫码，全程没有看我，也没有打招呼。",
    ),
    "E3": ("小票上{product}的价格为 {price} 元，货架价签为 {shelf} 元，收银价格与价签不一致。",),
    "E4": (
        "收银员没有报应付金额，找零时也没有说明金额。",
        "收银员只把屏幕转向我，没有唱收唱付，找零直接放在台面上。",
    ),
    "E5": ("收银员没有主动提供小票，我开口索要后才打印出来。",),
    "E6": (
        "收银员没有询问是否需要购物袋，也没有询问是否为会员。",
        "收银员只问了会员，没有问是否需要购物袋，直接装进了塑料袋。",
    ),
    "F1": ("结账后收银员没有道谢，直接招呼下一位顾客。",),
    "F2": (
        "离店时没有听到“欢迎再次光临”或任何道别语。",
        "付款后收银员转身去拿货架上的烟，没有任何道别。",
    ),
    "F3": ("鸡蛋被放在购物袋底部，上面压着两瓶饮料，冷藏品也没有分开。",),
}
_RETURNS_NO: dict[str, tuple[str, ...]] = {
    "A1": ("服务台没有明显标识，询问了两名店员才找到退换货柜台。",),
    "A2": ("服务台和收银区都没有看到书面的退换货政策公示。",),
    "A3": ("服务柜台上堆放着待退商品和纸箱，台面比较杂乱。",),
    "B1": (
        "到达服务台后约 {seconds} 秒店员才招呼我，期间她在打电话。",
        "在服务台前等了 {seconds} 秒才有店员过来，柜台当时无人值守。",
    ),
    "B2": ("{staff}没有问候，只说了一句“什么事”，也没有看我。",),
    "B3": ("{staff}没有佩戴工牌，无法辨认姓名，制服外套也没有穿。",),
    "C1": ("我说明原因时{staff}两次打断，说“这个一般不能退”。",),
    "C2": (
        "整个过程中{staff}没有任何致歉的表示，只说按规定办。",
        "听完我的投诉后{staff}没有道歉，只是让我填单。",
    ),
    "C3": ("{staff}没有询问购买时间或使用情况，直接开始办理。",),
    "C4": ("{staff}提高音量说“是你自己没看清楚”，把责任推给顾客。",),
    "D1": ("{staff}没有查看小票，也没有在系统中核对购买记录。",),
    "D2": ("{staff}只同意给购物券，不同意按政策原路退款。",),
    "D3": ("{staff}没有检查商品和包装是否完好就直接收下。",),
    "D4": ("{staff}没有说明后续如何办理以及需要多长时间。",),
    "D5": ("店员表示退款需要主管审批，请主管过来后，等了 12 分钟主管才到场。",),
    "D6": (
        "从开始说明到退款办结共用了约 {minutes} 分钟，中途店员离开柜台两次。",
        "退款办理用了 {minutes} 分 {rest} 秒，系统反复报错，店员打电话询问总部。",
    ),
    "E1": ("退款金额比简报中的应退金额少了 10 元，且退为现金而非原支付方式。",),
    "E2": ("办理完成后店员没有提供纸质或电子退款凭证。",),
    "E3": ("{staff}在我确认前没有告知退款金额，直接让我签字。",),
    "E4": ("{staff}没有告知退款多久到账，我询问后才说“几天吧”。",),
    "F1": ("办结后{staff}没有道谢或致歉，直接转身处理其他事情。",),
    "F2": ("{staff}没有询问我是否还有其他需要帮助的地方。",),
    "F3": ("办结后我离开服务台时，{staff}没有说任何道别的话。",),
}
# Per section: openers; observations, each with the items it vouches for (said only when
# those were answered "yes"; "" vouches for nothing); closers that judge nothing.
_Pool = tuple[tuple[str, ...], tuple[tuple[str, str], ...], tuple[str, ...]]
_RETAIL_NARRATIVE: dict[str, _Pool] = {
    "environment": (
        ("{time}进店，门店入口宽敞，灯光明亮。", "{time}到达门店，店内顾客不多。"),
        (
            ("A1", "入口和主通道地面干净，没有杂物。"),
            ("A2", "{product}所在通道陈列整齐，货架饱满。"),
            ("A3,A4", "抽查的 3 件商品价签齐全、日期正常，均已拍照。"),
            ("", "冷柜运转正常，生鲜区没有异味。"),
        ),
        ("店内背景音乐音量适中。", "购物车摆放整齐，取用方便。", "价签和日期均已拍照留存。"),
    ),
    "greeting": (
        ("进店约 {seconds_B1} 秒后，{staff}注意到我。", "进门时{staff}正在整理货架。"),
        (
            ("B2", "店员面带微笑说“欢迎光临”，并与我有目光接触。"),
            ("B3", "店员着装整齐，工牌清晰可见。"),
            ("B2", "问候自然不生硬，让人感觉受欢迎。"),
            ("", "入口附近另有一名店员在补货。"),
        ),
        ("当时店内约有十位顾客。", "进店时间以手机计时为准。"),
    ),
    "needs": (
        (
            "我在{product}货架前浏览，{staff}上前询问是否需要帮助。",
            "我向{staff}说明想买{product}。",
        ),
        (
            ("C2", "店员问了我平时的使用习惯和预算。"),
            ("C3", "店员用自己的话复述了我的需求，确认无误后才推荐。"),
            ("", "沟通过程中店员没有催促。"),
        ),
        ("这一环节用时约三分钟。", "交谈时周围没有其他顾客。"),
    ),
    "product": (
        ("我按简报询问了{product}的问题。", "{staff}带我到{product}货架前介绍。"),
        (
            ("D1", "店员的回答与标准答案一致，表达清楚。"),
            ("D2", "店员比较了两款商品的区别，说明了各自适合的情况。"),
            ("D3", "店员推荐了一款搭配商品，我婉拒后没有再坚持。"),
            ("D4", "店员陪我走到货架前，而不是用手指方向。"),
        ),
        ("整个介绍过程约五分钟。", "咨询过程中没有其他顾客打扰。"),
    ),
    "checkout": (
        (
            "{time}后到收银台排队，等候约 {minutes_E1} 分 {rest_E1} 秒。",
            "结账时前面有 {queue} 位顾客，开了 {tills} 个收银台。",
        ),
        (
            ("E2", "收银员扫描前向我问好。"),
            ("E4", "收银员报出应付金额，收款后说明了找零。"),
            ("E5,E6", "收银员主动提供了小票，并询问是否需要购物袋和是否为会员。"),
            ("E3", "小票价格与货架价签一致。"),
        ),
        ("付款方式为手机支付。", "小票已拍照上传。"),
    ),
    "farewell": (
        ("付款后准备离开。", "结账完成后收银员把商品递给我。"),
        (
            ("F1,F2", "收银员说“谢谢，欢迎再次光临”。"),
            ("F3", "商品装袋细心，重物在下。"),
            ("F2", "离店时门口的店员也向我道别。"),
            ("", "出口处的防盗门没有误报。"),
        ),
        ("离店时间与记录一致。", "离店后在门口核对了小票。"),
    ),
}
_RETURNS_NARRATIVE: dict[str, _Pool] = {
    "environment": (
        ("{time}进店，直接寻找服务台。", "{time}到达门店，服务台位于入口右侧。"),
        (
            ("A1", "服务台标识清楚，一进门就能看到。"),
            ("A2", "退换货政策张贴在柜台旁，已拍照。"),
            ("A3", "柜台台面整洁，没有杂物。"),
            ("", "服务台旁设有等候座椅。"),
        ),
        ("当时服务台前没有其他顾客排队。", "服务台的照片已随报告上传。"),
    ),
    "greeting": (
        ("到达服务台约 {seconds_B1} 秒后，{staff}招呼了我。", "{staff}在服务台接待了我。"),
        (
            ("B2", "店员看着我问好，语气友善。"),
            ("B3", "店员着装规范，工牌清晰。"),
            ("", "柜台后还有一名店员在整理单据。"),
        ),
        ("当时服务台只有一位店员值班。", "到达时间以手机计时为准。"),
    ),
    "listening": (
        ("我说明要退回{product}，并投诉当时推荐有误。", "我把小票递给{staff}，说明退货原因。"),
        (
            ("C1", "店员耐心听完，没有打断。"),
            ("C2", "店员表示“很抱歉给您带来不便”。"),
            ("C3", "店员询问了购买时间和使用情况。"),
            ("C4", "店员全程态度平和，没有争辩。"),
        ),
        ("倾听环节约三分钟。", "我按简报说明了推荐有误的经过。"),
    ),
    "resolution": (
        ("{staff}开始办理退货。", "店员查看了商品后开始处理。"),
        (
            ("D1", "店员先核对了小票和系统中的购买记录。"),
            ("D2", "处理方式与政策一致，同意原路退款。"),
            ("D3", "店员检查了商品和包装是否完好。"),
            ("D4", "店员说明了后续步骤和所需时间。"),
        ),
        ("退货从开始说明到办结用了约 {minutes_D6} 分钟。", "办理期间我一直在柜台前等候。"),
    ),
    "refund": (
        ("办理完成后进入退款环节。", "店员在系统中提交了退款。"),
        (
            ("E1", "退款金额与应退金额一致，退回原支付方式。"),
            ("E3", "店员在我确认前告知了退款金额。"),
            ("E2", "店员提供了电子退款凭证，已截图。"),
            ("E4", "店员告知退款一般 1 到 3 个工作日到账。"),
        ),
        ("退款单据已拍照。", "凭证已随报告上传。"),
    ),
    "farewell": (
        ("办结后准备离开。", "离开服务台时。"),
        (
            ("F1", "店员再次致歉并向我道谢。"),
            ("F2", "店员询问我是否还有其他需要帮助的。"),
            ("F3", "店员说“欢迎再次光临”。"),
            ("", "离开时服务台前已有两位顾客排队。"),
        ),
        ("离店时间与记录一致。", "离开服务台后直接离店。"),
    ),
}
_NOTHING_ELSE = "除以上情况外，这一环节没有其他需要说明的地方。"
_THIN_COMMENTS = (
    "这一项没有做到，感觉服务不够到位，有待提高。",
    "这一项店员做得不好，态度一般，希望改进。",
)
_THIN_NARRATIVES = (
    "这一环节基本正常，店员按流程完成了服务，没有特别需要说明的地方，整体感觉还可以。",
    "过程比较顺利，没有遇到什么问题，店员的表现和平时来的时候差不多，整体感觉还行吧。",
)
_DECLINE_REASONS = (
    "那几天要出差，无法在访问窗口内完成。",
    "家里临时有事，这次无法接单，抱歉。",
    "该门店离我住处较远，窗口期内时间安排不开。",
)
_CANCEL_REASONS = (
    "门店当周局部装修、暂停部分区域营业，本次暗访取消。",
    "门店当周有总部巡店检查，为避免干扰，本次暗访取消。",
)
_CORRECTION_REASONS = (
    "照片和叙述都显示店员做到了，访客勾选有误，经电话核实后更正为“是”。",
    "叙述中写明了店员的做法，与勾选的“否”矛盾，与访客确认后更正。",
)
_RELEASE_NOTES = ("", "", "", "报告已审核，信息完整。", "请门店关注扣分项并安排改进。")
_REJECT_UNFOUND = (
    "小票照片模糊无法辨认，交易号在门店 POS 中也查无记录，无法证明本次到访，报告不予采用。"
)
_REJECT_BLURRED = "小票照片模糊无法辨认，访客也无法补交清晰照片，无法证明本次到访，报告不予采用。"
_REJECT_CONTRADICTIONS = "多项勾选答案与叙述矛盾，联系访客后仍无法说明，报告可信度不足，不予采用。"
_DISPUTE_REASONS = (
    "对“{item}”一项有异议：调取 {clock} 前后的监控录像，店员确实做到了，请复核。",
    "“{item}”判定有误：当班店员和在场主管都确认当时按规范执行，监控可以佐证，请复核。",
)
_UPHOLD_NOTE = "核对访客照片与叙述，记录具体清楚；门店提供的监控角度看不到该环节，维持原判。"
_ADJUST_NOTE = "调取门店监控核实，该项店员确已做到，改判为“是”，分数重新计算。"
