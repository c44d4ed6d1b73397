"""Sending through the stand-in Twilio: a message the provider takes is ``sent`` with its
id (and the request carried the right fields and basic auth), a permanent error fails it
with the error, a temporary one is retried with backoff until it goes or the tries run out,
an unsubscribed recipient opts the number out, and one number gets at most the day's limit.
"""

from __future__ import annotations

import socket
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.audit import Actor
from portal.db import utcnow
from portal.models import SmsMessage, SmsOptOut, SmsStatus
from portal.sms.delivery import deliver_sms, list_due_sms
from portal.sms.operations import (
    SmsNotPossible,
    queue_sms,
    send_follow_up_by_sms,
    send_return_visit_notice,
)
from portal.sms.providers import sender_for
from portal.sms.text import SmsKind
from tests.portal.sms.standin import (
    ACCOUNT_SID,
    E164,
    FROM_NUMBER,
    basic_auth,
    messages,
)

ACTOR = Actor(label="user:boss@sh.example")


def _deliver(db_session, settings, message, now):
    return deliver_sms(db_session, settings, message.id, now=now, sender=sender_for(settings))


def _notice(db_session, settings, case, now):
    return send_return_visit_notice(db_session, settings, case, actor=ACTOR, now=now)


def test_a_message_the_provider_takes_is_sent_with_its_id(db_session, settings, twilio, make_case):
    case, now = make_case(), utcnow()
    message = send_follow_up_by_sms(db_session, settings, case, actor=ACTOR, now=now)
    assert message.status == SmsStatus.QUEUED and twilio.requests == []

    assert _deliver(db_session, settings, message, now) == SmsStatus.SENT
    (request,) = twilio.requests
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.authorization == basic_auth()
    assert request.form == {
        "To": E164,
        "From": FROM_NUMBER,
        "Body": message.body,
        "StatusCallback": "http://portal.test/sms/status/twilio",
    }
    assert "http://portal.test/s/" in request.form["Body"]
    (row,) = messages(db_session)
    assert row.status == SmsStatus.SENT and row.provider == "twilio"
    assert row.provider_message_id == f"SM{1:032x}"
    assert row.attempts == 1 and row.sent_at is not None and row.error is None


def test_a_messaging_service_sid_is_sent_instead_of_a_number(
    db_session, settings, twilio, make_case
):
    service = "MG" + "ab" * 16
    settings = replace(settings, twilio_from=service)
    message = _notice(db_session, settings, make_case(), utcnow())
    _deliver(db_session, settings, message, utcnow())
    (request,) = twilio.requests
    assert request.form["MessagingServiceSid"] == service and "From" not in request.form


def test_a_permanent_provider_error_fails_the_message_with_the_error(
    db_session, settings, twilio, make_case
):
    twilio.then(400, {"code": 21211, "message": "The 'To' number is not a valid phone number."})
    now = utcnow()
    message = _notice(db_session, settings, make_case(), now)
    assert _deliver(db_session, settings, message, now) == SmsStatus.FAILED
    (row,) = messages(db_session)
    assert row.status == SmsStatus.FAILED and row.attempts == 1
    assert row.error == "twilio 400 21211: The 'To' number is not a valid phone number."
    # Never tried again.
    assert list_due_sms(db_session, now + timedelta(days=1)) == []
    assert len(twilio.requests) == 1


def test_a_temporary_error_is_retried_after_a_wait_and_then_sent(
    db_session, settings, twilio, make_case
):
    twilio.then(503, {"code": 20503, "message": "Service unavailable"})
    now = utcnow()
    message = _notice(db_session, settings, make_case(), now)
    assert _deliver(db_session, settings, message, now) == SmsStatus.QUEUED
    (row,) = messages(db_session)
    assert row.attempts == 1 and row.next_attempt_at == now + timedelta(minutes=5)
    assert row.error.startswith("twilio 503")

    # Not due yet: nothing is sent.
    assert _deliver(db_session, settings, message, now + timedelta(minutes=4)) is None
    assert list_due_sms(db_session, now + timedelta(minutes=4)) == []
    assert len(twilio.requests) == 1

    later = now + timedelta(minutes=5)
    assert list_due_sms(db_session, later) == [message.id]
    assert _deliver(db_session, settings, message, later) == SmsStatus.SENT
    (row,) = messages(db_session)
    assert row.status == SmsStatus.SENT and row.attempts == 2 and row.error is None
    assert row.provider_message_id and len(twilio.requests) == 2


def test_the_wait_doubles_and_honours_retry_after(db_session, settings, twilio, make_case):
    twilio.then(500, {"message": "oops"})
    twilio.then(429, {"code": 20429, "message": "Too Many Requests"}, {"Retry-After": "3600"})
    now = utcnow()
    message = _notice(db_session, settings, make_case(), now)
    _deliver(db_session, settings, message, now)
    second = now + timedelta(minutes=5)
    _deliver(db_session, settings, message, second)
    (row,) = messages(db_session)
    # 10 minutes after a second failure, unless the provider asks for longer (an hour).
    assert row.attempts == 2 and row.next_attempt_at == second + timedelta(hours=1)


