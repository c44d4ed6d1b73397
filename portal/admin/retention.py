"""Retention and erasure of shoppers' personal data (PIPL: retention, erasure).

`purge` deletes what is past its retention: contact details (the consented
`ResponseContact` rows, the copies on cases, the mail and text messages sent to or about
customers) after
``PORTAL_CONTACT_RETENTION_DAYS`` and shoppers' texts (response comments, the texts typed
into custom questions and their "other" boxes, case summaries, case notes and resolution
notes, which quote or describe the customer) after
``PORTAL_COMMENT_RETENTION_DAYS``. `erase_customer` deletes one customer's contact details
and texts at once, found by receipt short code, phone or e-mail.

Scores, categories, receipts, cases (their states and times) and the rollups stay (an
answer whose text is cleared keeps its row: it still counts as answered): every
figure the dashboards, rankings and awards show is unchanged. Mystery reports are staff
data and are not touched. On SQLite the connection runs with ``secure_delete`` (see
`portal.db`), so deleted values are overwritten in the file; `compact_database` then
empties the write-ahead log. Like every operation these only flush; the caller commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Connection, Engine, delete, or_, select, update
from sqlalchemy.orm import Session

from portal.audit import Actor, record_audit
from portal.errors import DomainError
from portal.models import (
    Case,
    CaseEvent,
    OutboxMessage,
    PhoneVisit,
    Receipt,
    Response,
    ResponseAnswer,
    ResponseContact,
    SmsMessage,
)
from surveys.codes import InvalidCode, normalize_short_code

PURGED = "retention.purge"
ERASED = "customer.erase"


@dataclass(frozen=True, slots=True)
class Removed:
    """How many rows lost personal data (never the data itself)."""

    contacts: int = 0
    case_contacts: int = 0
    comments: int = 0
    case_texts: int = 0
    notes: int = 0
    mails: int = 0
    #: Answers to custom questions (text, or the text beside "other") whose text went.
    answer_texts: int = 0
    #: Text messages to customers (their numbers and the links they carried).
    texts: int = 0

    @property
    def total(self) -> int:
        return (
            self.contacts
            + self.case_contacts
            + self.comments
            + self.case_texts
            + self.notes
            + self.mails
            + self.answer_texts
            + self.texts
        )

    def as_details(self) -> dict[str, int]:
        return {
            "contacts": self.contacts,
            "case_contacts": self.case_contacts,
            "comments": self.comments,
            "case_texts": self.case_texts,
            "notes": self.notes,
            "mails": self.mails,
            "answer_texts": self.answer_texts,
            "texts": self.texts,
        }


class NoSuchCustomer(DomainError):
    """An erasure request that names nothing the portal holds."""


def purge_expired(
    session: Session,
    actor: Actor,
    *,
    contact_days: int,
    comment_days: int,
    now: datetime,
) -> Removed:
    """Delete contact details older than ``contact_days`` and comments older than
    ``comment_days``; record one audit entry with the counts."""
    contact_cutoff = now - timedelta(days=contact_days)
    comment_cutoff = now - timedelta(days=comment_days)
    contacts = _count(
        session.execute(
            delete(ResponseContact).where(ResponseContact.consented_at < contact_cutoff)
        )
    )
    case_contacts = _count(
        session.execute(
            update(Case)
            .where(Case.opened_at < contact_cutoff, _has_contact())
            .values(contact_name=None, contact_phone=None, contact_email=None)
            .execution_options(synchronize_session=False)
        )
    )
    mails = _count(
        session.execute(delete(OutboxMessage).where(OutboxMessage.created_at < contact_cutoff))
    )
    # The opt-outs stay: they are how the customer's "no more texts" keeps being honoured.
    texts = _count(
        session.execute(delete(SmsMessage).where(SmsMessage.created_at < contact_cutoff))
    )
    # The comments' themes and sentiment (comment_themes) stay, as the scores do: they
    # name nobody, and reclassify-comments passes over answers without a comment.
    comments = _count(
        session.execute(
            update(Response)
            .where(Response.submitted_at < comment_cutoff, Response.comment.is_not(None))
            .values(comment=None)
            .execution_options(synchronize_session=False)
        )
    )
    answer_texts = _clear_answer_texts(
        session, select(Response.id).where(Response.submitted_at < comment_cutoff)
    )
    old_cases = select(Case.id).where(Case.opened_at < comment_cutoff)
    case_texts, notes = _clear_case_texts(session, old_cases)
    removed = Removed(
        contacts, case_contacts, comments, case_texts, notes, mails, answer_texts, texts
    )
    record_audit(
        session,
        actor,
        PURGED,
        "retention",
        "-",
        now,
        contact_days=contact_days,
        comment_days=comment_days,
        **removed.as_details(),
    )
    session.flush()
    session.expire_all()
    return removed


def erase_customer(
    session: Session,
    actor: Actor,
    *,
    code: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    now: datetime,
) -> Removed:
    """Delete one customer's contact details and comments (with the texts of their custom
    answers) everywhere.

    The customer is found by the short code of a receipt they answered, or by a phone
    number (compared digit by digit, a +86/0086 prefix ignored) or an e-mail address
    (case-insensitive) they left. The audit entry says how the request named the customer
    and how much was deleted, never the values.

    Raises
    ------
    NoSuchCustomer
        Nothing the portal holds matches; nothing is written.
    """
    given = [name for name, value in (("code", code), ("phone", phone), ("email", email)) if value]
    if len(given) != 1:
        raise NoSuchCustomer(_l("Name the customer by one receipt code, phone or e-mail."))
    response_ids: set[int] = set()
    case_ids: set[int] = set()
    mail_to: set[str] = set()
    text_to: set[str] = set()
    if code:
        try:
            short_code = normalize_short_code(code)
        except InvalidCode:
            raise NoSuchCustomer(_l("This receipt code is not valid.")) from None
        response_ids |= set(
            session.scalars(
                select(Response.id)
                .join(Receipt, Receipt.id == Response.receipt_id)
                .where(Receipt.short_code == short_code)
            )
        )
    if phone:
        found = _found_by_phone(session, phone)
        response_ids, case_ids, text_to = found.response_ids, found.case_ids, found.numbers
    if email:
        wanted_mail = email.strip().lower()
        response_ids |= set(
            session.scalars(
                select(ResponseContact.response_id).where(
                    ResponseContact.email.is_not(None),
                    ResponseContact.email.ilike(_like_literal(wanted_mail), escape="\\"),
                )
            )
        )
        case_ids |= set(
            session.scalars(
                select(Case.id).where(
                    Case.contact_email.is_not(None),
                    Case.contact_email.ilike(_like_literal(wanted_mail), escape="\\"),
                )
            )
        )
        mail_to.add(wanted_mail)
    # The contact rows of the responses found carry the customer's other details too.
    if response_ids:
        case_ids |= set(session.scalars(select(Case.id).where(Case.response_id.in_(response_ids))))
        for contact_email in session.scalars(
            select(ResponseContact.email).where(
                ResponseContact.response_id.in_(response_ids), ResponseContact.email.is_not(None)
            )
        ):
            mail_to.add((contact_email or "").lower())
    if case_ids:
        for contact_email in session.scalars(
            select(Case.contact_email).where(Case.id.in_(case_ids), Case.contact_email.is_not(None))
        ):
            mail_to.add((contact_email or "").lower())
    mail_to.discard("")
    if not response_ids and not case_ids and not text_to:
        raise NoSuchCustomer(_l("No receipt, contact or case matches this customer."))
    removed = _erase(session, response_ids, case_ids, mail_to)
    removed = replace(removed, texts=_erase_texts(session, case_ids, text_to))
    record_audit(
        session, actor, ERASED, "customer", "-", now, named_by=given[0], **removed.as_details()
    )
    session.flush()
    session.expire_all()
    return removed


def _erase(
    session: Session, response_ids: set[int], case_ids: set[int], mail_to: set[str]
) -> Removed:
    contacts = comments = case_contacts = case_texts = notes = mails = answer_texts = 0
    if response_ids:
        answer_texts = _clear_answer_texts(session, response_ids)
        contacts = _count(
            session.execute(
                delete(ResponseContact).where(ResponseContact.response_id.in_(response_ids))
            )
        )
        comments = _count(
            session.execute(
                update(Response)
                .where(Response.id.in_(response_ids), Response.comment.is_not(None))
                .values(comment=None)
                .execution_options(synchronize_session=False)
            )
        )
    if case_ids:
        case_contacts = _count(
            session.execute(
                update(Case)
                .where(Case.id.in_(case_ids), _has_contact())
                .values(contact_name=None, contact_phone=None, contact_email=None)
                .execution_options(synchronize_session=False)
            )
        )
        case_texts, notes = _clear_case_texts(session, case_ids)
    conditions = []
    if case_ids:
        conditions.append(OutboxMessage.case_id.in_(case_ids))
    for address in mail_to:
        conditions.append(OutboxMessage.to.ilike(_like_literal(address), escape="\\"))
    if conditions:
        mails = _count(session.execute(delete(OutboxMessage).where(or_(*conditions))))
    return Removed(contacts, case_contacts, comments, case_texts, notes, mails, answer_texts)


@dataclass(frozen=True, slots=True)
class _ByPhone:
    response_ids: set[int]
    case_ids: set[int]
    #: Text message numbers (E.164) that are this phone.
    numbers: set[str]


def _found_by_phone(session: Session, phone: str) -> _ByPhone:
    """What holds ``phone``, compared digit by digit (`phone_key`).

    Raises
    ------
    NoSuchCustomer
        ``phone`` has no digits.
    """
    wanted = phone_key(phone)
    if not wanted:
        raise NoSuchCustomer(_l("This phone number is not valid."))
    rows = session.execute(
        select(ResponseContact.response_id, ResponseContact.phone).where(
            ResponseContact.phone.is_not(None)
        )
    )
    cases = session.execute(
        select(Case.id, Case.contact_phone).where(Case.contact_phone.is_not(None))
    )
    numbers = session.scalars(select(SmsMessage.to_number).distinct())
    return _ByPhone(
        {rid for rid, value in rows if phone_key(value) == wanted},
        {cid for cid, value in cases if phone_key(value) == wanted},
        {number for number in numbers if phone_key(number) == wanted},
    )


def _erase_texts(session: Session, case_ids: set[int], numbers: set[str]) -> int:
    """Delete the text messages of the cases and to the numbers (the opt-outs stay)."""
    conditions = []
    if case_ids:
        conditions.append(SmsMessage.case_id.in_(case_ids))
    if numbers:
        conditions.append(SmsMessage.to_number.in_(numbers))
    if not conditions:
        return 0
    return _count(session.execute(delete(SmsMessage).where(or_(*conditions))))


def _clear_answer_texts(session: Session, response_ids: Any) -> int:
    """Empty the texts of the custom answers of ``response_ids`` (a set or a SELECT of ids):
    what a shopper typed can quote them or name others, like a comment. The rows stay, so
    the question's counts and the choice "other" are unchanged. The notes of return calls
    about those answers go too: a manager's note of a call can name the customer."""
    answers = session.execute(
        update(ResponseAnswer)
        .where(ResponseAnswer.response_id.in_(response_ids), ResponseAnswer.text.is_not(None))
        .values(text=None)
        .execution_options(synchronize_session=False)
    )
    return _count(answers) + _clear_call_notes(
        session, PhoneVisit.about_response_id.in_(response_ids)
    )


