"""Sending a tablet's queue: each answer stored once whatever the number of sends, one bad
answer refused alone with its reasons, dates believed within limits, typed receipt codes
tying the answer to the receipt, the figures counted under channel ``kiosk``, and the
endpoint refusing requests the tablet's page did not send."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.db import utcnow
from portal.kiosk.answers import kiosk_origin
from portal.models import (
    Channel,
    Kiosk,
    Response,
    ResponseOrigin,
    Role,
    StoreDailyRollup,
)
from surveys.codes import format_short_code
from tests.portal.kiosk.conftest import EN, SYNC_HEADERS, page_version, queued, statuses, sync


def stored(db_session) -> list[Response]:
    return list(db_session.scalars(select(Response).order_by(Response.id)))


def test_the_same_queued_answer_sent_three_times_is_stored_once(client, kiosk, db_session):
    answer = queued(page_version(client), values={"comment": "店员很耐心"})
    assert statuses(sync(client, [answer])) == ["stored"]
    # The reply was lost twice: the tablet sends it again, alone and with a new one.
    assert statuses(sync(client, [answer])) == ["duplicate"]
    second = queued(page_version(client))
    assert statuses(sync(client, [answer, second])) == ["duplicate", "stored"]
    responses = stored(db_session)
    assert len(responses) == 2
    first = responses[0]
    assert (first.kiosk_id, first.client_id, first.channel) == (kiosk.id, answer["id"], "kiosk")
    assert first.receipt_id is None and first.staff_id is None
    assert first.comment == "店员很耐心" and first.nps == 9 and first.csat == 5


def test_a_batch_with_one_bad_answer_stores_the_rest_and_names_the_fault(client, kiosk, db_session):
    version = page_version(client)
    good = [queued(version, values={"nps": str(n)}) for n in (3, 10)]
    bad = queued(version, values={"nps": "11"})
    unreadable = {"id": str(uuid.uuid4()), "answered_at": "yesterday", "values": {}}
    response = sync(client, [good[0], bad, unreadable, good[1]], headers=EN)
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["stored", "rejected", "rejected", "stored"]
    assert [r["id"] for r in results] == [good[0]["id"], bad["id"], unreadable["id"], good[1]["id"]]
    assert results[1]["reasons"] == [
        {"code": "invalid_answer", "field": "nps", "message": "Please choose one of the numbers."}
    ]
    assert results[2]["reasons"][0]["code"] == "unreadable"
    assert sorted(r.nps for r in stored(db_session)) == [3, 10]
    # The detractor's case was opened with it, as for a receipt's answer.
    assert stored(db_session)[0].store_id == kiosk.store_id


@pytest.mark.parametrize(
    ("age", "outcome"),
    [
        (timedelta(minutes=-10), "future"),
        (timedelta(minutes=-3), "stored"),
        (timedelta(days=6, hours=23), "stored"),
        (timedelta(days=7, minutes=1), "too_old"),
    ],
)
def test_the_tablets_time_is_believed_within_limits(client, kiosk, db_session, age, outcome):
    answered = utcnow() - age
    result = sync(client, [queued(page_version(client), answered_at=answered)]).get_json()
    found = result["results"][0]
    assert (found["reasons"][0]["code"] if found["reasons"] else found["status"]) == outcome
    if outcome == "stored":
        # Dated when the shopper answered, on that day of the store's calendar.
        assert stored(db_session)[0].submitted_at == answered


def test_a_typed_code_ties_the_answer_to_the_receipt(
    client, kiosk, store, make_receipt, db_session
):
    cashier = store_staff(db_session, store)
    issued = make_receipt(store, cashier, now=utcnow() - timedelta(minutes=30))
    code = format_short_code(issued.receipt.short_code).lower()
    answer = queued(page_version(client), receipt_code=code)
    assert statuses(sync(client, [answer])) == ["stored"]
    response = stored(db_session)[0]
    assert response.receipt_id == issued.receipt.id and response.staff_id == cashier.id
    assert response.channel == Channel.KIOSK and response.kiosk_id == kiosk.id
    db_session.refresh(issued.receipt)
    assert issued.receipt.answered_at is not None
    # The same code on the next answer: the receipt is answered.
    again = sync(client, [queued(page_version(client), receipt_code=code)], headers=EN)
    reasons = again.get_json()["results"][0]["reasons"]
    assert reasons == [
        {
            "code": "already_answered",
            "field": "receipt_code",
            "message": "The survey of this receipt has already been answered.",
        }
    ]


def store_staff(db_session, store):
    from portal.models import Staff

    return db_session.scalars(select(Staff).where(Staff.store_id == store.id)).one()


@pytest.mark.parametrize(
    ("typed", "reason"),
    [("ABCDE-FGHJK", "bad_code"), ("00000-00000", "no_receipt"), ("other store", "other_store")],
)
def test_a_wrong_code_is_reported_for_that_answer(
    client, kiosk, make_store, make_receipt, db_session, typed, reason
):
    if typed == "other store":
        typed = make_receipt(make_store("BJ-001"), None).receipt.short_code
    result = sync(client, [queued(page_version(client), receipt_code=typed)]).get_json()
    assert result["results"][0]["status"] == "rejected"
    assert [(r["code"], r["field"]) for r in result["results"][0]["reasons"]] == [
        (reason, "receipt_code")
    ]
    assert stored(db_session) == []


def test_kiosk_answers_are_counted_under_channel_kiosk(
    client, kiosk, store, db_session, make_user, login_as
):
    version, yesterday = page_version(client), utcnow() - timedelta(days=1)
    answers = [
        queued(version, answered_at=yesterday, values={"nps": str(n), "csat": "4"})
        for n in (10, 9, 2)
    ]
    assert statuses(sync(client, answers)) == ["stored"] * 3
    rows = db_session.execute(
        select(StoreDailyRollup.channel, func.sum(StoreDailyRollup.responses)).group_by(
            StoreDailyRollup.channel
        )
    ).all()
    assert rows == [("kiosk", 3)]
    # And on the store's page: NPS = 100 * (2 - 1) / 3.
    login_as(make_user(Role.MANAGER, stores=[store]))
    html = client.get("/stores/SH-001?days=30", headers=EN).get_data(as_text=True)
    assert "n = 3" in html and '<span class="metric-value">33</span>' in html


def test_every_kiosk_answer_is_screened_as_one_device(client, kiosk, db_session, settings):
    version = page_version(client)
    start = utcnow() - timedelta(minutes=5)
    answers = [
        queued(version, answered_at=start + timedelta(seconds=30 * n), values={"nps": str(n % 11)})
        for n in range(settings.kiosk_burst + 1)
    ]
    assert statuses(sync(client, answers)) == ["stored"] * len(answers)
    origins = db_session.scalars(select(ResponseOrigin)).all()
    expected = kiosk_origin(settings.secret_key, kiosk.id).device_key
    assert {origin.device_key for origin in origins} == {expected}
    from portal.models import ResponseFlag

    held = db_session.scalars(select(ResponseFlag.response_id).where(ResponseFlag.rule == "burst"))
    assert sorted(held) == [r.id for r in stored(db_session)]


def test_a_busy_counter_is_not_a_burst(client, kiosk, db_session, settings):
    # A phone's burst limit (three in ten minutes) is a counter tablet's normal pace.
    assert settings.ballot_burst_device < settings.kiosk_burst
    version = page_version(client)
    start = utcnow() - timedelta(minutes=5)
    answers = [
        queued(version, answered_at=start + timedelta(seconds=30 * n), values={"nps": str(n % 11)})
        for n in range(settings.kiosk_burst)
    ]
    assert statuses(sync(client, answers)) == ["stored"] * len(answers)
    from portal.models import ResponseFlag

    assert db_session.scalars(select(ResponseFlag)).all() == []


def test_sync_stamps_the_tablet_as_seen_without_changing_its_version(client, kiosk, db_session):
    before = kiosk.version
    kiosk_id = kiosk.id
    db_session.execute(
        Kiosk.__table__.update().where(Kiosk.id == kiosk_id).values(last_seen_at=None)
    )
    assert statuses(sync(client, [])) == []
    db_session.expire_all()
    seen = db_session.get(Kiosk, kiosk_id)
    assert seen.last_seen_at is not None and seen.version == before


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"content_type": "text/plain"}, 415),
        ({"headers": {}}, 403),
        ({"headers": {**SYNC_HEADERS, "Origin": "https://evil.example"}}, 403),
        ({"headers": {**SYNC_HEADERS, "Origin": "http://localhost"}}, 200),
        ({"data": "[1, 2"}, 400),
    ],
)
def test_the_endpoint_takes_only_what_the_tablets_page_sends(client, kiosk, change, status):
    request = {
        "data": '{"answers": []}',
        "content_type": "application/json",
        "headers": SYNC_HEADERS,
        **change,
    }
    response = client.post("/kiosk/api/answers", **request)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
