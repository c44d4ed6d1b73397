"""The demo's trainings: HR trained the weakest staff (those the coaching list shows) in
past months, and the training on greeting worked.

Three staff with the lowest latent effect (one of them in SH-001, the demo manager's
store) had a greeting training ten weeks ago, marked
done that day; their customers then answered noticeably better: the demo adds, through
the answer kernel (a receipt and a shopper's answer each), about one good answer every
other day for each of them over the six weeks after, which puts them well above their store's
change. Two more had a checkout training eight weeks ago with no help from the demo
(their data show whatever they show), one is booked for next week and one was cancelled.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy.orm import Session

from portal.audit import Actor
from portal.calendar import local_today, zone
from portal.config import Settings
from portal.demo.answers import DEMO_SOURCE
from portal.demo.chain import Chain, StaffProfile
from portal.models import User
from portal.receipts import issue_receipt
from portal.shopper.operations import record_response
from portal.training.operations import (
    TrainingValues,
    assign_training,
    cancel_training,
    mark_done,
)
from surveys.answers import Answers
from surveys.loader import receipt_survey

#: Topic, touchpoint, trainer.
GREETING = ("主动迎宾与微笑服务", "greeting", "培训部 陈老师")
CHECKOUT = ("收银效率与唱收唱付", "checkout", "培训部 刘老师")
NEEDS = ("了解顾客需求", "needs", "培训部 陈老师")
#: The demo manager's store: one greeting trainee works there.
REVIEWED_STORE = "SH-001"
#: Added answers a day (on average) for each greeting trainee in the six weeks after.
ANSWERS_A_DAY = 0.5


@dataclass(frozen=True, slots=True)
class TrainingsDemo:
    trainings: int
    done: int
    added_answers: int


def add_trainings(
    session: Session,
    settings: Settings,
    chain: Chain,
    *,
    hr: User,
    now: datetime,
    days: int,
    seed: int,
) -> TrainingsDemo:
    """Add the demo's trainings and the greeting trainees' answers after them; flushes."""
    rng = random.Random(seed + 14)
    actor = Actor.of_user(hr)
    today = local_today(None, now)
    weakest = sorted((p for p in chain.plans if p.left_at is None), key=lambda p: p.effect)
    greeting_day = today - timedelta(days=min(70, days // 2))
    checkout_day = today - timedelta(days=min(56, days // 3))
    # One of the greeting trainees works in the demo manager's store, so that its monthly
    # review (the one the manager opens) shows a training's effect.
    own = [p for p in weakest if p.store_code == REVIEWED_STORE][:1]
    greeted = own + [p for p in weakest if p not in own][: 3 - len(own)]
    rest = [p for p in weakest if p not in greeted]
    plan = [(p, GREETING, greeting_day, "done") for p in greeted] + [
        (p, CHECKOUT, checkout_day, "done") for p in rest[:2]
    ]
    plan += [(rest[2], NEEDS, today + timedelta(days=7), "assigned")]
    plan += [(rest[3], NEEDS, today - timedelta(days=14), "cancelled")]
    added = done = 0
    for person, (topic, touchpoint, trainer), day, state in plan:
        staff_id = chain.staff_ids[(person.store_code, person.code)]
        morning = datetime.combine(day, time(9), zone(None))
        training = assign_training(
            session,
            staff_id,
            TrainingValues(topic, touchpoint, day, trainer),
            touchpoints={touchpoint},
            actor=actor,
            now=morning - timedelta(days=10),
        )
        if state == "done":
            mark_done(
                session,
                training.id,
                expected_version=None,
                actor=actor,
                now=morning + timedelta(hours=8),
            )
            done += 1
        elif state == "cancelled":
            cancel_training(
                session,
                training.id,
                expected_version=None,
                actor=actor,
                now=morning - timedelta(days=2),
            )
        if topic == GREETING[0]:
            added += _better_answers(session, settings, chain, person, morning, now, rng)
    return TrainingsDemo(len(plan), done, added)


def _better_answers(
    session: Session,
    settings: Settings,
    chain: Chain,
    person: StaffProfile,
    trained: datetime,
    now: datetime,
    rng: random.Random,
) -> int:
    """About ``ANSWERS_A_DAY`` good answers a day over the six weeks after ``trained`` (up to
    ``now``), each to a receipt the person issued an hour or two before."""
    store = chain.stores[person.store_code]
    added = 0
    for day in range(1, 43):
        if rng.random() > ANSWERS_A_DAY:
            continue
        # 12:00-20:00 China time, the receipt printed within opening hours before it.
        answered = trained + timedelta(days=day, hours=rng.uniform(3, 11))
        if answered >= now:
            break
        answered = answered.replace(microsecond=0)
        issued = issue_receipt(
            session,
            settings,
            store=store,
            staff_code=person.code,
            transaction_id=f"{store.code}-TRN-{person.code}-{day:02d}",
            issued_at=None,
            total_cents=rng.randint(2_000, 30_000),
            now=answered - timedelta(minutes=rng.randint(20, 150)),
            source=DEMO_SOURCE,
        )
        record_response(
            session,
            settings=settings,
            receipt=issued.receipt,
            definition=receipt_survey(),
            answers=Answers.scores(rng.choice((9, 10, 10)), rng.choice((4, 5, 5))),
            locale="zh_CN",
            now=answered,
        )
        added += 1
    return added
