"""The POS receipt API: DESIGN.md section 4, strict validation, idempotency."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.audit import CLI
from portal.db import utcnow
from portal.models import Receipt
from portal.pos_api.operations import create_api_key, revoke_api_key
from surveys.tokens import verify_receipt_token
from tests.conftest import SECRET, add_store_with_cashier


@pytest.fixture
def till(db_session, make_store, make_staff):
    store = make_store("SH-001", timezone="Asia/Shanghai")
    make_staff(store, "S001")
    make_staff(store, "S099", active=False)
    key = create_api_key(db_session, store, actor=CLI, now=utcnow())
    db_session.flush()
    return store, key


def post(client, key, body, **kwargs):
    headers = {"Authorization": f"Bearer {key.secret}"}
    if isinstance(body, (dict, list)):
        return client.post("/api/v1/receipts", json=body, headers=headers, **kwargs)
    return client.post(
        "/api/v1/receipts",
        data=body,
        headers=headers,
        content_type=kwargs.pop("content_type", "application/json"),
        **kwargs,
    )


def receipt_count(db_session: Session) -> int:
    return db_session.scalar(select(func.count()).select_from(Receipt))


def test_new_transaction_gets_a_signed_token_and_links(client, till, db_session):
    store, key = till
    response = post(client, key, {"transaction_id": "T-1", "staff_code": "S001", "total": 99.5})
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) >= {"token", "survey_url", "qr_svg_url", "qr_png_url", "expires_at"}
    assert body["survey_url"] == f"http://portal.test/r/{body['token']}"
    assert body["qr_svg_url"] == body["survey_url"] + "/qr.svg"
    assert body["qr_png_url"] == body["survey_url"] + "/qr.png"
    claims = verify_receipt_token(SECRET, body["token"], utcnow())
    expires = datetime.fromisoformat(body["expires_at"])
    assert expires == claims.expires_at
    assert timedelta(days=29, hours=23) < expires - utcnow() <= timedelta(days=30)
    receipt = db_session.scalars(select(Receipt)).one()
    assert receipt.token_id == claims.token_id
    assert receipt.total_cents == 9950
    assert receipt.store_id == store.id


def test_same_transaction_again_answers_200_with_the_same_token(client, till, db_session):
    _, key = till
    payload = {
        "transaction_id": "T-1",
        "staff_code": "S001",
        "total": 10,
        "issued_at": "2026-11-22T10:00:00+08:00",
    }
    first = post(client, key, payload)
    second = post(client, key, payload)
    reprint_without_optional_fields = post(
        client, key, {"transaction_id": "T-1", "staff_code": "S001"}
    )
    assert first.status_code == 201
    assert second.status_code == 200
    assert reprint_without_optional_fields.status_code == 200
    assert first.get_json() == second.get_json() == reprint_without_optional_fields.get_json()
    assert receipt_count(db_session) == 1


@pytest.mark.parametrize(
    ("changed", "field"),
    [
        ({"staff_code": "S002"}, "staff_code"),
        ({"total": 11}, "total"),
        ({"issued_at": "2026-11-22T10:00:01+08:00"}, "issued_at"),
    ],
)
def test_same_transaction_with_a_different_payload_is_a_409(
    client, till, make_staff, changed, field
):
    store, key = till
    make_staff(store, "S002")
    payload = {
        "transaction_id": "T-1",
        "staff_code": "S001",
        "total": 10,
        "issued_at": "2026-11-22T10:00:00+08:00",
    }
    assert post(client, key, payload).status_code == 201
    response = post(client, key, {**payload, **changed})
    assert response.status_code == 409
    assert response.get_json()["error"]["field"] == field


def test_the_same_transaction_id_at_another_store_is_another_receipt(
    client, till, db_session, make_store, make_staff
):
    _, key = till
    other = make_store("BJ-001")
    make_staff(other, "S001")
    other_key = create_api_key(db_session, other, actor=CLI, now=utcnow())
    a = post(client, key, {"transaction_id": "T-1", "staff_code": "S001"})
    b = post(client, other_key, {"transaction_id": "T-1", "staff_code": "S001"})
    assert a.status_code == b.status_code == 201
    assert a.get_json()["token"] != b.get_json()["token"]


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nope", "Basic abc", "Bearer pos_wrong"])
def test_missing_or_wrong_key_is_a_401_and_stores_nothing(client, till, db_session, header):
    headers = {} if header is None else {"Authorization": header}
    response = client.post(
        "/api/v1/receipts", json={"transaction_id": "T", "staff_code": "S001"}, headers=headers
    )
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "bad_api_key"
    assert receipt_count(db_session) == 0


def test_a_revoked_key_is_refused(client, till, db_session):
    _, key = till
    revoke_api_key(db_session, key.api_key.id, actor=CLI, now=utcnow())
    db_session.flush()
    assert post(client, key, {"transaction_id": "T", "staff_code": "S001"}).status_code == 401


def test_the_key_is_stored_only_as_a_hash(till, db_session):
    _, key = till
    stored = db_session.get(type(key.api_key), key.api_key.id)
    assert key.secret not in (stored.key_hash, stored.prefix)
    assert len(stored.key_hash) == 64


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"{not json", 400, None),
        (b"[1, 2]", 400, None),
        (b'"text"', 400, None),
        (b'{"transaction_id": "T", "staff_code": "S001", "total": NaN}', 400, None),
        (b'{"transaction_id": "T", "staff_code": "S001", "total": Infinity}', 400, None),
        (b'{"transaction_id": "T", "staff_code": "S001", "total": 1e400}', 422, "total"),
        (b'{"transaction_id": "T", "staff_code": "S001", "total": 12345678901}', 422, "total"),
        (b'{"transaction_id": "T", "staff_code": "S001", "total": 1.005}', 422, "total"),
        (b'{"transaction_id": "T", "staff_code": "S001", "total": "12.50"}', 422, "total"),
        (b'{"transaction_id": "T", "staff_code": "S001", "total": true}', 422, "total"),
        (b'{"transaction_id": 12, "staff_code": "S001"}', 422, "transaction_id"),
        (b'{"transaction_id": "", "staff_code": "S001"}', 422, "transaction_id"),
        (b'{"transaction_id": " T", "staff_code": "S001"}', 422, "transaction_id"),
        (b'{"transaction_id": "T\\u0000", "staff_code": "S001"}', 422, "transaction_id"),
        (b'{"transaction_id": "' + b"x" * 65 + b'", "staff_code": "S001"}', 422, "transaction_id"),
        (b'{"staff_code": "S001"}', 422, "transaction_id"),
        (b'{"transaction_id": "T"}', 422, "staff_code"),
        (b'{"transaction_id": "T", "staff_code": ["S001"]}', 422, "staff_code"),
        (
            b'{"transaction_id": "T", "staff_code": "S001", "issued_at": "2026-02-30T10:00:00"}',
            422,
            "issued_at",
        ),
        (
            b'{"transaction_id": "T", "staff_code": "S001", "issued_at": "yesterday"}',
            422,
            "issued_at",
        ),
        (
            b'{"transaction_id": "T", "staff_code": "S001", "issued_at": 1700000000}',
            422,
            "issued_at",
        ),
        (
            b'{"transaction_id": "T", "staff_code": "S001", "issued_at": "2999-01-01T00:00:00Z"}',
            422,
            "issued_at",
        ),
        (
            b'{"transaction_id": "T", "staff_code": "S001", "issued_at": "2001-01-01T00:00:00Z"}',
            422,
            "issued_at",
        ),
        (b'{"transaction_id": "T", "staff_code": "S001", "cashier": "x"}', 422, "cashier"),
    ],
)
def test_invalid_bodies_get_a_json_error_naming_the_field_and_store_nothing(
    client, till, db_session, body, status, field
):
    _, key = till
    response = post(client, key, body)
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["field"] == field
    assert error["message"]
    assert receipt_count(db_session) == 0


@pytest.mark.parametrize("code", ["S404", "S099"])
def test_unknown_or_inactive_staff_is_a_422(client, till, db_session, code):
    _, key = till
    response = post(client, key, {"transaction_id": "T", "staff_code": code})
    assert response.status_code == 422
    assert response.get_json()["error"] == {
        "code": "unknown_staff",
        "field": "staff_code",
        "message": f"No active staff member with code '{code}' at store SH-001.",
    }
    assert receipt_count(db_session) == 0


def test_oversized_body_is_a_413(client, till, db_session):
    _, key = till
    body = json.dumps({"transaction_id": "T", "staff_code": "S001", "pad": "x" * 20_000})
    response = post(client, key, body)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "body_too_large"
    assert receipt_count(db_session) == 0


def test_a_body_that_is_not_json_typed_is_a_415(client, till, db_session):
    _, key = till
    response = post(
        client, key, "transaction_id=T", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert receipt_count(db_session) == 0


def test_a_naive_issued_at_is_read_in_the_store_time_zone(client, till, db_session):
    _, key = till
    local = (utcnow() - timedelta(hours=1)).astimezone(UTC).replace(tzinfo=None) + timedelta(
        hours=8
    )
    response = post(
        client,
        key,
        {
            "transaction_id": "T",
            "staff_code": "S001",
            "issued_at": local.isoformat(timespec="seconds"),
        },
    )
    assert response.status_code == 201
    receipt = db_session.scalars(select(Receipt)).one()
    assert abs(receipt.issued_at - (utcnow() - timedelta(hours=1))) < timedelta(minutes=1)


def test_get_is_not_allowed_and_answers_json(client, till):
    response = client.get("/api/v1/receipts")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_simultaneous_requests_for_one_transaction_store_one_receipt(fresh_engine, make_app):
    """Tills retry on timeouts: parallel requests must converge on one receipt."""
    with Session(fresh_engine) as session, session.begin():
        store = add_store_with_cashier(session)
        key = create_api_key(session, store, actor=CLI, now=utcnow())
    app = make_app(fresh_engine)
    barrier = threading.Barrier(8)
    results: list[tuple[int, str]] = []

    def request() -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(
            "/api/v1/receipts",
            json={"transaction_id": "T-1", "staff_code": "S001"},
            headers={"Authorization": f"Bearer {key.secret}"},
        )
        results.append((response.status_code, response.get_json().get("token", "")))

    threads = [threading.Thread(target=request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * 7 + [201], results
    assert len({token for _, token in results}) == 1
    with Session(fresh_engine) as session:
        assert session.scalar(select(func.count()).select_from(Receipt)) == 1
