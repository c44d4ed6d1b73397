"""The whole demo chain in one call: `build_demo` puts the parts of this package together in
the order they depend on each other (the organisation, the customers' receipts and answers,
the follow-up cases those answers open, the mystery-shopping programme, the daily rollups,
then the award cycles ranked from all of it) and says what it made. Like every operation it
only adds and flushes; the caller commits.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.audit import CLI, record_audit
from portal.config import Settings
from portal.demo.alerts import add_alerts
from portal.demo.answers import DEMO_SOURCE, AnswerCounts, add_answers
from portal.demo.awards import AwardsDemo, build_awards_demo
from portal.demo.bulk import Progress
from portal.demo.cases import add_cases
from portal.demo.chain import (
    DEMO_ADMIN_EMAIL,
    DEMO_PASSWORD,
    STORES,
    Chain,
    DemoLogin,
    create_chain,
    demo_exists,
    demo_logins,
    find_user,
)
from portal.demo.channels import ChannelsDemo, add_channel_answers
from portal.demo.mystery import MysteryDemoSummary, build_mystery_demo
from portal.demo.reviews import build_reviews_demo
from portal.demo.targets import add_targets
from portal.demo.themes import classify_demo_comments
from portal.demo.trainings import TrainingsDemo, add_trainings
from portal.errors import Conflict
from portal.models import Channel, PhoneVisit, Response
from portal.rollups import rebuild_rollups


class DemoExists(Conflict):
    code = "demo_exists"


@dataclass(frozen=True, slots=True)
class DemoSummary:
    stores: int
    staff: int
    receipts: int
    responses: int
    #: Follow-up cases opened by the unhappy responses.
    cases: int
    days: int
    logins: tuple[DemoLogin, ...]
    #: The mystery-shopping programme: visits by state, shoppers, receipt photos.
    mystery: MysteryDemoSummary
    #: The service-star award cycles: one month final, the last one in HR review.
    awards: AwardsDemo
    #: The counter tablets, paper cards and their answers.
    channels: ChannelsDemo
    #: Telephone return visits to customers of resolved cases.
    phone_visits: int
    #: Trainings of the weakest staff, and the answers after the greeting ones.
    trainings: TrainingsDemo


def build_demo(
    session: Session,
    settings: Settings,
    *,
    now: datetime,
    seed: int = 2026,
    days: int = 120,
    responses: int = 45_000,
    progress: Callable[[int], None] | None = None,
    photo_folder: Path | None = None,
) -> DemoSummary:
    """Add the demo chain: stores, staff, logins, and ``days`` days of receipts up to
    ``now`` of which about 40 % were answered, giving about ``responses`` responses, the
    cases the unhappy ones opened, and the mystery-shopping programme of the same months.

    The same seed gives the same chain, answers, cases and visits (only token ids and short
    codes are drawn from the system's secure randomness). ``progress`` receives increments
    that sum to 100. Receipt photos of the mystery visits are written to ``photo_folder``,
    by default the ``PORTAL_PHOTO_DIR`` setting's folder. Adds and flushes; the
    caller commits (the photo files are written at once).

    Raises
    ------
    DemoExists
        The demo admin login already exists.
    ValueError
        ``now`` is naive, or ``days``/``responses`` are not positive.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if days < 1 or responses < 1:
        raise ValueError("days and responses must be positive")
    if demo_exists(session):
        raise DemoExists(f"The demo already exists ({DEMO_ADMIN_EMAIL}).")
    now = now.astimezone(UTC).replace(microsecond=0)
    rng = random.Random(seed)
    # Shares of the bar follow measured shares of the time: playing the cases through
    # their operations takes about three quarters of it.
    report = Progress(progress)
    chain = create_chain(session, rng, now=now, days=days)
    counts = add_answers(
        session, settings, chain, rng=rng, now=now, days=days, responses=responses, report=report
    )
    channels = add_channel_answers(
        session,
        settings,
        chain,
        seed=seed,
        now=now,
        days=days,
        responses=responses,
        admin=find_user(session, DEMO_ADMIN_EMAIL),
        manager=find_user(session, "manager@demo.example"),
    )
    cases = add_cases(
        session,
        settings,
        seed=seed,
        now=now,
        store_ids=[store.id for store in chain.stores.values()],
        admin=find_user(session, DEMO_ADMIN_EMAIL),
        progress=lambda share: report.reach(23 + 72 * share),
    )
    mystery = build_mystery_demo(
        session,
        settings,
        now=now,
        days=days,
        seed=seed,
        password=DEMO_PASSWORD,
        admin=find_user(session, DEMO_ADMIN_EMAIL),
        reviewer=find_user(session, "reviewer@demo.example"),
        manager=find_user(session, "manager@demo.example"),
        quality={p.code: p.quality for p in STORES},
        staff_effect=chain.staff_effect(),
        photo_folder=photo_folder or settings.photo_folder,
        progress=lambda share: report.reach(95 + 4.5 * share),
    )
    trainings = add_trainings(
        session,
        settings,
        chain,
        hr=find_user(session, "hr@demo.example"),
        now=now,
        days=days,
        seed=seed,
    )
    awards = _after_the_answers(session, settings, chain, now=now, days=days)
    phone_visits = session.scalar(select(func.count()).select_from(PhoneVisit)) or 0
    channels = replace(channels, phone_answers=_phone_answers(session))
    summary = _summary(
        chain, counts, cases, days, mystery, awards, channels, phone_visits, trainings
    )
    _audit(session, summary, seed=seed, now=now)
    session.flush()
    report.reach(100)
    return summary


def _after_the_answers(
    session: Session, settings: Settings, chain: Chain, *, now: datetime, days: int
) -> AwardsDemo:
    """What reads the answers, cases and visits written so far: the rollups and themes, the
    award cycles, the targets, last month's reviews and the alerts; the awards made."""
    # Bulk inserts bypass the per-response rollup upserts: count everything in one go.
    rebuild_rollups(session, [store.id for store in chain.stores.values()])
    # ... and the answer kernel's comment themes.
    classify_demo_comments(session, now=now)
    # The award cycles rank staff from the rollups and mystery observations just written.
    awards = build_awards_demo(
        session,
        now=now,
        hr=find_user(session, "hr@demo.example"),
        hr2=find_user(session, "hr2@demo.example"),
        manager=find_user(session, "manager@demo.example"),
    )
    add_targets(session, now=now, days=days)
    # Last month's service reviews read everything above: answers, cases, visits, awards.
    build_reviews_demo(session, settings, now=now)
    # The weekly alert check replayed over the last weeks of the rollups just written.
    add_alerts(session, settings, cx=find_user(session, "cx@demo.example"), now=now)
    return awards


def _phone_answers(session: Session) -> int:
    return session.scalar(select(func.count()).where(Response.channel == Channel.PHONE)) or 0


def _summary(
    chain: Chain,
    counts: AnswerCounts,
    cases: int,
    days: int,
    mystery: MysteryDemoSummary,
    awards: AwardsDemo,
    channels: ChannelsDemo,
    phone_visits: int,
    trainings: TrainingsDemo,
) -> DemoSummary:
    return DemoSummary(
        stores=len(chain.stores),
        staff=len(chain.plans),
        # The bulk's, those of the other channels (paper cards; tablets, paper, calls) and
        # the greeting trainees' after their training.
        receipts=counts.receipts + channels.paper_cards + trainings.added_answers,
        responses=counts.responses + channels.answers + trainings.added_answers,
        cases=cases,
        days=days,
        logins=demo_logins(),
        mystery=mystery,
        awards=awards,
        channels=channels,
        phone_visits=phone_visits,
        trainings=trainings,
    )


def _audit(session: Session, summary: DemoSummary, *, seed: int, now: datetime) -> None:
    record_audit(
        session,
        CLI,
        "demo.build",
        "demo",
        DEMO_SOURCE,
        now,
        seed=seed,
        days=summary.days,
        receipts=summary.receipts,
        responses=summary.responses,
        cases=summary.cases,
        mystery_visits=summary.mystery.visits,
        award_nominations=summary.awards.nominations,
        kiosk_answers=summary.channels.kiosk_answers,
        paper_answers=summary.channels.paper_answers,
        phone_visits=summary.phone_visits,
    )
