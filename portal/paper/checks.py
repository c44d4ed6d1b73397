"""The second keying of a sample of paper cards: someone other than the first keyer keys the
card again without seeing the first answers; the portal compares the two. A mismatch waits
for a manager other than the first keyer to say which keying stands; choosing the second
corrects the stored response (`portal.paper.corrections`).

`PaperEntry.check_state` goes ``pending`` -> ``matched`` or ``mismatched``; the decision on
a mismatch is written into its ``differences`` (each differing field gets ``"kept"``), so
"needs a decision" is a mismatch whose differences have no ``"kept"`` yet.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.access import visible_store_ids
from portal.audit import Actor, record_audit
from portal.config import Settings
from portal.errors import Conflict, DomainError, NotFound
from portal.models import PaperCheck, PaperEntry, Receipt, Response, User
from portal.paper.corrections import correct_response
from portal.paper.keyings import answers_of, as_raw, differences, keyed_values
from portal.versions import definition_of
from surveys.answers import Answers, validate_answers
from surveys.codes import format_short_code


class Keeping(StrEnum):
    """Which keying of a mismatched card stands."""

    FIRST = "first"
    SECOND = "second"


class OwnEntry(DomainError):
    """The first keyer may neither check nor decide their own card."""

    status = 403
    code = "own_paper_entry"


class CheckDone(Conflict):
    code = "paper_check_done"


class UnknownCheck(NotFound):
    code = "unknown_paper_check"


def get_checked_card(
    session: Session, user: User, response_id: int, *, lock: bool = False
) -> tuple[PaperEntry, Response, Receipt]:
    """A keyed card drawn for a check, of a store ``user`` looks after (``lock``: its entry
    row locked for the decision, on PostgreSQL).

    Raises
    ------
    UnknownCheck
        No such card was drawn for a check, or it is of a store ``user`` does not see.
    """
    stmt = (
        select(PaperEntry, Response, Receipt)
        .join(Response, Response.id == PaperEntry.response_id)
        .join(Receipt, Receipt.id == Response.receipt_id)
        .where(
            PaperEntry.response_id == response_id,
            PaperEntry.check_state.is_not(None),
            Response.store_id.in_(visible_store_ids(user).scalar_subquery()),
        )
    )
    if lock:
        stmt = stmt.with_for_update(of=PaperEntry)
    row = session.execute(stmt).first()
    if row is None:
        raise UnknownCheck(_l("No card drawn for a check has this number in your stores."))
    return row[0], row[1], row[2]


def refuse_own_entry(entry: PaperEntry, user: User) -> None:
    """The one rule: whoever keyed a card in checks nothing about it.

    Raises
    ------
    OwnEntry
    """
    if entry.entered_by_user_id == user.id:
        raise OwnEntry(
            _l("You keyed in this card yourself: someone else must check it and decide on it.")
        )


def check_card(
    session: Session,
    *,
    entry: PaperEntry,
    response: Response,
    receipt: Receipt,
    answers: Answers,
    user: User,
    now: datetime,
) -> PaperEntry:
    """Record a second, blind keying of a card drawn for a check: matched when every
    answer is the same as the stored one, else mismatched with the differing fields (both
    values) in ``differences``. The stored response is not changed.

    Raises
    ------
    OwnEntry
        ``user`` keyed in the card.
    CheckDone
        The card was checked already (perhaps a moment ago, by someone else).
    """
    refuse_own_entry(entry, user)
    definition = definition_of(receipt.survey_version)
    found = differences(keyed_values(answers_of(response, definition)), keyed_values(answers))
    state = PaperCheck.MISMATCHED if found else PaperCheck.MATCHED
    # Only a pending check is written: of two people checking the same card at once, the
    # second matches no row and is told it is done.
    done = session.execute(
        update(PaperEntry)
        .where(
            PaperEntry.response_id == entry.response_id,
            PaperEntry.check_state == PaperCheck.PENDING.value,
        )
        .values(
            check_state=state.value,
            checked_by_user_id=user.id,
            checked_at=now,
            differences=found or None,
        )
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise CheckDone(_l("This card has been checked already."))
    session.refresh(entry)
    record_audit(
        session,
        Actor.of_user(user),
        "paper.card_checked",
        "response",
        response.id,
        now,
        short_code=format_short_code(receipt.short_code),
        check=state.value,
        fields=sorted(found),
    )
    return entry


def needs_decision(entry: PaperEntry) -> bool:
    """A mismatch on which no one has decided yet."""
    return entry.check_state == PaperCheck.MISMATCHED.value and not _decided(entry.differences)


def _decided(found: dict[str, Any] | None) -> bool:
    return bool(found) and all("kept" in both for both in (found or {}).values())


def decide_check(
    session: Session,
    settings: Settings,
    *,
    entry: PaperEntry,
    response: Response,
    receipt: Receipt,
    keep: Keeping,
    user: User,
    now: datetime,
) -> PaperEntry:
    """Say which keying of a mismatched card stands. Keeping the second corrects the
    stored response, its custom answers, its contact details and every count made of it
    (`portal.paper.corrections.correct_response`); keeping the first changes no answer.
    The choice is recorded in ``differences`` and in the audit log.

    ``entry`` should be read with ``lock=True`` (`get_checked_card`), so that two
    decisions at once are taken one after the other.

    Raises
    ------
    OwnEntry
        ``user`` keyed in the card.
    CheckDone
        The card matched, or a decision was made already.
    """
    refuse_own_entry(entry, user)
    if not needs_decision(entry):
        raise CheckDone(_l("There is nothing to decide on this card any more."))
    found = entry.differences or {}
    if keep is Keeping.SECOND:
        definition = definition_of(receipt.survey_version)
        values = keyed_values(answers_of(response, definition))
        values |= {key: both["second"] for key, both in found.items()}
        result = validate_answers(definition, as_raw(values), receipt.store.format)
        if isinstance(result, list):
            # Both keyings passed the rules on their own; mixing them cannot, since every
            # field that differs takes the second keying's value. Kept as a guard.
            raise CheckDone(_l("The second keying cannot be applied; keep the first."))
        correct_response(session, settings, response, result, definition, now=now)
    # A new dict: the JSON column notices a replaced value, not an edited one.
    entry.differences = {key: {**both, "kept": keep.value} for key, both in found.items()}
    record_audit(
        session,
        Actor.of_user(user),
        "paper.check_decided",
        "response",
        response.id,
        now,
        short_code=format_short_code(receipt.short_code),
        kept=keep.value,
    )
    session.flush()
    return entry
