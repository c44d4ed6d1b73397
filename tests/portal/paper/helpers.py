"""Shared by the paper tests: cards issued through the real operation, and the answers of a
card as the entry form posts them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit import CLI
from portal.config import Settings
from portal.db import utcnow
from portal.models import Receipt, Store
from portal.paper.cards import CardLanguage, CardPurpose, issue_paper_cards

#: An unhappy card: a detractor, dissatisfied, something went wrong with the service.
UNHAPPY = {
    "nps": "3",
    "csat": "2",
    "problem": "y",
    "problem_category": "service_attitude",
    "comment": "排队太久",
    "side": "zh_CN",
}
HAPPY = {"nps": "9", "csat": "5", "rating_speed": "4", "side": "zh_CN"}


def issue_cards(
    session: Session, settings: Settings, store: Store, count: int, now: datetime | None = None
) -> list[Receipt]:
    cards = issue_paper_cards(
        session,
        settings,
        store,
        count,
        purpose=CardPurpose.COUNTER,
        language=CardLanguage.ZH,
        actor=CLI,
        now=now or utcnow(),
    )
    session.flush()
    codes = [card.short_code.replace("-", "") for card in cards]
    receipts = {
        r.short_code: r
        for r in session.scalars(select(Receipt).where(Receipt.short_code.in_(codes)))
    }
    return [receipts[code] for code in codes]
