"""Paper cards in the translation walk's world: for every store, a card not keyed in yet,
one keyed in and waiting for its second keying, and one whose second keying differed."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit import CLI
from portal.auth.operations import create_user
from portal.config import Settings
from portal.models import Receipt, Response, Role, Store, User
from portal.paper.cards import CardLanguage, CardPurpose, issue_paper_cards
from portal.paper.checks import check_card
from portal.paper.entry import enter_card
from surveys.answers import Answers

CLERK_EMAIL = "paper.clerk@demo.example"
KEYED = Answers(
    nps=8,
    csat=4,
    ratings={},
    problem_reported=False,
    problem_category=None,
    comment=None,
    contact=None,
)


@dataclass(slots=True)
class PaperWorld:
    """By store code: a card's code to key in, and the response ids of a card waiting for
    its second keying and of one waiting for a decision."""

    codes: dict[str, str] = field(default_factory=dict)
    pending: dict[str, int] = field(default_factory=dict)
    mismatched: dict[str, int] = field(default_factory=dict)


def add_paper_cards(
    session: Session, settings: Settings, checker: User, *, password: str, now: datetime
) -> PaperWorld:
    stores = list(session.scalars(select(Store).where(Store.closed_at.is_(None))))
    clerk = create_user(
        session,
        email=CLERK_EMAIL,
        role=Role.MANAGER,
        password=password,
        stores=stores,
        name="录入员 周敏",
        actor=CLI,
        now=now,
    )
    always = replace(settings, paper_check_percent=100)
    world = PaperWorld()
    for store in stores:
        cards = issue_paper_cards(
            session,
            settings,
            store,
            3,
            purpose=CardPurpose.COUNTER,
            language=CardLanguage.ZH,
            actor=CLI,
            now=now,
        )
        receipts = [
            session.scalars(
                select(Receipt).where(Receipt.short_code == card.short_code.replace("-", ""))
            ).one()
            for card in cards
        ]
        world.codes[store.code] = cards[0].short_code
        entries = [
            enter_card(
                session,
                always,
                receipt=receipt,
                answers=KEYED,
                user=clerk,
                now=now,
                locale="zh_CN",
                rng=random.Random(1),
            )
            for receipt in receipts[1:]
        ]
        world.pending[store.code] = entries[0].response_id
        world.mismatched[store.code] = entries[1].response_id
        check_card(
            session,
            entry=entries[1],
            response=session.get_one(Response, entries[1].response_id),
            receipt=receipts[2],
            answers=replace(KEYED, nps=3),
            user=checker,
            now=now,
        )
    return world
