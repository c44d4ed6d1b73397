"""The second keying of a sample of paper cards: drawn by a random source the tests fix,
blind, never by the first keyer, matched or mismatched with the differences kept, and a
mismatch decided by another manager (the second keying correcting the answer and its
counts)."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.db import utcnow
from portal.models import AuditEntry, Case, PaperEntry, Response, Role, StoreDailyRollup
from portal.paper.checks import Keeping, OwnEntry, check_card, decide_check, get_checked_card
from portal.paper.entry import draw_for_check, enter_card
from surveys.answers import Answers
from tests.conftest import PASSWORD, post_form
from tests.portal.paper.helpers import issue_cards

ZH = {"Accept-Language": "zh-CN"}
FIRST = Answers(
    nps=9,
    csat=5,
    ratings={"rating_speed": 4},
    problem_reported=False,
    problem_category=None,
    comment="价格标签贴错了",
    contact=None,
)
SAME = {"nps": "9", "csat": "5", "rating_speed": "4", "comment": "价格标签贴错了"}
OTHER = {
    "nps": "3",
    "csat": "2",
    "rating_speed": "4",
    "problem": "y",
    "problem_category": "checkout_wait",
    "comment": "价格标签贴错了",
}


@pytest.fixture
def store(make_store):
    return make_store("SH-041", name="上海浦东店")


@pytest.fixture
def clerk(make_user, store):
    return make_user(Role.MANAGER, stores=[store], email="clerk@example.com")


@pytest.fixture
def checker(make_user, store):
    return make_user(Role.MANAGER, stores=[store], email="checker@example.com")


@pytest.fixture
def keyed(db_session, settings, store, clerk) -> Response:
    """A card keyed in by the clerk and drawn for a check."""
    (card,) = issue_cards(db_session, settings, store, 1)
    always = replace(settings, paper_check_percent=100)
    entry = enter_card(
        db_session, always, receipt=card, answers=FIRST, user=clerk, now=utcnow(), locale="zh_CN"
    )
    assert entry.check_state == "pending"
    return db_session.get(Response, entry.response_id)


def _sign_in(client: FlaskClient, email: str) -> None:
    assert post_form(client, "/login", {"email": email, "password": PASSWORD}).status_code == 302


def _paper_rollup(db_session, store) -> StoreDailyRollup:
    return db_session.scalars(
        select(StoreDailyRollup).where(
            StoreDailyRollup.store_id == store.id, StoreDailyRollup.channel == "paper"
        )
    ).one()


def test_the_sample_is_drawn_by_the_random_source_given(db_session, settings, store, clerk):
    half = replace(settings, paper_check_percent=50)
    cards = issue_cards(db_session, settings, store, 12)
    source = random.Random(20261105)
    drawn = [
        enter_card(
            db_session,
            half,
            receipt=card,
            answers=FIRST,
            user=clerk,
            now=utcnow(),
            locale="en",
            rng=source,
        ).check_state
        == "pending"
        for card in cards
    ]
    again = random.Random(20261105)
    assert drawn == [again.random() * 100 < 50 for _card in cards]
    assert True in drawn and False in drawn
    pending = db_session.scalars(
        select(PaperEntry).where(PaperEntry.check_state == "pending")
    ).all()
    assert len(pending) == sum(drawn)


def test_draw_for_check_follows_the_share():
    source = random.Random(3)
    assert not any(draw_for_check(0, source) for _ in range(200))
    assert all(draw_for_check(100, source) for _ in range(200))
    share = sum(draw_for_check(10, random.Random(n)) for n in range(2000)) / 2000
    assert 0.08 < share < 0.12


def test_the_first_keyer_cannot_check_their_own_card(client, keyed, db_session):
    _sign_in(client, "clerk@example.com")
    queue = client.get("/paper/checks", headers=ZH).get_data(as_text=True)
    assert "这张卡片由您录入" in queue
    page = client.get(f"/paper/checks/{keyed.id}", headers=ZH)
    assert page.status_code == 403
    assert "这张卡片是您本人录入的" in page.get_data(as_text=True)
    posted = post_form(client, f"/paper/checks/{keyed.id}", SAME, page="/paper/checks", headers=ZH)
    assert posted.status_code == 403
    assert db_session.get(PaperEntry, keyed.id).check_state == "pending"


def test_a_blind_second_keying_that_matches(client, keyed, checker, db_session):
    _sign_in(client, "checker@example.com")
    page = client.get(f"/paper/checks/{keyed.id}", headers=ZH).get_data(as_text=True)
    # Blind: the first keying's comment is not on the page.
    assert "价格标签贴错了" not in page and 'value="9"' not in page
    done = post_form(client, f"/paper/checks/{keyed.id}", SAME, headers=ZH)
    assert done.status_code == 302
    entry = db_session.get(PaperEntry, keyed.id)
    db_session.refresh(entry)
    assert (entry.check_state, entry.checked_by_user_id) == ("matched", checker.id)
    assert entry.differences is None
    assert "两次录入一致" in client.get("/paper/checks", headers=ZH).get_data(as_text=True)
    checked = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "paper.card_checked")
    ).one()
    assert checked.details["check"] == "matched"


def test_a_mismatch_is_recorded_and_waits_for_a_decision(client, keyed, checker, db_session):
    _sign_in(client, "checker@example.com")
    done = post_form(client, f"/paper/checks/{keyed.id}", OTHER, headers=ZH)
    assert done.status_code == 302
    entry = db_session.get(PaperEntry, keyed.id)
    db_session.refresh(entry)
    assert entry.check_state == "mismatched"
    assert entry.differences == {
        "csat": {"first": "5", "second": "2"},
        "nps": {"first": "9", "second": "3"},
        "problem": {"first": "", "second": "y"},
        "problem_category": {"first": "", "second": "checkout_wait"},
    }
    # Nothing changed in the stored answer until a manager decides.
    db_session.refresh(keyed)
    assert (keyed.nps, keyed.csat) == (9, 5)
    queue = client.get("/paper/checks", headers=ZH).get_data(as_text=True)
    assert "<strong>待裁定</strong>" in queue
    page = client.get(f"/paper/checks/{keyed.id}/decision", headers=ZH).get_data(as_text=True)
    assert "结账等待" in page and "第二次录入" in page


def _mismatched(client, keyed) -> None:
    _sign_in(client, "checker@example.com")
    assert post_form(client, f"/paper/checks/{keyed.id}", OTHER).status_code == 302
    client.post("/logout", data={})


def test_the_first_keyer_cannot_decide(app, keyed, checker, db_session):
    _mismatched(app.test_client(), keyed)
    clerk = app.test_client()
    _sign_in(clerk, "clerk@example.com")
    url = f"/paper/checks/{keyed.id}/decision"
    page = clerk.get(url, headers=ZH).get_data(as_text=True)
    assert "须由另一位店长裁定" in page
    refused = post_form(clerk, url, {"keep": "second"}, page="/paper/checks", headers=ZH)
    assert refused.status_code == 403
    db_session.refresh(keyed)
    assert keyed.nps == 9


def test_keeping_the_second_keying_corrects_the_answer_and_its_counts(
    app, keyed, checker, store, db_session
):
    _mismatched(app.test_client(), keyed)
    assert _paper_rollup(db_session, store).nps_9 == 1
    manager = app.test_client()
    _sign_in(manager, "checker@example.com")
    url = f"/paper/checks/{keyed.id}/decision"
    decided = post_form(manager, url, {"keep": "second"}, headers=ZH)
    assert decided.status_code == 302
    db_session.refresh(keyed)
    assert (keyed.nps, keyed.csat, keyed.problem_category) == (3, 2, "checkout_wait")
    rollup = _paper_rollup(db_session, store)
    db_session.refresh(rollup)
    assert (rollup.responses, rollup.nps_9, rollup.nps_3, rollup.csat_5, rollup.csat_2) == (
        1,
        0,
        1,
        0,
        1,
    )
    assert rollup.problems == 1
    # Now unhappy: the follow-up case the first keying did not call for.
    assert db_session.scalars(select(Case).where(Case.response_id == keyed.id)).one()
    entry = db_session.get(PaperEntry, keyed.id)
    db_session.refresh(entry)
    assert {both["kept"] for both in entry.differences.values()} == {"second"}
    assert "<strong>待裁定</strong>" not in manager.get("/paper/checks", headers=ZH).get_data(
        as_text=True
    )
    again = post_form(manager, url, {"keep": "first"}, page="/paper/checks", headers=ZH)
    assert again.status_code == 409


def test_keeping_the_first_keying_changes_no_answer(db_session, settings, keyed, checker):
    entry, response, receipt = get_checked_card(db_session, checker, keyed.id)
    check_card(
        db_session,
        entry=entry,
        response=response,
        receipt=receipt,
        answers=replace(FIRST, nps=10),
        user=checker,
        now=utcnow(),
    )
    decide_check(
        db_session,
        settings,
        entry=entry,
        response=response,
        receipt=receipt,
        keep=Keeping.FIRST,
        user=checker,
        now=utcnow(),
    )
    assert response.nps == 9
    assert entry.differences == {"nps": {"first": "9", "second": "10", "kept": "first"}}


def test_the_operations_refuse_the_first_keyer(db_session, settings, keyed, clerk):
    entry, response, receipt = get_checked_card(db_session, clerk, keyed.id)
    with pytest.raises(OwnEntry):
        check_card(
            db_session,
            entry=entry,
            response=response,
            receipt=receipt,
            answers=FIRST,
            user=clerk,
            now=utcnow(),
        )