def _clear_call_notes(session: Session, which: ColumnElement[bool]) -> int:
    return _count(
        session.execute(
            update(PhoneVisit)
            .where(which, PhoneVisit.note.is_not(None), PhoneVisit.note != "")
            .values(note=None)
            .execution_options(synchronize_session=False)
        )
    )


def phone_key(phone: str) -> str:
    """A phone number's digits, without a +86/0086/86 prefix before a Chinese mobile."""
    digits = "".join(char for char in phone if char.isdigit() and char.isascii())
    match = re.fullmatch(r"(?:0086|86)(1[3-9]\d{9})", digits)
    return match.group(1) if match else digits


def compact_database(engine: Engine | Connection, *, vacuum: bool = False) -> None:
    """After a purge on SQLite: copy the write-ahead log into the file and empty it (it
    may still hold pages written before the purge); ``vacuum`` also rebuilds the file.

    ``secure_delete`` has already overwritten the deleted values in the file itself.
    """
    if engine.dialect.name != "sqlite" or not isinstance(engine, Engine):
        return  # (tests bind the app to a connection they roll back)
    raw = engine.raw_connection()
    try:
        # The connection is in autocommit (see portal.db): VACUUM needs no transaction.
        driver = raw.driver_connection
        assert driver is not None
        driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        if vacuum:
            driver.execute("VACUUM")
            driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()


def _has_contact() -> ColumnElement[bool]:
    return or_(
        Case.contact_name.is_not(None),
        Case.contact_phone.is_not(None),
        Case.contact_email.is_not(None),
    )


def _like_literal(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _clear_case_texts(session: Session, case_ids: Any) -> tuple[int, int]:
    """Empty the texts of the cases ``case_ids`` (a list or a SELECT of ids): summaries and
    resolution notes, and the notes on their timelines and of their return calls; how many
    cases and notes changed."""
    texts = session.execute(
        update(Case)
        .where(Case.id.in_(case_ids), or_(Case.summary != "", Case.resolution_note.is_not(None)))
        .values(summary="", resolution_note=None)
        .execution_options(synchronize_session=False)
    )
    notes = session.execute(
        update(CaseEvent)
        .where(CaseEvent.case_id.in_(case_ids), CaseEvent.note != "")
        .values(note="")
        .execution_options(synchronize_session=False)
    )
    calls = _clear_call_notes(session, PhoneVisit.case_id.in_(case_ids))
    return _count(texts), _count(notes) + calls


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
