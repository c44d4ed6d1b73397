"""Sending queued text messages through the configured provider, one message per
transaction: `deliver_sms` sends one and records the outcome on its row; `deliver_pending_sms`
(the ``send-sms`` command, for cron) sends every message that is due; the case page sends
the message it just wrote at once, after its commit.

Outcomes: taken by the provider -> ``sent`` with its id; refused for good (an invalid
number) -> ``failed`` with the provider's error; opted out at the provider -> ``opted_out``
and the number recorded as opted out; not taken now (network, 429, 5xx) -> still queued,
tried again after a growing wait (5, 10, 20, 40 minutes...), ``failed`` after
``PORTAL_SMS_MAX_ATTEMPTS`` tries. With the ``outbox`` provider nothing is sent: messages
stay queued and the text message page shows them.

A message whose provider call timed out may have been taken: tried again, it can arrive
twice. The per-number limit bounds that; providers offer no idempotency key to prevent it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.config import Settings
from portal.db import utcnow
from portal.models import SmsMessage, SmsStatus
from portal.sms.operations import opt_out_number, sms_refusal
from portal.sms.providers import (
    OutgoingSms,
    RecipientOptedOut,
    Refused,
    SmsSender,
    TryLater,
    sender_for,
)

#: Where Twilio reports delivery (`portal.sms.webhooks`).
TWILIO_STATUS_PATH = "/sms/status/twilio"
#: The first wait after a failed try; each further try waits twice as long, at most a day.
FIRST_RETRY = timedelta(minutes=5)
LONGEST_RETRY = timedelta(hours=24)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th try failed for now: 5 min, 10, 20, 40..."""
    wait: timedelta = FIRST_RETRY * 2 ** max(attempts - 1, 0)
    return min(wait, LONGEST_RETRY)


def list_due_sms(session: Session, now: datetime, *, limit: int = 200) -> list[int]:
    """Ids of the queued messages whose (next) try is due, oldest first."""
    return list(
        session.scalars(
            select(SmsMessage.id)
            .where(
                SmsMessage.status == SmsStatus.QUEUED,
                or_(SmsMessage.next_attempt_at.is_(None), SmsMessage.next_attempt_at <= now),
            )
            .order_by(SmsMessage.id)
            .limit(limit)
        )
    )


def status_callback(settings: Settings, sender: SmsSender) -> str | None:
    """The delivery report URL to give the provider."""
    return f"{settings.base_url}{TWILIO_STATUS_PATH}" if sender.name == "twilio" else None


def deliver_sms(
    session: Session,
    settings: Settings,
    message_id: int,
    *,
    now: datetime,
    sender: SmsSender | None,
) -> str | None:
    """Send one queued message that is due, and record the outcome on its row.

    Asks `sms_refusal` again first (the number may have opted out since it was written).
    Returns the message's status afterwards, or None when there is no sender (outbox), or
    the message is not due, not queued or being sent by another run. The caller commits
    right after, so a message sent is never sent again because a later one failed.
    """
    if sender is None:
        return None
    message = session.scalar(
        select(SmsMessage)
        .where(
            SmsMessage.id == message_id,
            SmsMessage.status == SmsStatus.QUEUED,
            or_(SmsMessage.next_attempt_at.is_(None), SmsMessage.next_attempt_at <= now),
        )
        # PostgreSQL: two runs at once never take the same message (SQLite has one writer).
        .with_for_update(skip_locked=True)
    )
    if message is None:
        return None
    refusal = sms_refusal(session, settings, message.to_number, now, before_id=message.id)
    if refusal is not None:
        _finish(message, refusal, now)
    else:
        _try(session, settings, message, sender, now)
    session.flush()
    return message.status


def _try(
    session: Session, settings: Settings, message: SmsMessage, sender: SmsSender, now: datetime
) -> None:
    message.attempts += 1
    message.provider = sender.name
    outgoing = OutgoingSms(message.to_number, message.body, status_callback(settings, sender))
    try:
        accepted = sender.send(outgoing)
    except RecipientOptedOut as error:
        # The customer replied STOP to the provider: honour it for every later message too.
        opt_out_number(session, message.to_number, "STOP", now)
        _finish(message, SmsStatus.OPTED_OUT, now, error=str(error))
    except Refused as error:
        _finish(message, SmsStatus.FAILED, now, error=str(error))
    except TryLater as error:
        if message.attempts >= settings.sms_max_attempts:
            _finish(message, SmsStatus.FAILED, now, error=str(error))
        else:
            wait = max(retry_delay(message.attempts), timedelta(seconds=error.retry_after))
            message.next_attempt_at, message.error = now + wait, str(error)[:2000]
    else:
        message.status, message.provider_message_id = SmsStatus.SENT, accepted.provider_message_id
        message.sent_at = message.status_at = now
        message.next_attempt_at, message.error = None, None


def _finish(message: SmsMessage, status: str, now: datetime, *, error: str | None = None) -> None:
    message.status, message.status_at, message.next_attempt_at = status, now, None
    if error is not None:
        message.error = error[:2000]


@dataclass(frozen=True, slots=True)
class SmsRun:
    """What one run of the sender did."""

    sent: int = 0
    failed: int = 0
    retrying: int = 0
    #: Opted out or over the limit since they were written.
    withheld: int = 0


Transaction = Callable[[], AbstractContextManager[Session]]


def deliver_pending_sms(
    transaction: Transaction,
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    sender: SmsSender | None = None,
) -> SmsRun:
    """Send every due message, each in a transaction of its own from ``transaction()``
    (committed when its block ends), so a failure or the job being killed never re-sends
    the ones already sent. ``sender`` defaults to the configured one; with the outbox
    nothing is sent."""
    sender = sender or sender_for(settings)
    if sender is None:
        return SmsRun()
    with transaction() as session:
        pending = list_due_sms(session, clock())
    counts = dict.fromkeys(("sent", "failed", "retrying", "withheld"), 0)
    for message_id in pending:
        with transaction() as session:
            status = deliver_sms(session, settings, message_id, now=clock(), sender=sender)
        if status == SmsStatus.SENT:
            counts["sent"] += 1
        elif status == SmsStatus.FAILED:
            counts["failed"] += 1
        elif status == SmsStatus.QUEUED:
            counts["retrying"] += 1
        elif status is not None:
            counts["withheld"] += 1
    return SmsRun(**counts)