def test_a_message_that_keeps_failing_is_given_up_after_the_last_try(
    db_session, settings, twilio, make_case
):
    settings = replace(settings, sms_max_attempts=3)
    for _ in range(3):
        twilio.then(502, {"message": "Bad gateway"})
    now = utcnow()
    message = _notice(db_session, settings, make_case(), now)
    for minutes in (0, 5, 15):
        _deliver(db_session, settings, message, now + timedelta(minutes=minutes))
    (row,) = messages(db_session)
    assert row.status == SmsStatus.FAILED and row.attempts == 3
    assert row.error.startswith("twilio 502") and row.next_attempt_at is None
    assert list_due_sms(db_session, now + timedelta(days=2)) == []


def test_an_unreachable_provider_is_tried_again(db_session, settings, make_case):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens there any more: the connection is refused.
    settings = replace(settings, twilio_api_base=f"http://127.0.0.1:{port}")
    now = utcnow()
    message = _notice(db_session, settings, make_case(), now)
    assert _deliver(db_session, settings, message, now) == SmsStatus.QUEUED
    (row,) = messages(db_session)
    assert row.error.startswith("twilio unreachable") and row.attempts == 1


def test_a_recipient_unsubscribed_at_the_provider_is_opted_out_for_good(
    db_session, settings, twilio, make_case
):
    twilio.then(400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient"})
    case, now = make_case(), utcnow()
    first = _notice(db_session, settings, case, now)
    assert _deliver(db_session, settings, first, now) == SmsStatus.OPTED_OUT
    assert db_session.get(SmsOptOut, E164).active
    second = _notice(db_session, settings, case, now + timedelta(minutes=1))
    assert second.status == SmsStatus.OPTED_OUT
    assert len(twilio.requests) == 1


def test_one_number_gets_at_most_the_days_limit(db_session, settings, twilio, make_case):
    case, now = make_case(), utcnow()
    sent = [_notice(db_session, settings, case, now + timedelta(minutes=n)) for n in range(3)]
    fourth = _notice(db_session, settings, case, now + timedelta(minutes=3))
    assert [m.status for m in sent] == [SmsStatus.QUEUED] * 3
    assert fourth.status == SmsStatus.RATE_LIMITED and fourth.status_at is not None
    for message in [*sent, fourth]:
        _deliver(db_session, settings, message, now + timedelta(minutes=5))
    assert len(twilio.requests) == 3
    assert messages(db_session)[-1].status == SmsStatus.RATE_LIMITED

    # A day after the first, the number may get one again.
    next_day = _notice(db_session, settings, case, now + timedelta(hours=24, minutes=1))
    assert next_day.status == SmsStatus.QUEUED


def test_messages_written_at_once_past_the_limit_send_only_the_first(
    db_session, settings, twilio, make_case
):
    # Two managers pressing at once can both pass the check when writing: the check before
    # sending counts only the messages written before each one.
    case, now = make_case(), utcnow()
    for _ in range(4):
        db_session.add(
            SmsMessage(
                to_number=E164,
                body="门店店长将致电回访您的反馈，请留意来电。回TD退订",
                kind=SmsKind.RETURN_VISIT,
                locale="zh_CN",
                case_id=case.id,
                status=SmsStatus.QUEUED,
                created_at=now,
            )
        )
    db_session.flush()
    for message_id in list_due_sms(db_session, now):
        deliver_sms(db_session, settings, message_id, now=now, sender=sender_for(settings))
    statuses = [m.status for m in messages(db_session)]
    assert statuses == [SmsStatus.SENT] * 3 + [SmsStatus.RATE_LIMITED]
    assert len(twilio.requests) == 3


def test_a_limit_of_zero_means_no_limit(db_session, settings, twilio, make_case):
    settings = replace(settings, sms_per_number_per_day=0)
    case, now = make_case(), utcnow()
    notices = [_notice(db_session, settings, case, now) for _ in range(5)]
    assert {m.status for m in notices} == {SmsStatus.QUEUED}


def test_queue_sms_refuses_a_number_no_text_can_reach(db_session, settings):
    with pytest.raises(SmsNotPossible):
        queue_sms(
            db_session,
            settings,
            to="021-62345678",
            kind=SmsKind.RETURN_VISIT,
            locale="zh_CN",
            case=None,
            body="x",
            now=utcnow(),
        )
    assert db_session.scalars(select(SmsMessage)).all() == []


def test_send_sms_sends_the_due_messages_and_says_how_many(
    runner, db_session, settings, twilio, make_case
):
    twilio.then(400, {"code": 21211, "message": "invalid"})
    case, now = make_case(), utcnow() - timedelta(minutes=1)
    _notice(db_session, settings, case, now)
    _notice(db_session, settings, case, now)
    db_session.commit()
    result = runner.invoke(args=["send-sms"])
    assert result.exit_code == 0, result.output
    assert "1 sent, 0 to try again, 1 failed" in result.output
    assert [m.status for m in messages(db_session)] == [SmsStatus.FAILED, SmsStatus.SENT]
    again = runner.invoke(args=["send-sms"])
    assert "0 sent" in again.output and len(twilio.requests) == 2
