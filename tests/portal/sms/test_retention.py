"""Text messages hold a customer's number: ``purge`` deletes them with the other contact
details past their retention, an erasure request deletes the customer's, and the opt-out
record stays (it is what keeps the customer's "no more texts" honoured)."""

from __future__ import annotations

from datetime import timedelta

from portal.admin.retention import erase_customer, purge_expired
from portal.audit import CLI, Actor
from portal.db import utcnow
from portal.models import SmsOptOut
from portal.sms.operations import send_return_visit_notice
from tests.portal.sms.standin import E164, messages

ACTOR = Actor(label="cli")


def test_purge_deletes_text_messages_past_the_contact_retention(db_session, settings, make_case):
    case, now = make_case(), utcnow()
    old = send_return_visit_notice(
        db_session, settings, case, actor=ACTOR, now=now - timedelta(days=91)
    )
    recent = send_return_visit_notice(db_session, settings, case, actor=ACTOR, now=now)
    db_session.add(
        SmsOptOut(to_number="+8613900139000", word="TD", opted_out_at=now - timedelta(days=400))
    )
    removed = purge_expired(db_session, CLI, contact_days=90, comment_days=730, now=now)
    assert removed.texts == 1
    assert [m.id for m in messages(db_session)] == [recent.id] and old.id != recent.id
    assert db_session.get(SmsOptOut, "+8613900139000").active


def test_erasing_a_customer_by_phone_deletes_their_text_messages(db_session, settings, make_case):
    case, now = make_case(), utcnow()
    send_return_visit_notice(db_session, settings, case, actor=ACTOR, now=now)
    other = make_case(phone="13900139000")
    kept = send_return_visit_notice(db_session, settings, other, actor=ACTOR, now=now)
    db_session.add(SmsOptOut(to_number=E164, word="TD", opted_out_at=now))
    removed = erase_customer(db_session, CLI, phone="138-0013-8000", now=now)
    assert removed.texts == 1
    assert [m.id for m in messages(db_session)] == [kept.id]
    assert db_session.get(SmsOptOut, E164) is not None
