"""Keying in returned paper cards: the short code checked (unknown, another store's,
answered, expired, a till receipt's: a message on the field, a 4xx, nothing written), the
card's answers stored as a "paper" response with its counts and case, and two people keying
the same card at once storing it once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.audit import CLI
from portal.auth.operations import create_user
from portal.db import utcnow
from portal.models import (
    AuditEntry,
    Case,
    PaperEntry,
    Response,
    ResponseContact,
    Role,
    StoreDailyRollup,
)
from portal.paper.entry import CardAnswered, enter_card, find_card
from surveys.answers import Answers
from surveys.codes import format_short_code, new_short_code
from surveys.loader import receipt_survey
from tests.conftest import PASSWORD, add_store_with_cashier, csrf_token_from, post_form
from tests.portal.paper.helpers import HAPPY, UNHAPPY, issue_cards

ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def store(make_store):
    return make_store("SH-031", name="上海静安店")


@pytest.fixture
def manager(make_user, store, login_as):
    user = make_user(Role.MANAGER, stores=[store])
    login_as(user)
    return user


def _code(receipt) -> str:
    return format_short_code(receipt.short_code)


def _responses(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(Response)) or 0


def _key_in(client, receipt, answers):
    url = f"/paper/entry/{_code(receipt)}"
    return post_form(client, url, answers, headers=ZH)


def test_a_typed_code_opens_its_card_with_its_questions(
    client, manager, store, db_session, settings
):
    (card,) = issue_cards(db_session, settings, store, 1)
    typed = _code(card).lower().replace("-", " ")
    opened = post_form(client, "/paper/entry", {"code": typed}, headers=ZH)
    assert opened.status_code == 302
    assert opened.headers["Location"].endswith(f"/paper/entry/{_code(card)}")
    page = client.get(opened.headers["Location"], headers=ZH).get_data(as_text=True)
    assert receipt_survey().question("nps").text.get("zh_CN") in page
    assert 'name="nps"' in page and "autofocus" in page


def test_the_code_screen_has_the_code_field_focused(client, manager):
    page = client.get("/paper/entry", headers=ZH).get_data(as_text=True)
    assert 'name="code"' in page and "autofocus" in page


@pytest.mark.parametrize(
    ("typed", "status", "message"),
    [
        ("ABCDE-FGHJ0", 404, "这不是卡片代码"),  # the check character does not match
        ("", 400, "请输入卡片上印的代码"),
    ],
)
def test_a_wrong_code_is_refused_on_its_field(client, manager, typed, status, message, db_session):
    response = post_form(client, "/paper/entry", {"code": typed}, headers=ZH)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)


def test_a_code_no_card_has_is_refused_and_nothing_written(
    client, manager, store, db_session, settings
):
    (card,) = issue_cards(db_session, settings, store, 1)
    # A well-formed code (its check character right) that no card has.
    unknown = format_short_code(new_short_code())
    response = post_form(client, "/paper/entry", {"code": unknown}, headers=ZH)
    assert response.status_code == 404
    assert "没有卡片使用此代码" in response.get_data(as_text=True)
    posted = post_form(client, f"/paper/entry/{unknown}", UNHAPPY, page="/paper/entry", headers=ZH)
    assert posted.status_code == 404
    assert _responses(db_session) == 0


def test_a_card_of_another_store_is_refused(client, manager, make_store, db_session, settings):
    (card,) = issue_cards(db_session, settings, make_store("BJ-031"), 1)
    response = post_form(client, "/paper/entry", {"code": _code(card)}, headers=ZH)
    assert response.status_code == 403
    assert "这张卡片属于您不负责的门店" in response.get_data(as_text=True)
    posted = post_form(
        client, f"/paper/entry/{_code(card)}", UNHAPPY, page="/paper/entry", headers=ZH
    )
    assert posted.status_code == 403
    assert _responses(db_session) == 0 and card.answered_at is None


def test_a_till_receipt_is_not_keyed_in(client, manager, store, make_receipt, db_session):
    till = make_receipt(store, None).receipt
    response = post_form(client, "/paper/entry", {"code": _code(till)}, headers=ZH)
    assert response.status_code == 422
    assert "收银小票" in response.get_data(as_text=True)


def test_an_expired_card_is_refused(client, manager, store, db_session, settings):
    (card,) = issue_cards(db_session, settings, store, 1, now=utcnow() - timedelta(days=40))
    response = post_form(client, "/paper/entry", {"code": _code(card)}, headers=ZH)
    assert response.status_code == 410
    assert "已过期" in response.get_data(as_text=True)
    posted = post_form(
        client, f"/paper/entry/{_code(card)}", UNHAPPY, page="/paper/entry", headers=ZH
    )
    assert posted.status_code == 410
    assert _responses(db_session) == 0


def test_a_good_card_is_stored_as_a_paper_answer_with_its_counts_and_case(
    client, manager, store, db_session, settings
):
    (card,) = issue_cards(db_session, settings, store, 1)
    saved = _key_in(client, card, UNHAPPY)
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/paper/entry")
    following = client.get("/paper/entry", headers=ZH).get_data(as_text=True)
    assert f"已保存卡片 {_code(card)}" in following
    response = db_session.scalars(select(Response)).one()
    assert (response.channel, response.entered_by_user_id) == ("paper", manager.id)
    assert (response.nps, response.csat, response.problem_category) == (3, 2, "service_attitude")
    db_session.refresh(card)
    assert response.receipt_id == card.id and card.answered_at is not None
    entry = db_session.get(PaperEntry, response.id)
    assert entry.entered_by_user_id == manager.id
    rollups = {
        r.channel: r
        for r in db_session.scalars(
            select(StoreDailyRollup).where(StoreDailyRollup.store_id == store.id)
        )
    }
    assert rollups["paper"].responses == 1 and rollups["paper"].nps_3 == 1
    # The card was issued and answered: the funnel counts it under the receipt channel.
    assert (rollups["receipt"].issued, rollups["receipt"].issued_answered) == (1, 1)
    case = db_session.scalars(select(Case).where(Case.response_id == response.id)).one()
    assert case.category == "service_attitude"
    assert (
        db_session.scalars(
            select(AuditEntry.action).where(AuditEntry.subject_id == str(response.id))
        )
        .all()
        .count("paper.card_entered")
        == 1
    )


def test_an_answered_card_is_refused(client, manager, store, db_session, settings):
    (card,) = issue_cards(db_session, settings, store, 1)
    assert _key_in(client, card, HAPPY).status_code == 302
    response = post_form(client, "/paper/entry", {"code": _code(card)}, headers=ZH)
    assert response.status_code == 409
    assert "这张卡片已有回答" in response.get_data(as_text=True)
    posted = post_form(
        client, f"/paper/entry/{_code(card)}", UNHAPPY, page="/paper/entry", headers=ZH
    )
    assert posted.status_code == 409
    assert _responses(db_session) == 1


def test_answers_are_checked_by_the_surveys_rules(client, manager, store, db_session, settings):
    (card,) = issue_cards(db_session, settings, store, 1)
    response = _key_in(client, card, {"nps": "11", "csat": "", "side": "zh_CN"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "请选择一个分数" in page and "请回答此问题" in page
    assert _responses(db_session) == 0 and card.answered_at is None


def test_contact_details_need_the_ticked_consent(client, manager, store, db_session, settings):
    (card,) = issue_cards(db_session, settings, store, 1)
    phone = {**HAPPY, "contact_phone": "13800138000"}
    refused = _key_in(client, card, phone)
    assert refused.status_code == 400
    assert _responses(db_session) == 0
    assert _key_in(client, card, {**phone, "contact_consent": "y"}).status_code == 302
    contact = db_session.scalars(select(ResponseContact)).one()
    assert contact.phone == "13800138000"
    assert contact.consent_text == receipt_survey().consent.get("zh_CN")


def test_the_card_language_keyed_is_the_consent_stored(
    client, manager, store, db_session, settings
):
    (card,) = issue_cards(db_session, settings, store, 1)
    answers = {**HAPPY, "side": "en", "contact_consent": "y", "contact_email": "a@example.com"}
    assert _key_in(client, card, answers).status_code == 302
    contact = db_session.scalars(select(ResponseContact)).one()
    assert contact.consent_text == receipt_survey().consent.get("en")


def test_two_people_keying_the_same_card_at_once_store_it_once(fresh_engine, make_app, settings):
    with Session(fresh_engine) as session, session.begin():
        store = add_store_with_cashier(session)
        (card,) = issue_cards(session, settings, store, 1)
        url = f"/paper/entry/{_code(card)}"
        for n in (1, 2):
            create_user(
                session,
                email=f"clerk{n}@example.com",
                role="manager",
                password=PASSWORD,
                stores=[store],
                actor=CLI,
                now=utcnow(),
            )
    app = make_app(fresh_engine)
    clients = [app.test_client() for _ in range(2)]
    tokens = []
    for n, client in enumerate(clients, start=1):
        login = {"email": f"clerk{n}@example.com", "password": PASSWORD}
        assert post_form(client, "/login", login).status_code == 302
        tokens.append(csrf_token_from(client.get(url).get_data(as_text=True)))
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def key_in(client, token) -> None:
        barrier.wait()
        statuses.append(client.post(url, data={**HAPPY, "csrf_token": token}).status_code)

    threads = [threading.Thread(target=key_in, args=p) for p in zip(clients, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [302, 409]
    with Session(fresh_engine) as session:
        assert session.scalar(select(func.count()).select_from(Response)) == 1
        assert session.scalar(select(func.count()).select_from(PaperEntry)) == 1


def test_the_operation_refuses_a_card_answered_before(db_session, settings, make_store, make_user):
    store = make_store()
    clerk = make_user(Role.MANAGER, stores=[store])
    (card,) = issue_cards(db_session, settings, store, 1)
    receipt = find_card(db_session, clerk, _code(card), utcnow())
    typed = Answers(
        nps=9,
        csat=5,
        ratings={},
        problem_reported=False,
        problem_category=None,
        comment=None,
        contact=None,
    )
    keyed = {"receipt": receipt, "answers": typed, "user": clerk, "locale": "zh_CN"}
    enter_card(db_session, settings, now=utcnow(), **keyed)
    with pytest.raises(CardAnswered):
        enter_card(db_session, settings, now=utcnow(), **keyed)
    assert _responses(db_session) == 1
