"""Storing the answers a tablet took: each once (its client id), checked against the
survey version it answered, tied to a receipt when the shopper typed its code, limited
per tablet, and screened for ballot stuffing as one device.

`sync_answers` stores a batch of queued answers, each in a savepoint of its own, and says
for each whether it was stored, was stored before, or was refused and why; the tablet's
page without JavaScript stores its one answer through `record_kiosk_answer` likewise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypedDict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.ballot.origin import SubmitOrigin, origin_of
from portal.config import Settings
from portal.kiosk.devices import record_kiosk_seen
from portal.kiosk.refusals import (
    CODE_FIELD,
    AnswerRefused,
    Refusal,
    answer_errors,
    refusal,
    too_many,
    too_old,
)
from portal.kiosk.schemas import QueuedAnswer, UnreadableAnswer
from portal.models import Channel, Kiosk, Receipt, Response, SurveyVersion
from portal.receipts import find_receipt_by_short_code
from portal.shopper.operations import AlreadyAnswered, AlreadyStored, record_response
from portal.shopper.operations import record_receiptless_response as record_receiptless
from portal.versions import definition_of
from surveys.answers import Answers, validate_answers
from surveys.codes import InvalidCode, normalize_short_code
from surveys.definitions import SurveyDefinition

#: A queued answer older than this is refused: a tablet offline for longer than a week is
#: broken or tampered with, and its answers say nothing about the store any more.
MAX_AGE = timedelta(days=7)
#: Tablets' clocks drift: an answer this much "in the future" is still believed.
CLOCK_SKEW = timedelta(minutes=5)


class ItemStatus(StrEnum):
    STORED = "stored"
    #: Stored by an earlier sync (its reply was lost): nothing new was stored.
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class ItemResult:
    """What became of one queued answer."""

    client_id: str | None
    status: ItemStatus
    reasons: tuple[Refusal, ...] = ()


def kiosk_origin(secret_key: str, kiosk_id: int) -> SubmitOrigin:
    """The tablet as the ballot-stuffing rules see it: one device, keyed from its id (its
    network address says nothing: it syncs later, from the store's shared connection)."""
    return origin_of(secret_key, f"kiosk:{kiosk_id}", "kiosk")


def _check_time(item: QueuedAnswer, now: datetime) -> None:
    if item.answered_at > now + CLOCK_SKEW:
        raise AnswerRefused(refusal("future"))
    if item.answered_at < now - MAX_AGE:
        raise AnswerRefused(too_old(MAX_AGE.days))


def _check_rate(session: Session, settings: Settings, kiosk: Kiosk, item: QueuedAnswer) -> None:
    """No more than ``kiosk_max_answers`` of one tablet within any ``kiosk_window_minutes``:
    counted on both sides of this answer's time, as a queue may arrive out of order."""
    window = timedelta(minutes=settings.kiosk_window_minutes)
    stored = session.scalar(
        select(func.count()).where(
            Response.kiosk_id == kiosk.id,
            Response.submitted_at > item.answered_at - window,
            Response.submitted_at < item.answered_at + window,
        )
    )
    if (stored or 0) >= settings.kiosk_max_answers:
        raise AnswerRefused(too_many(settings.kiosk_max_answers, settings.kiosk_window_minutes))


def _validated(definition: SurveyDefinition, item: QueuedAnswer, store_format: str) -> Answers:
    result = validate_answers(definition, item.values, store_format)
    if isinstance(result, list):
        raise AnswerRefused(*answer_errors(result))
    return result


def _receipt(session: Session, kiosk: Kiosk, item: QueuedAnswer) -> Receipt:
    """The receipt whose code the shopper typed, when it can still be answered then."""
    try:
        code = normalize_short_code(item.receipt_code)
    except InvalidCode:
        raise AnswerRefused(refusal("bad_code", CODE_FIELD)) from None
    receipt = find_receipt_by_short_code(session, code)
    if receipt is None:
        raise AnswerRefused(refusal("no_receipt", CODE_FIELD))
    if receipt.store_id != kiosk.store_id:
        raise AnswerRefused(refusal("other_store", CODE_FIELD))
    if receipt.answered_at is not None:
        raise AnswerRefused(refusal("already_answered", CODE_FIELD))
    if receipt.expires_at < item.answered_at:
        raise AnswerRefused(refusal("receipt_closed", CODE_FIELD))
    if receipt.created_at > item.answered_at + CLOCK_SKEW:
        raise AnswerRefused(refusal("before_receipt", CODE_FIELD))
    return receipt


def _is_stored(session: Session, kiosk: Kiosk, client_id: str) -> bool:
    stmt = select(Response.id).where(Response.kiosk_id == kiosk.id, Response.client_id == client_id)
    return session.scalar(stmt) is not None


def record_kiosk_answer(
    session: Session, settings: Settings, kiosk: Kiosk, item: QueuedAnswer, now: datetime
) -> Response:
    """Store one answer the tablet took (channel ``kiosk``), dated when it was given.

    With a typed receipt code, the answer is the receipt's (its cashier, its survey
    version: the answers are checked against that version); without, it is the store's,
    checked against the version the tablet showed. Either way it is counted, followed up
    and screened for ballot stuffing (`kiosk_origin`) like a shopper's own answer.

    Raises
    ------
    AlreadyStored
        The tablet sent this answer (its client id) before.
    AnswerRefused
        Dated in the future or over `MAX_AGE` ago, over the tablet's rate, an unknown
        survey version, answers the version does not accept, or a typed code that names
        no receipt of this store that can still be answered.
    """
    if _is_stored(session, kiosk, item.client_id):
        raise AlreadyStored()
    _check_time(item, now)
    _check_rate(session, settings, kiosk, item)
    store = kiosk.store
    if item.receipt_code:
        receipt = _receipt(session, kiosk, item)
        definition = definition_of(receipt.survey_version)
        version_id = receipt.survey_version_id
    else:
        version = session.get(SurveyVersion, item.version_id)
        if version is None or version.survey_id is None:
            raise AnswerRefused(refusal("unknown_version"))
        definition, version_id, receipt = definition_of(version), version.id, None
    answers = _validated(definition, item, store.format)
    common = _Common(
        settings=settings,
        definition=definition,
        answers=answers,
        locale=item.locale,
        now=item.answered_at,
        channel=Channel.KIOSK,
        kiosk_id=kiosk.id,
        client_id=item.client_id,
        origin=kiosk_origin(settings.secret_key, kiosk.id),
    )
    if receipt is None:
        version = session.get_one(SurveyVersion, version_id)
        return record_receiptless(session, store=store, version=version, **common)
    try:
        return record_response(session, receipt=receipt, **common)
    except AlreadyAnswered:
        # The unique keys decided between two simultaneous inserts: the receipt's, or this
        # very answer sent twice at once.
        if _is_stored(session, kiosk, item.client_id):
            raise AlreadyStored() from None
        raise AnswerRefused(refusal("already_answered", CODE_FIELD)) from None


class _Common(TypedDict):
    """What both ways of storing an answer are given alike."""

    settings: Settings
    definition: SurveyDefinition
    answers: Answers
    locale: str
    now: datetime
    channel: Channel
    kiosk_id: int
    client_id: str
    origin: SubmitOrigin


def sync_answers(
    session: Session,
    settings: Settings,
    kiosk: Kiosk,
    items: Sequence[QueuedAnswer | UnreadableAnswer],
    now: datetime,
) -> list[ItemResult]:
    """Store a tablet's queued answers, each in a savepoint of its own (one refused answer
    leaves the others stored), and stamp the tablet as seen. Returns one result per item,
    in order. Flushes, never commits."""
    if session.get_bind().dialect.name == "postgresql":
        # One sync of a tablet at a time: its rate limit counts what the others stored.
        session.execute(select(Kiosk.id).where(Kiosk.id == kiosk.id).with_for_update())
    results = [_sync_one(session, settings, kiosk, item, now) for item in items]
    record_kiosk_seen(session, kiosk, now)
    return results


def _sync_one(
    session: Session,
    settings: Settings,
    kiosk: Kiosk,
    item: QueuedAnswer | UnreadableAnswer,
    now: datetime,
) -> ItemResult:
    if isinstance(item, UnreadableAnswer):
        return ItemResult(item.client_id, ItemStatus.REJECTED, (refusal("unreadable"),))
    try:
        with session.begin_nested():
            record_kiosk_answer(session, settings, kiosk, item, now)
    except AlreadyStored:
        return ItemResult(item.client_id, ItemStatus.DUPLICATE)
    except AnswerRefused as refused:
        return ItemResult(item.client_id, ItemStatus.REJECTED, refused.reasons)
    return ItemResult(item.client_id, ItemStatus.STORED)
