"""The case page's text messages through the test client: the two buttons, what they send
through the stand-in Twilio, the timeline, the short link in the text, the refusals (no
mobile number, already texted, a stale page, no CSRF token, another store's case), the
text message list's scoping, and two managers pressing at once."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit import Actor
from portal.cases.operations import open_case_manually
from portal.db import utcnow, writer
from portal.models import Case, CaseEvent, FollowUp, Role, SmsMessage, SmsOptOut, SmsStatus
from portal.sms.operations import send_return_visit_notice
from portal.workflow import InvalidTransition
from tests.conftest import add_store_with_cashier, csrf_token_from
from tests.portal.sms.standin import E164, messages

EN = "?lang=en"


def _press(client, case_id: int, kind: str, **overrides):
    """Press a text button of the case page as the page renders it (token, version)."""
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    version = re.search(rf'name="text-{kind}-version"[^>]*value="(\d+)"', page)
    assert version, f"no {kind} button on the case page"
    data = {
        f"text-{kind}-version": version.group(1),
        f"text-{kind}-csrf_token": csrf_token_from(page),
        **overrides,
    }
    return client.post(f"/cases/{case_id}/text/{kind}", data=data)


@pytest.fixture
def manager(store_and_manager, login_as, client):
    user = store_and_manager[1]
    login_as(user)
    client.get("/" + EN)  # the session remembers English
    return user


def _events(db_session, case):
    db_session.expire_all()
    stmt = select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    return list(db_session.scalars(stmt))


def test_texting_the_follow_up_link_sends_it_and_the_link_opens_the_question(
    client, db_session, manager, twilio, make_case
):
    case = make_case()
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Text the follow-up link" in page and "Text the call notice" in page

    answer = _press(client, case.id, "follow-up")
    assert answer.status_code == 302 and answer.location.endswith(f"/cases/{case.id}")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "The text message was sent." in page
    (message,) = messages(db_session)
    assert message.status == SmsStatus.SENT and message.kind == "follow_up"
    (request,) = twilio.requests
    assert request.form["To"] == E164 and request.form["Body"] == message.body
    # Written in the customer's language (the survey was answered in Chinese).
    assert message.locale == "zh_CN" and "问题解决了吗" in message.body

    # The panel shows it; the button is gone; the timeline says so.
    assert 'id="text-message-list"' in page and "sent, no delivery report yet" in page
    assert "Text the follow-up link" not in page
    kinds = [(e.kind, e.details) for e in _events(db_session, case)][-2:]
    assert kinds[0] == ("follow_up_sent", {"by_email": False, "by_text": True})
    assert kinds[1][0] == "text_message" and kinds[1][1]["text_kind"] == "follow_up"
    assert "Follow-up question sent</strong> (by text message)" in page

    # The short link in the text opens the signed follow-up question.
    link = re.search(r"http://portal\.test(/s/[\w-]+)", message.body).group(1)
    client.post("/logout", data={"csrf_token": csrf_token_from(page)})
    redirect = client.get(link)
    assert redirect.status_code == 302 and "/f/" in redirect.location
    question = client.get(redirect.location)
    assert question.status_code == 200


def test_a_short_link_that_is_unknown_or_expired_says_so(client, db_session, make_case, settings):
    assert client.get("/s/NoSuchLinkId1234").status_code == 404
    assert client.get("/s/bad!id").status_code == 404
    case = make_case(phone="13800138000")
    now = utcnow()
    db_session.add(
        FollowUp(
            case_id=case.id,
            token_id="ExpiredLinkId123",
            created_at=now - timedelta(days=20),
            expires_at=now - timedelta(days=6),
        )
    )
    db_session.flush()
    assert client.get("/s/ExpiredLinkId123").status_code == 410


def test_a_follow_up_link_made_by_hand_can_be_texted_afterwards(
    client, db_session, manager, twilio, make_case
):
    case = make_case(email="kunde@example.com")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    version = re.search(r'name="follow-up-version"[^>]*value="(\d+)"', page).group(1)
    made = client.post(
        f"/cases/{case.id}/follow-up",
        data={"follow-up-version": version, "follow-up-csrf_token": csrf_token_from(page)},
    )
    assert made.status_code == 200
    token_id = db_session.scalars(select(FollowUp.token_id)).one()
    assert _press(client, case.id, "follow-up").status_code == 302
    (message,) = messages(db_session)
    assert f"/s/{token_id}" in message.body and message.status == SmsStatus.SENT


def test_the_call_notice_is_offered_before_the_case_is_resolved(
    client, db_session, manager, twilio, make_case
):
    case = make_case(resolved=False, locale="en")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Text the call notice" in page and "Text the follow-up link" not in page
    assert _press(client, case.id, "return-visit").status_code == 302
    (message,) = messages(db_session)
    assert message.kind == "return_visit" and message.locale == "en"
    assert message.body.startswith("The store manager will call you")


def test_a_case_whose_phone_cannot_take_a_text_offers_no_button_and_refuses(
    client, db_session, manager, twilio, make_case
):
    case = make_case(phone="021-62345678")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "cannot receive text messages" in page and "text-return-visit-version" not in page
    version = re.search(r'name="note-version"[^>]*value="(\d+)"', page).group(1)
    answer = client.post(
        f"/cases/{case.id}/text/return-visit",
        data={"text-return-visit-version": version, "csrf_token": csrf_token_from(page)},
    )
    assert answer.status_code == 409
    assert "no mobile number a text message can reach" in answer.get_data(as_text=True)
    assert messages(db_session) == [] and twilio.requests == []


def test_a_case_without_a_phone_has_no_text_panel(client, db_session, manager, make_case):
    case = make_case(phone=None, email="kunde@example.com")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="text-messages"' not in page


def test_an_opted_out_number_is_said_and_nothing_is_sent(
    client, db_session, manager, twilio, make_case
):
    case = make_case()
    db_session.add(SmsOptOut(to_number=E164, word="TD", opted_out_at=utcnow(), active=True))
    db_session.flush()
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "asked for no more text messages" in page
    answer = _press(client, case.id, "return-visit")
    assert answer.status_code == 302
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "The text message was not sent: this number opted out of text messages." in page
    (message,) = messages(db_session)
    assert message.status == SmsStatus.OPTED_OUT and twilio.requests == []
    assert "Text message to the customer</strong>: notice of the manager" in page


def test_texting_the_follow_up_twice_is_refused(client, db_session, manager, twilio, make_case):
    case = make_case()
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    version = re.search(r'name="text-follow-up-version"[^>]*value="(\d+)"', page).group(1)
    data = {"text-follow-up-version": version, "csrf_token": csrf_token_from(page)}
    assert client.post(f"/cases/{case.id}/text/follow-up", data=data).status_code == 302
    # The same page posted again: stale, refused, nothing more sent.
    again = client.post(f"/cases/{case.id}/text/follow-up", data=data)
    assert again.status_code == 409
    assert "changed while you were looking" in again.get_data(as_text=True)
    # With the current version: still refused, the link is already on its way.
    third = _press_without_button(client, case.id, "follow-up")
    assert third.status_code == 409
    assert "already sent by text message" in third.get_data(as_text=True)
    assert len(messages(db_session)) == 1 and len(twilio.requests) == 1


def _press_without_button(client, case_id, kind):
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    version = re.search(r'name="note-version"[^>]*value="(\d+)"', page).group(1)
    data = {f"text-{kind}-version": version, "csrf_token": csrf_token_from(page)}
    return client.post(f"/cases/{case_id}/text/{kind}", data=data)


def test_a_failed_follow_up_text_may_be_sent_again(client, db_session, manager, twilio, make_case):
    twilio.then(400, {"code": 30006, "message": "Landline or unreachable carrier"})
    case = make_case()
    assert _press(client, case.id, "follow-up").status_code == 302
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "could not be sent" in page and "a landline, or a carrier" in page
    assert _press(client, case.id, "follow-up").status_code == 302
    assert [m.status for m in messages(db_session)] == [SmsStatus.FAILED, SmsStatus.SENT]


def test_a_press_without_csrf_token_is_refused(client, db_session, manager, make_case):
    case = make_case()
    answer = client.post(
        f"/cases/{case.id}/text/return-visit", data={"text-return-visit-version": "1"}
    )
    assert answer.status_code == 400
    assert messages(db_session) == []


def test_another_stores_manager_cannot_text_its_customer(
    client, db_session, make_case, make_store, make_user, login_as
):
    case = make_case()
    other = make_user(Role.MANAGER, stores=[make_store("BJ-001")])
    login_as(other)
    page = client.get("/cases").get_data(as_text=True)
    answer = client.post(
        f"/cases/{case.id}/text/return-visit",
        data={"text-return-visit-version": str(case.version), "csrf_token": csrf_token_from(page)},
    )
    assert answer.status_code == 404 and messages(db_session) == []


def test_the_text_message_list_shows_each_user_their_stores_messages(
    client, db_session, settings, make_case, make_store, make_user, login_as, store_and_manager
):
    case = make_case()
    send_return_visit_notice(db_session, settings, case, actor=Actor(label="cli"), now=utcnow())
    db_session.flush()
    login_as(store_and_manager[1])
    own = client.get("/text-messages" + EN).get_data(as_text=True)
    assert "徐汇店店长将致电回访您的反馈" in own
    assert E164 in own and f"/cases/{case.id}" in own

    other = make_user(Role.MANAGER, stores=[make_store("BJ-001")], email="bj@example.com")
    client.post("/logout", data={"csrf_token": csrf_token_from(own)})
    login_as(other)
    theirs = client.get("/text-messages" + EN).get_data(as_text=True)
    assert E164 not in theirs and "No messages yet." in theirs

    hr = make_user(Role.HR, email="hr@example.com")
    client.post("/logout", data={"csrf_token": csrf_token_from(theirs)})
    login_as(hr)
    assert client.get("/text-messages").status_code == 403


def test_two_managers_pressing_at_once_send_one_text(fresh_engine, settings):
    """Both pages showed the same version: one notice is written, the other press is told
    the case changed, and nothing of it is kept."""
    postgres = fresh_engine.dialect.name == "postgresql"
    with Session(fresh_engine) as session, session.begin():
        store = add_store_with_cashier(session)
        case = open_case_manually(
            session,
            settings,
            store=store,
            category="other",
            summary="态度差",
            staff_code=None,
            contact_name=None,
            contact_phone="13800138000",
            contact_email=None,
            consent=True,
            actor=Actor(label="cli"),
            now=utcnow(),
        )
        case_id, seen = case.id, case.version
    # As in the cases' own race test: views write through writer() (on SQLite the second
    # waits for the lock and reads the new version); on PostgreSQL both read first.
    bind = writer(fresh_engine)
    start, both_read = threading.Barrier(2, timeout=20), threading.Barrier(2, timeout=20)
    outcomes: dict[str, str] = {}

    def attempt(name: str) -> None:
        start.wait()
        try:
            with Session(bind, expire_on_commit=False) as session, session.begin():
                mine = session.get(Case, case_id)
                if postgres:
                    both_read.wait()
                send_return_visit_notice(
                    session,
                    settings,
                    mine,
                    actor=Actor(label=name),
                    now=utcnow(),
                    expected_version=seen,
                )
            outcomes[name] = "sent"
        except InvalidTransition:
            outcomes[name] = "refused"
        except Exception as error:  # noqa: BLE001 - any other escape is the failure shown
            outcomes[name] = f"escaped: {type(error).__name__}"

    threads = [threading.Thread(target=attempt, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes.values()) == ["refused", "sent"], outcomes
    with Session(fresh_engine) as session:
        assert len(session.scalars(select(SmsMessage)).all()) == 1
        kinds = session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case_id))
        assert list(kinds).count("text_message") == 1
