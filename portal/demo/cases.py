"""The demo's follow-up cases: every unhappy answer opens its case, and every case lives its
life through the case operations on the demo's own clock. Each life is planned from the
opening (first contact, resolution, follow-up question, return visit) and cut at `now`, so
a case's state follows from its age: the last day's cases are open, the last days' in
progress, last week's resolved and waiting for the return visit, older ones closed, a few
reopened because the customer came back; some cases of the last three days were never
picked up, and the hourly overdue job finds them past their deadline. The steps of all
cases and that job are played in time order, so timelines, audit entries and mails are the
ones the portal itself writes. This is the one module of the demo that calls the case
operations.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, selectinload

from portal.access import managers_of
from portal.audit import Actor
from portal.cases.notify import SYSTEM, notify_overdue
from portal.cases.operations import (
    DETRACTOR_MAX,
    FOLLOW_UP_DAYS,
    answer_follow_up,
    assign_case,
    case_trigger,
    close_case,
    log_contact,
    open_case_for_response,
    reopen_case,
    resolve_case,
    send_follow_up,
)
from portal.config import Settings
from portal.demo.channels import call_back
from portal.demo.timeline import Timeline
from portal.models import Case, CaseState, FollowUp, OutboxMessage, Response, ReturnVisit, User
from surveys.answers import LOW_SATISFACTION

# Hours from opening to the first contact (log-normal, median 7 h: about one case in ten
# misses the 24-hour deadline) and from the contact to the resolution (median 18 h).
_CONTACT_HOURS = (math.log(7.0), 0.9)
_RESOLVE_HOURS = (math.log(18.0), 0.8)
# Hours from the follow-up question to the customer's answer (median 8 h).
_ANSWER_HOURS = (math.log(8.0), 1.0)
_SUBSTANTIATED = 0.5
# Days from the resolution to the manager's return visit (call or visit in the store).
_RETURN_VISIT_DAYS = (1.0, 5.0)
# Share of the cases opened 1-3 days ago that nobody has picked up: the overdue ones.
_NEGLECTED = 0.25
# Share of the cases of stores without a manager that the admin takes on.
_ADMIN_TAKES = 0.5
# Share of resolved cases with contact details that get the follow-up question, and of
# those, the share the customer answers.
_FOLLOW_UP_SENT = 0.7
_FOLLOW_UP_ANSWERED = 0.65
# Weights of the follow-up scores 1..5: about two in three customers say "solved".
_FOLLOW_UP_SCORES = (0.08, 0.1, 0.17, 0.3, 0.35)
# Only the last days' notices are still in the outbox (older ones went out long ago).
_OUTBOX_DAYS = 2

# What a store does about each kind of problem; the values are Resolution members.
_RESOLUTIONS = {
    "product_quality": ("refund", "exchange"),
    "service_attitude": ("apology", "voucher"),
    "checkout_wait": ("apology", "voucher", "explanation"),
    "returns_exchange": ("exchange", "refund", "explanation"),
    "delivery": ("apology", "voucher", "refund"),
    "price": ("refund", "explanation"),
    "other": ("apology", "explanation", "repair", "other"),
}
_RESOLUTION_NOTES = {
    "refund": "已为顾客办理退款。",
    "exchange": "已为顾客更换商品。",
    "apology": "已向顾客致歉，顾客表示理解。",
    "repair": "已安排维修。",
    "explanation": "已向顾客说明原因和改进措施。",
    "voucher": "已致歉并赠送 20 元优惠券。",
    "other": "已与顾客沟通并处理。",
}
_CONTACT_NOTES = (
    "已电话联系顾客，了解了详细情况。",
    "已联系顾客，约定了处理方式。",
    "顾客未接电话，已发短信，顾客随后回电。",
)
_NO_CONTACT_NOTES = (
    "顾客未留联系方式，已与当班员工核实情况。",
    "已查看监控并与相关员工沟通。",
)
_RETURN_VISIT_NOTES = {
    "satisfied": "回访：顾客对处理结果满意。",
    "unsatisfied": "回访：顾客仍不太满意，已记录意见。",
    "unreachable": "回访未能联系上顾客。",
}
# Outcomes of the return visit (satisfied, unsatisfied, unreachable), with and without
# contact details: without them the store only hears back if the customer returns.
_RETURN_VISITS = tuple(ReturnVisit)
_RETURN_VISIT_WEIGHTS = {True: (0.6, 0.25, 0.15), False: (0.4, 0.15, 0.45)}
# The overdue job runs hourly, a few minutes past the hour.
_OVERDUE_EVERY = timedelta(hours=1)
_OVERDUE_PAST_HOUR = timedelta(minutes=4)
# Share of the cases closed "unsatisfied" after the manager's return visit that the
# customer takes up again, days later: reopened, resolved anew and closed once more.
_REOPENED = 0.2
_REOPEN_DAYS = (1.0, 4.0)
_REOPEN_NOTES = (
    "顾客再次来店反映问题仍未解决，重新处理。",
    "顾客来电表示对处理结果仍不满意，重新跟进。",
)
_SECOND_RESOLUTIONS = ("refund", "voucher")


@dataclass(slots=True, eq=False)
class _Life:
    """One case as planned: when each step happens (None: not by `now`)."""

    response: Response
    has_contact: bool
    #: The admin takes on a case of a store without a manager.
    taken_at: datetime | None = None
    contact_at: datetime | None = None
    contact_note: str = ""
    resolved_at: datetime | None = None
    resolution: str = ""
    substantiated: bool = False
    follow_up_at: datetime | None = None
    answered_at: datetime | None = None
    score: int = 0
    closed_at: datetime | None = None
    return_visit: str = ""
    reopened_at: datetime | None = None
    reopen_note: str = ""
    resolved_again_at: datetime | None = None
    second_resolution: str = ""
    closed_again_at: datetime | None = None
    #: The case, once the response has opened it.
    case: Case | None = None


def add_cases(
    session: Session,
    settings: Settings,
    *,
    seed: int,
    now: datetime,
    store_ids: Sequence[int],
    admin: User,
    progress: Callable[[float], None],
) -> int:
    """Open the case of every unhappy response of the demo and play each case's life up to
    ``now`` through the case operations; returns how many cases were opened.

    ``admin`` takes on some cases of the stores (of ``store_ids``) without a manager.
    ``progress`` receives the share of the work done, 0..1. Adds and flushes.
    """
    # case_trigger's rule in SQL, so that only the unhappy answers are loaded as objects.
    unhappy = session.scalars(
        select(Response)
        .where(
            or_(
                Response.nps <= DETRACTOR_MAX,
                Response.csat <= LOW_SATISFACTION,
                Response.problem_reported.is_(True),
            )
        )
        .options(selectinload(Response.contact))
        .order_by(Response.submitted_at, Response.id)
    ).all()
    planner = _Planner(
        rng=random.Random(f"{seed}:cases"),
        verdicts=random.Random(f"{seed}:verdicts"),
        reopens=random.Random(f"{seed}:reopen"),
        now=now,
        managed={store_id for store_id in store_ids if managers_of(session, store_id)},
    )
    lives = [planner.plan(r) for r in unhappy if case_trigger(r.nps, r.csat, r.problem_reported)]
    player = _Player(session, settings, admin=admin, now=now, seed=seed)
    for life in lives:
        player.add(life)
    if lives:
        player.add_overdue_job(lives[0].response.submitted_at)
    player.timeline.play(progress, every=256)
    _settle_outbox(session, now)
    return sum(life.case is not None for life in lives)


class _Planner:
    """Draws each case's life from its opening, cut at `now`."""

    def __init__(
        self,
        *,
        rng: random.Random,
        verdicts: random.Random,
        reopens: random.Random,
        now: datetime,
        managed: set[int],
    ) -> None:
        self.rng = rng
        # Own streams, so that judging complaints and reopening cases leave every other
        # draw as it was.
        self.verdicts = verdicts
        self.reopens = reopens
        self.now = now
        self.managed = managed

    def plan(self, response: Response) -> _Life:
        rng, now = self.rng, self.now
        opened = response.submitted_at
        life = _Life(response, has_contact=response.contact is not None)
        contact_at = opened + _hours(rng, _CONTACT_HOURS, 96)
        if timedelta(days=1) <= now - opened <= timedelta(days=3) and rng.random() < _NEGLECTED:
            return life
        taken_at = None
        if response.store_id not in self.managed and rng.random() < _ADMIN_TAKES:
            taken_at = max(opened, contact_at - timedelta(minutes=rng.randint(5, 60)))
        if contact_at > now:
            return life
        life.taken_at, life.contact_at = taken_at, contact_at
        life.contact_note = rng.choice(_CONTACT_NOTES if life.has_contact else _NO_CONTACT_NOTES)
        self._resolve(life, contact_at)
        return life

    def _resolve(self, life: _Life, contact_at: datetime) -> None:
        """The resolution and, as far as `now` allows, the follow-up or return visit."""
        rng, now = self.rng, self.now
        resolved_at = contact_at + _hours(rng, _RESOLVE_HOURS, 240)
        if resolved_at > now:
            return
        category = life.response.problem_category
        life.resolved_at = resolved_at
        life.resolution = rng.choice(_RESOLUTIONS[category or "other"])
        # About half the attitude complaints against a named cashier turn out justified:
        # they count against that person in the staff ranking.
        life.substantiated = (
            life.response.staff_id is not None
            and category == "service_attitude"
            and self.verdicts.random() < _SUBSTANTIATED
        )
        visit = resolved_at + timedelta(days=rng.uniform(*_RETURN_VISIT_DAYS))
        if life.has_contact and rng.random() < _FOLLOW_UP_SENT:
            sent = resolved_at + timedelta(minutes=rng.randint(30, 6 * 60))
            if sent > now:
                return
            life.follow_up_at = sent
            if rng.random() < _FOLLOW_UP_ANSWERED:
                answered = sent + _hours(rng, _ANSWER_HOURS, 24 * FOLLOW_UP_DAYS - 1)
                if answered <= now:
                    life.answered_at = answered
                    life.score = rng.choices(range(1, 6), weights=_FOLLOW_UP_SCORES)[0]
                    return
            # No answer: the manager calls back once the question has had a few days.
            visit = max(visit, sent + timedelta(days=3))
        if visit > now:
            return
        weights = _RETURN_VISIT_WEIGHTS[life.has_contact]
        life.closed_at = visit
        life.return_visit = rng.choices(_RETURN_VISITS, weights=weights)[0].value
        self._reopen(life, visit)

    def _reopen(self, life: _Life, closed_at: datetime) -> None:
        """Some customers still unhappy at the return visit come back: the case is reopened,
        resolved anew and, after another return visit, closed for good."""
        rng, now = self.reopens, self.now
        if life.return_visit != ReturnVisit.UNSATISFIED or rng.random() >= _REOPENED:
            return
        reopened = closed_at + timedelta(days=rng.uniform(*_REOPEN_DAYS))
        if reopened > now:
            return
        life.reopened_at, life.reopen_note = reopened, rng.choice(_REOPEN_NOTES)
        resolved = reopened + _hours(rng, _RESOLVE_HOURS, 240)
        if resolved > now:
            return
        life.resolved_again_at = resolved
        life.second_resolution = rng.choice(_SECOND_RESOLUTIONS)
        closed = resolved + timedelta(days=rng.uniform(*_RETURN_VISIT_DAYS))
        if closed <= now:
            life.closed_again_at = closed


