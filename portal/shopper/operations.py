"""Recording a shopper's response: one per receipt, with everything it implies, in the
caller's single transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from portal.audit import Actor, insert_audit
from portal.ballot.origin import SubmitOrigin
from portal.ballot.rules import kiosk_rules_of, rules_of
from portal.ballot.screening import screen_response
from portal.calendar import local_day
from portal.cases.operations import open_case_for_response
from portal.config import Settings
from portal.db import insert_now
from portal.errors import DomainError
from portal.models import (
    RECEIPTLESS_CHANNELS,
    Channel,
    Receipt,
    Response,
    ResponseContact,
    Store,
    SurveyVersion,
)
from portal.question_rollups import count_answers, insert_answers
from portal.rollups import count_response
from portal.themes.classify import classify_response
from surveys.answers import Answers
from surveys.definitions import SurveyDefinition

#: The actor of a shopper's own submit (anonymous: only the browser fingerprint is kept).
SHOPPER = Actor(label="shopper")
#: The audit action naming the browser that answered, for showing its code to it again.
SUBMITTED = "response.submitted"


class AlreadyAnswered(DomainError):
    status = 409
    code = "already_answered"


def record_response(
    session: Session,
    *,
    settings: Settings,
    receipt: Receipt,
    definition: SurveyDefinition,
    answers: Answers,
    locale: str,
    now: datetime,
    submitter: str | None = None,
    origin: SubmitOrigin | None = None,
    survey_id: int | None = None,
    channel: Channel = Channel.RECEIPT,
    entered_by_user_id: int | None = None,
    kiosk_id: int | None = None,
    client_id: str | None = None,
    open_case: bool = True,
    timezone: str | None = None,
) -> Response:
    """Store the answers to ``receipt``, mark it answered, count it in the daily rollups and
    open the follow-up case it calls for (an unhappy answer), all in the caller's transaction.

    The response belongs to the survey version the receipt asks (``definition`` is that
    version's: its consent sentence is stored with the contact details). The custom answers
    become ``response_answers`` rows and are counted in ``question_daily_counts``.
    ``channel`` says how it came in: the receipt's QR (the default), its typed code, a
    kiosk where the shopper typed the code (``kiosk_id``, ``client_id``), or a paper card
    keyed in by staff (``entered_by_user_id``). ``open_case=False`` leaves the follow-up
    case to the caller (the demo plays every case's life itself).

    The unique receipt id on responses decides between simultaneous submits: the insert
    runs in a savepoint, and the loser's IntegrityError becomes AlreadyAnswered.
    ``submitter``, a keyed fingerprint of the answering browser's session, is recorded in
    the audit log (``response.submitted``) so that the same browser, retrying a submit
    whose answer it never received, can be shown its validation code again.
    ``origin`` (a shopper's submit through the web) has the answer screened for ballot
    stuffing (`portal.ballot.screening`): a flagged answer is stored and thanked as usual,
    and only held out of rankings and awards until reviewed. ``survey_id``, the survey of
    the receipt's version, saves a read inside the write transaction when the caller has it,
    and so does ``timezone``, the store's (that of ``receipt.store``).

    Raises
    ------
    AlreadyAnswered
        The receipt already has a response.
    """
    if receipt.answered_at is not None:
        raise AlreadyAnswered()
    response = _response(
        answers,
        channel=channel,
        receipt_id=receipt.id,
        survey_version_id=receipt.survey_version_id,
        store_id=receipt.store_id,
        staff_id=receipt.staff_id,
        submitted_at=now,
        local_day=local_day(now, timezone or receipt.store.timezone),
        locale=locale,
        entered_by_user_id=entered_by_user_id,
        kiosk_id=kiosk_id,
        client_id=client_id,
    )
    _insert(session, response, AlreadyAnswered)
    if submitter is not None:
        insert_audit(session, SHOPPER, SUBMITTED, "response", response.id, now, browser=submitter)
    session.connection().execute(_MARK_ANSWERED, {"receipt_id": receipt.id, "now": now})
    set_committed_value(receipt, "answered_at", now)
    _follow_through(
        session,
        settings,
        response,
        receipt=receipt,
        definition=definition,
        answers=answers,
        now=now,
        origin=origin,
        survey_id=survey_id or _survey_id(session, receipt.survey_version_id),
        open_case=open_case,
    )
    return response


class AlreadyStored(DomainError):
    """The kiosk already sent this answer (the same client id): nothing new was stored."""

    status = 409
    code = "already_stored"


def record_receiptless_response(
    session: Session,
    *,
    settings: Settings,
    store: Store,
    version: SurveyVersion,
    definition: SurveyDefinition,
    answers: Answers,
    locale: str,
    now: datetime,
    channel: Channel,
    staff_id: int | None = None,
    entered_by_user_id: int | None = None,
    kiosk_id: int | None = None,
    client_id: str | None = None,
    origin: SubmitOrigin | None = None,
    open_case: bool = True,
) -> Response:
    """Store an answer that no receipt asked: a kiosk answer without a typed code, or a
    phone return visit. Counted, screened and followed up like a receipt's answer.

    ``now`` is when it was answered (a kiosk's queued answer: on the tablet). ``staff_id``
    names a cashier only when a receipt named them (a phone visit about a receipt's answer).
    ``open_case=False`` opens no case however unhappy the answer: a return call made from
    a case is that case's answer, not a new complaint (`portal.phone.operations`).

    Raises
    ------
    AlreadyStored
        The kiosk sent an answer with this ``client_id`` before.
    """
    assert channel in RECEIPTLESS_CHANNELS, "paper and web answers always answer a receipt"
    response = _response(
        answers,
        channel=channel,
        receipt_id=None,
        survey_version_id=version.id,
        store_id=store.id,
        staff_id=staff_id,
        submitted_at=now,
        local_day=local_day(now, store.timezone),
        locale=locale,
        entered_by_user_id=entered_by_user_id,
        kiosk_id=kiosk_id,
        client_id=client_id,
    )
    _insert(session, response, AlreadyStored)
    assert version.survey_id is not None, "answers are to a survey, never to a checklist"
    _follow_through(
        session,
        settings,
        response,
        receipt=None,
        definition=definition,
        answers=answers,
        now=now,
        origin=origin,
        survey_id=version.survey_id,
        open_case=open_case,
    )
    return response


def _response(answers: Answers, **columns: Any) -> Response:
    return Response(
        nps=answers.nps,
        csat=answers.csat,
        problem_reported=answers.problem_reported,
        problem_category=answers.problem_category,
        comment=answers.comment,
        **answers.ratings,
        **columns,
    )


def _insert(session: Session, response: Response, conflict: type[DomainError]) -> None:
    # A savepoint: the loser of two simultaneous inserts (one receipt, or one kiosk answer
    # sent twice) gets ``conflict`` and the caller's transaction stays usable. Inserted at
    # once (`portal.db.insert_now`): the unit of work cost more than the row. The savepoint
    # is the connection's: nothing of the session's is pending in it (and flushing and
    # expiring for the session's own savepoint cost as much as the insert).
    try:
        with session.connection().begin_nested():
            insert_now(session, response)
    except IntegrityError:
        raise conflict() from None


_RECEIPTS: Any = Receipt.__table__
#: Built once (a statement's cache key costs more than building it each time saves).
_MARK_ANSWERED = (
    update(_RECEIPTS)
    .where(_RECEIPTS.c.id == bindparam("receipt_id"))
    .values(answered_at=bindparam("now", type_=_RECEIPTS.c.answered_at.type))
)


def _follow_through(
    session: Session,
    settings: Settings,
    response: Response,
    *,
    receipt: Receipt | None,
    definition: SurveyDefinition,
    answers: Answers,
    now: datetime,
    origin: SubmitOrigin | None,
    survey_id: int,
    open_case: bool = True,
) -> None:
    """Everything a stored answer implies: its contact and custom answers, ballot
    screening, the follow-up case (unless ``open_case`` is false), and its counts."""
    if answers.contact is not None:
        response.contact = ResponseContact(
            phone=answers.contact.phone,
            email=answers.contact.email,
            consent_text=definition.consent.get(response.locale),
            consented_at=now,
        )
    else:
        # Known to have none: the case check reads it, and would query for it.
        set_committed_value(response, "contact", None)
    if answers.custom:
        insert_answers(session, response.id, answers.custom)
    if response.comment:
        classify_response(session, response, now=now, new=True)
    session.flush()
    if origin is not None:
        rules = (
            kiosk_rules_of(settings) if response.channel == Channel.KIOSK else rules_of(settings)
        )
        screen_response(session, response, receipt, origin, rules, now)
    if open_case:
        open_case_for_response(session, settings, response, now=now)
    # Counted last, after everything else is flushed: every submit of a store adds to the
    # same few rollup rows, and on PostgreSQL their row locks hold the store's other
    # submits until this one commits.
    session.flush()
    if answers.custom:
        count_answers(
            session,
            survey_id=survey_id,
            store_id=response.store_id,
            day=response.local_day,
            channel=response.channel,
            answers=answers.custom,
        )
    count_response(session, response, receipt)


def _survey_id(session: Session, version_id: int) -> int:
    # The one column, not the version with its definition document.
    survey_id = session.scalar(
        select(SurveyVersion.survey_id).where(SurveyVersion.id == version_id)
    )
    assert survey_id is not None, "a receipt asks a version of a survey, never a checklist"
    return survey_id
