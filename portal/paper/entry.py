"""Keying in returned paper cards: the card's short code checked, its answers stored as a
response of channel "paper" (through the one way answers are stored,
`portal.shopper.operations.record_response`), who keyed it recorded, and a share of the
cards drawn for a second person's check.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.access import visible_store_ids
from portal.audit import Actor, record_audit
from portal.config import Settings
from portal.errors import DomainError
from portal.models import Channel, PaperCheck, PaperEntry, Receipt, Store, User
from portal.paper.cards import PAPER_SOURCE
from portal.receipts import find_receipt_by_short_code
from portal.shopper.operations import AlreadyAnswered, record_response
from portal.versions import definition_of
from surveys.answers import Answers
from surveys.codes import InvalidCode, format_short_code, normalize_short_code

#: Where the system's own randomness comes from when a caller gives none.
_SYSTEM_RANDOM = random.SystemRandom()


class CardRefused(DomainError):
    """The short code typed names no card this user may key in now (the message says
    why); shown on the code field."""

    def __init__(self, message: Any) -> None:
        super().__init__(message, field="code")


class UnknownCard(CardRefused):
    status = 404
    code = "unknown_card"


class OtherStoresCard(CardRefused):
    status = 403
    code = "other_stores_card"


class NotAPaperCard(CardRefused):
    status = 422
    code = "not_a_paper_card"


class CardAnswered(CardRefused):
    status = 409
    code = "card_answered"


class CardExpired(CardRefused):
    status = 410
    code = "card_expired"


def find_card(session: Session, user: User, typed: str, now: datetime) -> Receipt:
    """The paper card whose short code ``typed`` is (as printed or as typed), when ``user``
    may key it in now.

    Raises
    ------
    UnknownCard
        A mistyped code (its check character does not match) or no receipt has it.
    OtherStoresCard
        The card is of a store ``user`` does not look after.
    NotAPaperCard
        The code is a till receipt's: the shopper answers it, not the staff.
    CardAnswered
        The card was keyed in already, or the shopper answered it online.
    CardExpired
        The card's answering time is over.
    """
    try:
        code = normalize_short_code(typed)
    except InvalidCode:
        raise UnknownCard(
            _l("This is not a card code: check each character against the card.")
        ) from None
    receipt = find_receipt_by_short_code(session, code)
    if receipt is None:
        raise UnknownCard(_l("No card has this code. Check it against the card."))
    visible = session.scalar(
        select(Store.id).where(
            Store.id == receipt.store_id, Store.id.in_(visible_store_ids(user).scalar_subquery())
        )
    )
    if visible is None:
        raise OtherStoresCard(_l("This card is from a store you do not look after."))
    if receipt.source != PAPER_SOURCE:
        raise NotAPaperCard(
            _l("This code is a till receipt's, not a paper card's: the shopper answers it.")
        )
    if receipt.answered_at is not None:
        raise CardAnswered(_l("This card has been answered already (keyed in, or online)."))
    if receipt.expires_at <= now:
        raise CardExpired(_l("This card has expired: its answers can no longer be recorded."))
    return receipt


def draw_for_check(percent: int, rng: random.Random) -> bool:
    """Whether a newly keyed card is drawn for a second keying: with ``percent`` % chance."""
    return rng.random() * 100 < percent


def enter_card(
    session: Session,
    settings: Settings,
    *,
    receipt: Receipt,
    answers: Answers,
    user: User,
    now: datetime,
    locale: str,
    rng: random.Random | None = None,
    open_case: bool = True,
) -> PaperEntry:
    """Store the answers keyed in from a paper card: a response of channel "paper" to the
    card's receipt (its own survey version; rollups, custom answers and the case an unhappy
    card calls for, as for any answer), a `PaperEntry` naming ``user``, drawn for a second
    keying with ``settings.paper_check_percent`` % chance (``rng``: the random source, the
    system's by default), and an audit entry.

    ``answers`` are validated against the card's version by the caller (the entry form);
    ``locale`` is the language of the card's side the customer filled in (its consent
    sentence is the one stored with contact details). ``open_case=False`` leaves the
    follow-up case to the caller (the demo plays every case's life itself).

    Raises
    ------
    CardAnswered
        The card has a response already (two people keying the same card at once: the
        unique receipt of responses lets one through).
    """
    try:
        response = record_response(
            session,
            settings=settings,
            receipt=receipt,
            definition=definition_of(receipt.survey_version),
            answers=answers,
            locale=locale,
            now=now,
            channel=Channel.PAPER,
            entered_by_user_id=user.id,
            open_case=open_case,
        )
    except AlreadyAnswered:
        raise CardAnswered(
            _l("This card has been answered already (keyed in, or online).")
        ) from None
    drawn = draw_for_check(settings.paper_check_percent, rng or _SYSTEM_RANDOM)
    entry = PaperEntry(
        response_id=response.id,
        entered_by_user_id=user.id,
        entered_at=now,
        check_state=PaperCheck.PENDING.value if drawn else None,
    )
    session.add(entry)
    record_audit(
        session,
        Actor.of_user(user),
        "paper.card_entered",
        "response",
        response.id,
        now,
        short_code=format_short_code(receipt.short_code),
        store_code=receipt.store.code,
        drawn_for_check=drawn,
    )
    session.flush()
    return entry