class _Player:
    """Queues the planned steps of every case and the hourly overdue job, then runs them
    in time order through the case operations."""

    def __init__(
        self, session: Session, settings: Settings, *, admin: User, now: datetime, seed: int
    ):
        self.session = session
        self.settings = settings
        self.admin = admin
        self.now = now
        self.timeline = Timeline()
        #: Cases that may still fall overdue (pruned by the overdue job).
        self.waiting: list[Case] = []
        #: What the customers say on the return calls: its own stream, so the rest of the
        #: demo is drawn as before.
        self.calls = random.Random(f"{seed}:calls")

    def add(self, life: _Life) -> None:
        """Queue each step of the case's planned life at its own time."""
        self.timeline.queue(life.response.submitted_at, lambda: self._open(life))
        for when, step in (
            (life.taken_at, self._take),
            (life.contact_at, self._contact),
            (life.resolved_at, self._resolve),
            (life.follow_up_at, self._send_follow_up),
            (life.answered_at, self._answer),
            (life.closed_at, self._close),
            (life.reopened_at, self._reopen),
            (life.resolved_again_at, self._resolve_again),
            (life.closed_again_at, self._close_again),
        ):
            if when is not None:
                self.timeline.queue(when, partial(step, life, when))

    def add_overdue_job(self, start: datetime) -> None:
        """``flask overdue`` every hour from ``start`` to `now`."""
        tick = start.replace(minute=0, second=0) + _OVERDUE_EVERY + _OVERDUE_PAST_HOUR
        while tick <= self.now:
            self.timeline.queue(tick, partial(self._overdue, tick))
            tick += _OVERDUE_EVERY

    # -- the steps: each one case operation ------------------------------------------------

    def _open(self, life: _Life) -> None:
        response = life.response
        life.case = open_case_for_response(
            self.session, self.settings, response, now=response.submitted_at
        )
        if life.case is not None:
            self.waiting.append(life.case)

    def _take(self, life: _Life, at: datetime) -> None:
        actor = Actor.of_user(self.admin)
        assign_case(self.session, self.settings, _case(life), self.admin, actor=actor, now=at)

    def _contact(self, life: _Life, at: datetime) -> None:
        case = _case(life)
        log_contact(self.session, case, note=life.contact_note, actor=_actor(case), now=at)

    def _resolve(self, life: _Life, at: datetime) -> None:
        self._resolve_as(life, life.resolution, at)

    def _resolve_again(self, life: _Life, at: datetime) -> None:
        self._resolve_as(life, life.second_resolution, at)

    def _resolve_as(self, life: _Life, resolution: str, at: datetime) -> None:
        case = _case(life)
        resolve_case(
            self.session,
            case,
            resolution=resolution,
            note=_RESOLUTION_NOTES[resolution],
            actor=_actor(case),
            now=at,
            substantiated=life.substantiated,
        )

    def _send_follow_up(self, life: _Life, at: datetime) -> None:
        case = _case(life)
        send_follow_up(self.session, self.settings, case, actor=_actor(case), now=at)

    def _answer(self, life: _Life, at: datetime) -> None:
        # The customer's link carries the follow-up's token id; the demo reads it back.
        token_id = self.session.scalars(
            select(FollowUp.token_id).where(FollowUp.case_id == _case(life).id)
        ).one()
        answer_follow_up(self.session, token_id, life.score, now=at)

    def _close(self, life: _Life, at: datetime) -> None:
        case = _case(life)
        if case.contact_phone is not None and case.assignee is not None:
            # The return visit is a call: announced by a text message, recorded as a phone
            # visit; an answered call closes the case itself.
            call_back(self.session, self.settings, case, life.return_visit, self.calls, now=at)
            if case.state == CaseState.CLOSED:
                return
        self._close_as(life, life.return_visit, at)

    def _close_again(self, life: _Life, at: datetime) -> None:
        self._close_as(life, ReturnVisit.SATISFIED, at)

    def _close_as(self, life: _Life, outcome: str, at: datetime) -> None:
        case = _case(life)
        close_case(
            self.session,
            case,
            return_visit=outcome,
            note=_RETURN_VISIT_NOTES[outcome],
            actor=_actor(case),
            now=at,
        )

    def _reopen(self, life: _Life, at: datetime) -> None:
        case = _case(life)
        reopen_case(self.session, case, note=life.reopen_note, actor=_actor(case), now=at)

    def _overdue(self, at: datetime) -> None:
        self.waiting = [
            case
            for case in self.waiting
            if case.state == CaseState.OPEN and case.overdue_notified_at is None
        ]
        # The hours with no late case leave no trace: skip their query.
        if any(case.first_response_due_at < at for case in self.waiting):
            notify_overdue(self.session, self.settings, now=at)


def _settle_outbox(session: Session, now: datetime) -> None:
    """The demo has no mail server: mail older than the last days went out when it was
    written, so that the outbox page shows what is still waiting, as a live portal would."""
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.created_at < now - timedelta(days=_OUTBOX_DAYS),
        )
        .values(sent_at=OutboxMessage.created_at)
        .execution_options(synchronize_session=False)
    )


def _actor(case: Case) -> Actor:
    """Who works on the case: its assignee, or the system for a case nobody was given."""
    return SYSTEM if case.assignee is None else Actor.of_user(case.assignee)


def _case(life: _Life) -> Case:
    assert life.case is not None, "opened before its other steps"
    return life.case


def _hours(rng: random.Random, shape: tuple[float, float], cap: float) -> timedelta:
    """A log-normal number of hours (``shape``: mu, sigma of its log), at most ``cap``, in
    whole seconds like every demo time."""
    hours = min(rng.lognormvariate(*shape), cap)
    return timedelta(seconds=round(hours * 3600))
