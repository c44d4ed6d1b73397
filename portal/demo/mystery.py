"""The demo chain's mystery-shopping programme, played: four shoppers' visits of the last
months, each one going through the real mystery operations (`schedule_visit` ...
`decide_dispute`, and the nightly `finalise_due`) at backdated times, in time order across
all visits, so that its timeline, its audit entries, the automatic checks at submission
and the staff observations written at release are the ones the portal itself makes.
`portal.demo.mystery_plan` decides beforehand who visits which store when and what becomes
of each report (every state occurs: final, released and still open to dispute, disputed,
in review, returned, rejected, declined, cancelled, upcoming), and
`portal.demo.mystery_answers` writes what the shopper answered.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import ImageFont
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.audit import CLI, Actor
from portal.calendar import DEFAULT_ZONE, local_day, zone
from portal.config import Settings
from portal.demo.assignment import assignment_to_try
from portal.demo.mystery_answers import AnswerWriter
from portal.demo.mystery_plan import (
    ACCEPT_HOURS,
    ADJUSTED,
    CANCELLED,
    DECLINED,
    DISPUTE_OPEN,
    DONE,
    DRAFT,
    IN_REVIEW,
    LAST_STEP,
    MANAGER_CLOSING,
    REJECTED,
    RELEASED,
    RETURNED,
    SUBMITTED,
    UPCOMING,
    UPHELD,
    Planner,
    Slot,
    ended_at,
    known,
    local_at,
    visit_of,
)
from portal.demo.mystery_texts import (
    ADJUST_NOTE,
    CANCEL_REASONS,
    CORRECTION_REASONS,
    DECLINE_REASONS,
    DISPUTE_REASONS,
    REJECT_BLURRED,
    REJECT_CONTRADICTIONS,
    REJECT_UNFOUND,
    RELEASE_NOTES,
    UPHOLD_NOTE,
)
from portal.demo.photos import receipt_picture
from portal.demo.timeline import Timeline
from portal.models import DisputeOutcome, MysteryVisit, User, VisitState
from portal.mystery.photos import clean_photo
from portal.mystery.report import VisitFacts, save_answers, save_facts, save_photo, submit_report
from portal.mystery.review import (
    adjust_answers,
    decide_dispute,
    dispute_report,
    finalise_due,
    reject_report,
    release_report,
    return_report,
    start_review,
)
from portal.mystery.scheduling import (
    VisitPlan,
    accept_visit,
    cancel_visit,
    decline_visit,
    schedule_visit,
)
from surveys.checklists import YES, ChecklistAnswers, ItemAnswer

# The nightly finalise-visits job, local time.
_CRON_HOUR = 2
#: The programme runs at least this long, so that even a short demo has final reports.
MIN_DAYS = 60


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
    rng = random.Random(f"{seed}:mystery")
    programme = _Programme(
        session,
        settings,
        now=now.astimezone(UTC).replace(microsecond=0),
        days=max(days, MIN_DAYS),
        rng=rng,
        password=password,
        manager=manager,
        quality=quality,
    )
    programme.cast(
        admin=admin,
        reviewer=reviewer,
        writer=AnswerWriter(rng, quality=quality, staff_effect=staff_effect),
        photo_folder=photo_folder,
    )
    return programme.build(progress)


class _Programme(Planner):
    """Plays the planned visits through the mystery operations, in time order."""

    # -- the whole build -------------------------------------------------------------------

    def cast(
        self, *, admin: User, reviewer: User, writer: AnswerWriter, photo_folder: Path
    ) -> None:
        """Who schedules, who reviews, who writes the answers, and where photos go."""
        self.admin, self.reviewer, self.writer = admin, reviewer, writer
        self.photo_folder = photo_folder
        self.timeline = Timeline()
        self.visits: list[MysteryVisit] = []
        self.photo_hashes: set[str] = set()
        self.photos = 0
        # The small bitmap font draws a receipt line in microseconds, FreeType in about one
        # millisecond (Pillow < 10.1 has only the bitmap one, as load_default).
        self.font = getattr(ImageFont, "load_default_imagefont", ImageFont.load_default)()

    def build(self, progress: Callable[[float], None] | None) -> MysteryDemoSummary:
        """Plan every visit, queue its steps, play them in time order, and count."""
        slots = self._plan()
        for slot in slots:
            if slot.fate == DONE:
                self._place(slot)
        self._decide_fates(slots)
        for slot in slots:
            if slot.started is not None:
                slot.answers = self.writer.answers(slot)
            self._timeline(slot)
        self._cron()

        self.timeline.play(progress)
        # Scheduled last, at `now`: the newcomer's work waiting at the top of their home.
        assignment_to_try(self.session, self.settings, now=self.now)

        by_state = select(MysteryVisit.state, func.count()).group_by(MysteryVisit.state)
        counts = dict(self.session.execute(by_state).tuples().all())
        return MysteryDemoSummary(
            visits=sum(counts.values()),
            by_state=tuple((str(s), counts[s]) for s in VisitState if counts.get(s)),
            shoppers=len(self.shoppers),
            photos=self.photos,
            lockout_days=self.settings.mystery_lockout_days,
        )

    # -- the timeline ----------------------------------------------------------------------

    def _timeline(self, slot: Slot) -> None:
        """Queue every step of the slot's life at its own time."""
        rng, now = self.rng, self.now
        session, shopper = self.session, slot.shopper.user
        self.timeline.queue(slot.scheduled_at, lambda: self._schedule(slot))
        if slot.fate == DECLINED:
            declined_at = known(slot.decided_at)
            reason = rng.choice(DECLINE_REASONS)
            self.timeline.queue(
                declined_at,
                lambda: decline_visit(
                    session,
                    visit_of(slot),
                    actor=Actor.of_user(shopper),
                    reason=reason,
                    now=declined_at,
                ),
            )
            return
        accepted = slot.accepted_at
        if slot.fate != UPCOMING:
            accepted = slot.scheduled_at + timedelta(hours=rng.uniform(*ACCEPT_HOURS))
            if slot.started is not None:
                accepted = min(accepted, slot.started - timedelta(hours=2))
            if slot.decided_at is not None:
                accepted = min(accepted, slot.decided_at - timedelta(hours=1))
            accepted = max(accepted, slot.scheduled_at + timedelta(minutes=20))
        if accepted is not None and accepted < now:
            accepted_at = accepted.replace(microsecond=0)
            self.timeline.queue(
                accepted_at,
                lambda: accept_visit(
                    session, visit_of(slot), actor=Actor.of_user(shopper), now=accepted_at
                ),
            )
        if slot.fate == CANCELLED:
            cancelled_at = known(slot.decided_at)
            reason = rng.choice(CANCEL_REASONS)
            actor = Actor.of_user(self.admin)
            self.timeline.queue(
                cancelled_at,
                lambda: cancel_visit(
                    session, visit_of(slot), actor=actor, reason=reason, now=cancelled_at
                ),
            )
            return
        if slot.ended is not None and slot.fate != UPCOMING:
            for kind, at in self._fit(slot, self._report_plan(slot)):
                if at < now:
                    self.timeline.queue(at, self._step(slot, kind, at.replace(microsecond=0)))

    def _report_plan(self, slot: Slot) -> list[tuple[str, datetime]]:
        """(kind, time) of every step after the visit, in order, as its fate has them."""
        rng = self.rng
        tz = slot.store.timezone
        if slot.late:
            fill = rng.uniform(25, 40)
        else:
            fill = min(max(rng.lognormvariate(math.log(2.5), 0.8), 0.2), 20.0)
        t = self._awake(ended_at(slot) + timedelta(hours=fill), tz)
        plan = [("facts", t)]
        if slot.fate == DRAFT:
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
        if slot.fate in (DRAFT, SUBMITTED):
            return plan
        t = self._office(t + self._review_delay(), tz)
        plan.append(("review", t))
        if slot.returned_once or slot.fate == RETURNED:
            t += timedelta(minutes=rng.uniform(10, 30))
            plan.append(("return", t))
            if slot.fate == RETURNED:
                return plan
            t += timedelta(hours=min(max(rng.lognormvariate(math.log(5), 0.7), 0.5), 22))
            plan.append(("fix", t))
            t += timedelta(seconds=rng.randint(60, 240))
            plan.append(("resubmit", t))
            t = self._office(t + self._review_delay(), tz)
            plan.append(("review", t))
        if slot.fate == IN_REVIEW:
            return plan
        if slot.fate == REJECTED:
            plan.append(("reject", t + timedelta(minutes=rng.uniform(10, 40))))
            return plan
        if slot.corrected:
            t += timedelta(minutes=rng.uniform(5, 20))
            plan.append(("correct", t))
        t += timedelta(minutes=rng.uniform(5, 40))
        plan.append(("release", t))
        if slot.fate in (DISPUTE_OPEN, UPHELD, ADJUSTED):
            t = self._office(t + timedelta(days=rng.uniform(0.3, 4.5)), tz, MANAGER_CLOSING)
            plan.append(("dispute", t))
            if slot.fate != DISPUTE_OPEN:
                t = self._office(t + timedelta(days=rng.uniform(0.5, 3.5)), tz)
                plan.append(("decide", t))
        return plan

    def _review_delay(self) -> timedelta:
        return timedelta(hours=min(max(self.rng.lognormvariate(math.log(14), 0.7), 0.3), 60.0))

    def _fit(self, slot: Slot, plan: list[tuple[str, datetime]]) -> list[tuple[str, datetime]]:
        """Times that leave the slot in its state at `now`: the steps its state needs
        happen before `now` (squeezed, or the review delayed for a report that must have
        been released only days ago), the rest after it."""
        rng, now = self.rng, self.now
        ended = ended_at(slot)
        later = now + timedelta(hours=1)
        if slot.fate == DRAFT:
            # The facts and the first sections are saved; the rest is still to come.
            first = ended + min(plan[0][1] - ended, (now - ended) * rng.uniform(0.3, 0.7))
            shift = first - plan[0][1]
            saved = 1 + rng.randint(2, 3)
            return [(k, at + shift if i < saved else later) for i, (k, at) in enumerate(plan)]
        last = LAST_STEP.get(slot.fate)
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

        if slot.fate == RELEASED and plan[index][1] < now - window + timedelta(hours=6):
            delay_review(now - timedelta(days=rng.uniform(0.5, min(3.0, window.days - 0.5))))
        if slot.fate == DISPUTE_OPEN:
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

    def _step(self, slot: Slot, kind: str, at: datetime) -> Callable[[], None]:
        """The operation one step of a report runs, at ``at``."""
        if kind in ("dispute", "decide"):
            return lambda: self._dispute_step(slot, kind, at)
        if kind in ("review", "return", "correct", "reject", "release"):
            return lambda: self._review_step(slot, kind, at)
        return lambda: self._shopper_step(slot, kind, at)

    def _shopper_step(self, slot: Slot, kind: str, at: datetime) -> None:
        session, shopper = self.session, slot.shopper.user
        visit, answers = visit_of(slot), known(slot.answers)
        if kind == "facts":
            tz = slot.store.timezone
            facts = VisitFacts(
                started_at=_wall_clock(known(slot.started), tz),
                ended_at=_wall_clock(known(slot.ended), tz),
                served_by_id=slot.served_by.id if slot.served_by else None,
                served_by_description=slot.served_description,
                transaction_id=slot.transaction_id,
            )
            save_facts(session, visit, facts, actor=Actor.of_user(shopper), now=at)
        elif kind == "checklist":
            if slot.returned_once or slot.fate == RETURNED:
                answers = self.writer.first_filing(slot, answers)
            save_answers(session, visit, answers, actor=Actor.of_user(shopper), now=at, part=kind)
        elif kind.startswith("section:") or kind == "fix":
            if kind == "fix":
                section = slot.checklist.section_of(self.writer.fixed_item(slot))
            else:
                section = slot.checklist.section(kind.partition(":")[2])
            part = ChecklistAnswers(
                items={item.key: answers.items[item.key] for item in section.items},
                narratives={section.key: answers.narratives[section.key]},
            )
            save_answers(
                session, visit, part, actor=Actor.of_user(shopper), now=at, part=section.key
            )
        elif kind == "photo":
            self._photo(slot, visit, at)
        elif kind in ("submit", "resubmit"):
            submit_report(session, self.settings, visit, actor=Actor.of_user(shopper), now=at)
        else:  # pragma: no cover - plans hold only the kinds above
            raise AssertionError(kind)

    def _review_step(self, slot: Slot, kind: str, at: datetime) -> None:
        session, settings, reviewer = self.session, self.settings, self.reviewer
        visit = visit_of(slot)
        if kind == "review":
            start_review(session, visit, actor=Actor.of_user(reviewer), now=at)
        elif kind == "return":
            note = self.writer.return_note(slot)
            return_report(session, visit, actor=Actor.of_user(reviewer), comments=note, now=at)
        elif kind == "correct":
            adjust_answers(
                session,
                settings,
                visit,
                {self.writer.disputed_item(slot): ItemAnswer(YES)},
                actor=Actor.of_user(reviewer),
                reason=self.rng.choice(CORRECTION_REASONS),
                now=at,
            )
        elif kind == "reject":
            if slot.blurred:
                reason = REJECT_UNFOUND if slot.receipt is None else REJECT_BLURRED
            else:
                reason = REJECT_CONTRADICTIONS
            reject_report(session, visit, actor=Actor.of_user(reviewer), reason=reason, now=at)
        else:
            note = self.rng.choice(RELEASE_NOTES)
            release_report(
                session, settings, visit, actor=Actor.of_user(reviewer), now=at, note=note
            )

    def _dispute_step(self, slot: Slot, kind: str, at: datetime) -> None:
        session, settings = self.session, self.settings
        visit, key = visit_of(slot), self.writer.disputed_item(slot)
        if kind == "dispute":
            text = slot.checklist.item(key).text.zh_CN
            dispute_report(
                session,
                settings,
                visit,
                actor=Actor.of_user(self.managers[slot.store.id]),
                item_key=key,
                reason=self.rng.choice(DISPUTE_REASONS).format(item=text, **_clock(slot)),
                now=at,
            )
            return
        upheld = slot.fate == UPHELD
        decide_dispute(
            session,
            settings,
            visit,
            actor=Actor.of_user(self.reviewer),
            outcome=DisputeOutcome.UPHELD if upheld else DisputeOutcome.ADJUSTED,
            note=UPHOLD_NOTE if upheld else ADJUST_NOTE,
            changes=None if upheld else {key: ItemAnswer(YES)},
            now=at,
        )

    # -- scheduling and the nightly job ----------------------------------------------------

    def _schedule(self, slot: Slot) -> None:
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
        tz = self.stores[0].timezone if self.stores else DEFAULT_ZONE
        day = local_day(self.start, tz)
        while (at := local_at(day, tz, _CRON_HOUR)) < self.now:
            when = (at + timedelta(seconds=self.rng.randint(5, 90))).replace(microsecond=0)
            self.timeline.queue(when, self._finaliser(when))
            day += timedelta(days=1)

    def _finaliser(self, when: datetime) -> Callable[[], None]:
        def run() -> None:
            # The nights with nothing due leave no trace: skip their query.
            if any(
                visit.state == VisitState.RELEASED and known(visit.dispute_until) < when
                for visit in self.visits
            ):
                finalise_due(self.session, now=when, actor=CLI)

        return run

    # -- photos ----------------------------------------------------------------------------

    def _photo(self, slot: Slot, visit: MysteryVisit, at: datetime) -> None:
        for attempt in range(10):
            photo = clean_photo(
                receipt_picture(slot, attempt, self.font), max_bytes=self.settings.photo_max_bytes
            )
            if photo.average_hash not in self.photo_hashes:
                break
        self.photo_hashes.add(photo.average_hash)
        save_photo(
            self.session,
            visit,
            photo,
            folder=self.photo_folder,
            actor=Actor.of_user(slot.shopper.user),
            now=at,
        )
        self.photos += 1


def _wall_clock(when: datetime, timezone: str) -> datetime:
    """The store's wall-clock time to the minute, as a shopper writes it down."""
    return when.astimezone(zone(timezone)).replace(second=0, microsecond=0, tzinfo=None)


def _clock(slot: Slot) -> dict[str, str]:
    ended = ended_at(slot).astimezone(zone(slot.store.timezone))
    return {"clock": f"{ended - timedelta(minutes=6):%H:%M}"}
