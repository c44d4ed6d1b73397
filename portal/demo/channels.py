"""The demo's other ways in, beside the receipts' QR codes and typed codes: a counter tablet
in each of the demo manager's stores with two weeks of answers, paper cards printed for
those stores and keyed in by the manager (a few drawn for a second keying), and, after the
cases have lived their lives, telephone return visits to the customers of resolved cases,
each announced by a text message (kept in the outbox: the demo sends nothing); the case
demo (`portal.demo.cases`) makes them with `call_back`.

Answers go through the channels' own operations on the demo's clock. Their unhappy ones
open no case here: `portal.demo.cases` opens and plays every case of the demo, these
included. The draws come from their own random streams, so the rest of the demo is the
same with or without them.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from portal.audit import Actor
from portal.calendar import local_day
from portal.config import Settings
from portal.demo.answers import draw_scores
from portal.demo.chain import STORES, Chain, StoreProfile
from portal.kiosk.answers import kiosk_origin
from portal.kiosk.devices import create_kiosk, enrol_kiosk
from portal.kiosk.queries import split_key
from portal.models import Case, Channel, PhoneOutcome, ReturnVisit, Store, User
from portal.paper.cards import CardLanguage, CardPurpose, issue_paper_cards
from portal.paper.entry import enter_card
from portal.phone.operations import record_phone_visit
from portal.shopper.operations import record_receiptless_response
from portal.sms.operations import send_return_visit_notice
from portal.targeting import version_for_receipt
from portal.versions import definition_of
from surveys.answers import Answers

#: The demo manager's stores: each has a tablet at the counter and paper cards.
CHANNEL_STORES = ("SH-001", "SH-002")
#: The tablets' last days of answers, and the days since the paper cards were printed
#: (at most the demo's days).
KIOSK_DAYS = 14
PAPER_DAYS = 20
#: Per store, tablet answers and paper cards per 1,000 answers asked of the demo (the
#: default demo of 45,000: about 70 tablet answers and 40 cards a store).
KIOSK_PER_1000 = 1.5
CARDS_PER_1000 = 0.9
#: The share of the paper cards that came back answered.
PAPER_RETURNED = 0.6


@dataclass(frozen=True, slots=True)
class ChannelsDemo:
    kiosks: int
    kiosk_answers: int
    paper_cards: int
    paper_answers: int
    #: Answered return calls (set once the cases have lived: `portal.demo.cases`).
    phone_answers: int = 0

    @property
    def answers(self) -> int:
        return self.kiosk_answers + self.paper_answers + self.phone_answers


def add_channel_answers(
    session: Session,
    settings: Settings,
    chain: Chain,
    *,
    seed: int,
    now: datetime,
    days: int,
    responses: int,
    admin: User,
    manager: User,
) -> ChannelsDemo:
    """Enrol a tablet in each of `CHANNEL_STORES` and add its answers of the last
    `KIOSK_DAYS` days; print cards for each and key in the returned ones, in numbers
    proportional to the ``responses`` of the demo, within its ``days``. Adds and flushes;
    opens no case (see the module's docstring)."""
    rng = random.Random(f"{seed}:channels")
    profiles = {profile.code: profile for profile in STORES}
    taken = max(2, round(responses * KIOSK_PER_1000 / 1000))
    cards = max(4, round(responses * CARDS_PER_1000 / 1000))
    kiosk_answers = paper_answers = 0
    for code in CHANNEL_STORES:
        store, profile = chain.stores[code], profiles[code]
        kiosk_days = min(KIOSK_DAYS, days)
        kiosk_answers += _kiosk(
            session, settings, store, profile, rng, now, admin, taken, kiosk_days
        )
        paper_answers += _paper(
            session, settings, store, profile, rng, now, manager, cards, min(PAPER_DAYS, days)
        )
    return ChannelsDemo(
        kiosks=len(CHANNEL_STORES),
        kiosk_answers=kiosk_answers,
        paper_cards=cards * len(CHANNEL_STORES),
        paper_answers=paper_answers,
    )


def _answers(rng: random.Random, profile: StoreProfile) -> Answers:
    nps, csat = draw_scores(rng, profile.quality + rng.gauss(0.0, 1.0))
    return Answers.scores(nps, csat)


def _kiosk(
    session: Session,
    settings: Settings,
    store: Store,
    profile: StoreProfile,
    rng: random.Random,
    now: datetime,
    admin: User,
    count: int,
    days: int,
) -> int:
    """``count`` answers of the store's tablet, enrolled ``days`` days ago, at random
    moments of the store's opening hours since."""
    enrolled_at = now - timedelta(days=days)
    kiosk, code = create_kiosk(
        session, store, "收银台平板", Actor.of_user(admin), enrolled_at - timedelta(hours=1)
    )
    enrol_kiosk(session, code, address="192.0.2.10", now=enrolled_at)
    version = version_for_receipt(
        session, store, local_day(enrolled_at, store.timezone), split_key(kiosk)
    )
    definition = definition_of(version)
    origin = kiosk_origin(settings.secret_key, kiosk.id)
    moments = sorted(
        now - timedelta(days=rng.uniform(0, days), minutes=rng.randint(0, 10 * 60))
        for _ in range(count)
    )
    for answered in moments:
        answered = max(answered, enrolled_at + timedelta(minutes=5))
        record_receiptless_response(
            session,
            settings=settings,
            store=store,
            version=version,
            definition=definition,
            answers=_answers(rng, profile),
            locale="en" if rng.random() < profile.english else "zh_CN",
            now=answered.replace(microsecond=0),
            channel=Channel.KIOSK,
            kiosk_id=kiosk.id,
            client_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            origin=origin,
            open_case=False,
        )
    taken = count
    return taken


def _paper(
    session: Session,
    settings: Settings,
    store: Store,
    profile: StoreProfile,
    rng: random.Random,
    now: datetime,
    manager: User,
    count: int,
    days: int,
) -> int:
    """``count`` cards printed ``days`` days ago, the returned ones keyed in since."""
    printed = now - timedelta(days=days)
    cards = issue_paper_cards(
        session,
        settings,
        store,
        count,
        purpose=CardPurpose.COUNTER,
        language=CardLanguage.BOTH,
        actor=Actor.of_user(manager),
        now=printed,
    )
    keyed = 0
    for card in cards:
        if rng.random() >= PAPER_RETURNED:
            continue
        entered = printed + timedelta(days=rng.uniform(0.1, days - 0.1))
        enter_card(
            session,
            settings,
            receipt=card.receipt,
            answers=_answers(rng, profile),
            user=manager,
            now=entered.replace(microsecond=0),
            locale="zh_CN",
            rng=rng,
            open_case=False,
        )
        keyed += 1
    return keyed


def call_back(
    session: Session,
    settings: Settings,
    case: Case,
    return_visit: str,
    rng: random.Random,
    *,
    now: datetime,
) -> None:
    """The return visit of a resolved ``case`` as a phone call by its assignee: a text
    message announces it an hour before, then the call is recorded: answered (its
    answers drawn to fit ``return_visit``, satisfied or not) or unreachable. An answered
    call closes the case (`portal.phone.operations.record_phone_visit`)."""
    assert case.assignee is not None, "the assignee calls"
    manager = case.assignee
    send_return_visit_notice(
        session, settings, case, actor=Actor.of_user(manager), now=now - timedelta(hours=1)
    )
    if return_visit == ReturnVisit.UNREACHABLE:
        record_phone_visit(
            session,
            settings,
            store=case.store,
            case=case,
            outcome=PhoneOutcome.UNREACHABLE,
            note="",
            user=manager,
            now=now,
        )
        return
    solved = return_visit == ReturnVisit.SATISFIED
    record_phone_visit(
        session,
        settings,
        store=case.store,
        case=case,
        outcome=PhoneOutcome.ANSWERED,
        answers=_call_answers(rng, solved),
        problem_solved=solved,
        note="",
        user=manager,
        now=now,
    )


def _call_answers(rng: random.Random, solved: bool) -> Answers:
    # A customer whose problem was solved mostly thinks better of the store.
    nps, csat = draw_scores(rng, rng.gauss(0.3 if solved else -1.5, 0.8))
    return Answers.scores(nps, csat)
