"""Twilio's webhooks, signed as Twilio signs them: an opt-out reply stops every later
message to the number (they never reach the provider), START starts them again, delivery
reports reach the case page, and a request without Twilio's signature is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.audit import Actor
from portal.db import utcnow
from portal.models import AuditEntry, SmsOptOut, SmsStatus
from portal.sms.delivery import deliver_sms
from portal.sms.operations import send_return_visit_notice
from portal.sms.providers import sender_for, twilio_signature
from tests.portal.sms.standin import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    E164,
    FROM_NUMBER,
    messages,
    signed_post,
)

INBOUND = "/sms/inbound/twilio"
STATUS = "/sms/status/twilio"
ACTOR = Actor(label="user:boss@sh.example")


def _reply(body: str, number: str = E164) -> dict[str, str]:
    return {
        "MessageSid": "SM" + "9" * 32,
        "AccountSid": ACCOUNT_SID,
        "From": number,
        "To": FROM_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }


def _notice_sent(db_session, settings, case, now):
    message = send_return_visit_notice(db_session, settings, case, actor=ACTOR, now=now)
    deliver_sms(db_session, settings, message.id, now=now, sender=sender_for(settings))
    db_session.flush()
    return message


def test_an_opt_out_reply_is_recorded_and_later_messages_never_reach_the_provider(
    client, db_session, settings, twilio, make_case
):
    case = make_case()
    answer = signed_post(client, INBOUND, _reply(" 退订 "))
    assert answer.status_code == 200 and answer.mimetype == "text/xml"
    assert "<Response></Response>" in answer.get_data(as_text=True)
    opt_out = db_session.get(SmsOptOut, E164)
    assert opt_out.active and opt_out.word == "退订"
    audit = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "sms.opt_out")).one()
    assert E164 not in audit.subject_id and audit.actor == "customer"

    message = _notice_sent(db_session, settings, case, utcnow())
    assert message.status == SmsStatus.OPTED_OUT
    assert twilio.requests == []


def test_a_queued_message_is_withheld_when_the_number_opts_out_before_it_goes(
    client, db_session, settings, twilio, make_case
):
    now = utcnow()
    message = send_return_visit_notice(db_session, settings, make_case(), actor=ACTOR, now=now)
    assert message.status == SmsStatus.QUEUED
    assert signed_post(client, INBOUND, _reply("TD")).status_code == 200
    status = deliver_sms(db_session, settings, message.id, now=now, sender=sender_for(settings))
    assert status == SmsStatus.OPTED_OUT and twilio.requests == []


def test_start_opts_the_number_back_in(client, db_session, settings, twilio, make_case):
    case = make_case()
    signed_post(client, INBOUND, _reply("STOP"))
    signed_post(client, INBOUND, _reply("start"))
    db_session.expire_all()
    assert db_session.get(SmsOptOut, E164).active is False
    message = _notice_sent(db_session, settings, case, utcnow())
    assert message.status == SmsStatus.SENT and len(twilio.requests) == 1
    # Opting out again renews the record.
    signed_post(client, INBOUND, _reply("Unsubscribe"))
    db_session.expire_all()
    row = db_session.get(SmsOptOut, E164)
    assert row.active and row.word == "UNSUBSCRIBE"


def test_a_reply_that_is_not_a_keyword_changes_nothing(client, db_session):
    assert signed_post(client, INBOUND, _reply("谢谢，问题已经解决了")).status_code == 200
    assert db_session.scalars(select(SmsOptOut)).all() == []


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "bm90IGEgc2lnbmF0dXJl",
        # Signed for another URL (the request's own host, not the public one).
        twilio_signature(AUTH_TOKEN, "http://localhost" + INBOUND, _reply("STOP").items()),
        # Signed with another account's token.
        twilio_signature("other-token", "http://portal.test" + INBOUND, _reply("STOP").items()),
    ],
)
def test_a_webhook_without_twilios_signature_is_refused(client, db_session, signature):
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    answer = client.post(INBOUND, data=_reply("STOP"), headers=headers)
    assert answer.status_code == 403
    assert db_session.scalars(select(SmsOptOut)).all() == []


def test_a_signature_over_other_parameters_is_refused(client, db_session):
    signature = twilio_signature(
        AUTH_TOKEN, "http://portal.test" + INBOUND, _reply("hello").items()
    )
    answer = client.post(INBOUND, data=_reply("STOP"), headers={"X-Twilio-Signature": signature})
    assert answer.status_code == 403
    assert db_session.scalars(select(SmsOptOut)).all() == []


def test_a_delivery_report_is_shown_on_the_case_page(
    client, login_as, db_session, settings, twilio, make_case, store_and_manager
):
    case, now = make_case(), utcnow()
    message = _notice_sent(db_session, settings, case, now)
    assert message.status == SmsStatus.SENT
    db_session.commit()
    report = {
        "MessageSid": message.provider_message_id,
        "MessageStatus": "delivered",
        "AccountSid": ACCOUNT_SID,
        "To": E164,
    }
    assert signed_post(client, STATUS, report).status_code == 204
    (row,) = messages(db_session)
    assert row.status == SmsStatus.DELIVERED and row.status_at is not None

    login_as(store_and_manager[1])
    page = client.get(f"/cases/{case.id}?lang=en").get_data(as_text=True)
    item = page[page.index(f'id="text-message-{row.id}"') :]
    item = item[: item.index("</li>")]
    assert '<strong class="sms-status">delivered</strong>' in item
    assert "notice of the manager" in item

    # A late or repeated report never moves it back.
    late = {**report, "MessageStatus": "sent"}
    assert signed_post(client, STATUS, late).status_code == 204
    assert messages(db_session)[0].status == SmsStatus.DELIVERED


def test_an_undelivered_report_keeps_the_carriers_error(
    client, login_as, db_session, settings, twilio, make_case, store_and_manager
):
    case = make_case()
    message = _notice_sent(db_session, settings, case, utcnow() - timedelta(minutes=1))
    db_session.commit()
    report = {
        "MessageSid": message.provider_message_id,
        "MessageStatus": "undelivered",
        "ErrorCode": "30003",
    }
    assert signed_post(client, STATUS, report).status_code == 204
    (row,) = messages(db_session)
    assert row.status == SmsStatus.UNDELIVERED and row.error == "twilio 30003"
    login_as(store_and_manager[1])
    page = client.get(f"/cases/{case.id}?lang=en").get_data(as_text=True)
    assert "not delivered" in page and "the phone was switched off or out of reach" in page


def test_a_report_for_an_unknown_message_changes_nothing(client, db_session):
    report = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered"}
    assert signed_post(client, STATUS, report).status_code == 204
    assert messages(db_session) == []


def test_an_unsigned_delivery_report_is_refused(client, db_session, settings, twilio, make_case):
    message = _notice_sent(db_session, settings, make_case(), utcnow())
    db_session.commit()
    report = {"MessageSid": message.provider_message_id, "MessageStatus": "failed"}
    assert client.post(STATUS, data=report).status_code == 403
    assert messages(db_session)[0].status == SmsStatus.SENT
