"""POS keys in the admin console: created with a label and shown once with a working curl
example, stored as a hash, listed with their last use (written at most once a minute, never
failing a till's request), revoked with a confirmation; region managers only read."""

from __future__ import annotations

import hashlib
import html as html_lib
import json
import logging
import re
import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from portal import create_app
from portal.audit import CLI
from portal.db import utcnow
from portal.models import ApiKey, AuditEntry, Receipt, Role, Store
from portal.pos_api.operations import KEY_PREFIX, create_api_key, record_key_use
from tests.conftest import add_store_with_cashier, csrf_token_from, post_form

EN = {"Accept-Language": "en"}


@pytest.fixture
def store(make_store, make_staff):
    store = make_store("SH-001", name="人民广场店")
    make_staff(store, "S0042")
    return store


@pytest.fixture
def admin(make_user, login_as):
    user = make_user(Role.ADMIN)
    login_as(user)
    return user


def secret_on(html: str) -> str:
    start = html.index(KEY_PREFIX, html.index('id="secret"'))
    return html[start : html.index("<", start)]


def receipt(client, secret: str, transaction_id: str = "T-1", **kwargs):
    return client.post(
        "/api/v1/receipts",
        json={"transaction_id": transaction_id, "staff_code": "S0042"},
        headers={"Authorization": f"Bearer {secret}"},
        **kwargs,
    )


def test_a_created_key_is_shown_once_with_a_curl_example_and_only_its_hash_is_kept(
    client, admin, store, db_session, settings, caplog
):
    caplog.set_level(logging.DEBUG)
    created = post_form(client, "/admin/stores/SH-001/keys", {"label": "till 1"}, headers=EN)
    assert created.status_code == 200
    assert created.headers["Cache-Control"] == "no-store"
    html = created.get_data(as_text=True)
    secret = secret_on(html)
    assert "it will not be shown again" in html
    # The curl example: the real base URL, the key, the documented body with a real cashier.
    assert f"{settings.base_url}/api/v1/receipts" in html
    assert f"Authorization: Bearer {secret}" in html
    assert "&#34;staff_code&#34;: &#34;S0042&#34;" in html
    key = db_session.scalars(select(ApiKey)).one()
    assert key.label == "till 1" and key.store_id == store.id
    assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(key.prefix) and secret not in (key.key_hash, key.prefix)
    audit = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "api_key.create"))
    assert audit.one().details == {"store": "SH-001"}
    # Never again: not on the store's page, not on the list of all keys, not in a log.
    for url in ("/admin/stores/SH-001/keys", "/admin/keys"):
        listed = client.get(url, headers=EN).get_data(as_text=True)
        assert secret not in listed and f"{key.prefix}…" in listed and "till 1" in listed
    assert secret not in caplog.text
    # And it works for the till.
    assert receipt(client, secret).status_code == 201


def test_the_example_request_on_the_page_is_accepted_by_the_api(client, admin, store):
    html = post_form(client, "/admin/stores/SH-001/keys", {"label": "till 1"}).get_data(
        as_text=True
    )
    curl = html_lib.unescape(re.search(r'id="curl-example"><code>(.*?)</code>', html, re.S)[1])
    body = json.loads(re.search(r"-d '(.*)'", curl)[1])
    secret = re.search(r"Bearer (\S+)\"", curl)[1]
    response = client.post(
        "/api/v1/receipts", json=body, headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 201


def test_a_key_needs_a_label(client, admin, store, db_session):
    response = post_form(client, "/admin/stores/SH-001/keys", {"label": "  "}, headers=EN)
    assert response.status_code == 400
    assert "Please give the key a label" in response.get_data(as_text=True)
    assert db_session.scalars(select(ApiKey)).all() == []


def test_a_closed_store_gets_no_key(client, admin, make_store, db_session, now):
    make_store("SH-009", closed_at=now)
    response = post_form(client, "/admin/stores/SH-009/keys", {"label": "till"}, headers=EN)
    assert response.status_code == 409
    assert "This store is closed" in response.get_data(as_text=True)
    assert db_session.scalars(select(ApiKey)).all() == []


def test_the_last_use_is_recorded_with_the_address_and_shown(client, admin, store, db_session, now):
    new = create_api_key(db_session, store, actor=CLI, now=now, label="till 1")
    db_session.flush()
    assert receipt(client, new.secret, environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 201
    db_session.refresh(new.api_key)
    assert new.api_key.last_used_ip == "10.1.2.3"
    assert utcnow() - new.api_key.last_used_at < timedelta(minutes=1)
    html = client.get("/admin/stores/SH-001/keys", headers=EN).get_data(as_text=True)
    assert "from 10.1.2.3" in html


def test_the_last_use_is_written_at_most_once_a_minute(client, store, db_session, now):
    new = create_api_key(db_session, store, actor=CLI, now=now)
    thirty_seconds_ago = utcnow() - timedelta(seconds=30)
    new.api_key.last_used_at, new.api_key.last_used_ip = thirty_seconds_ago, "10.0.0.1"
    db_session.flush()
    assert receipt(client, new.secret, environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 201
    db_session.refresh(new.api_key)
    assert (new.api_key.last_used_at, new.api_key.last_used_ip) == (thirty_seconds_ago, "10.0.0.1")
    # A minute on, the next receipt writes it again.
    new.api_key.last_used_at = utcnow() - timedelta(seconds=61)
    db_session.flush()
    assert (
        receipt(client, new.secret, "T-2", environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code
        == 201
    )
    db_session.refresh(new.api_key)
    assert new.api_key.last_used_ip == "10.9.9.9"


def test_a_stream_of_receipts_writes_the_stamp_once(
    client, store, db_session, now, sent_statements
):
    new = create_api_key(db_session, store, actor=CLI, now=now)
    db_session.flush()
    for n in range(5):
        assert receipt(client, new.secret, f"T-{n}").status_code == 201
    stamps = [s for s in sent_statements if s.lstrip().upper().startswith("UPDATE API_KEYS")]
    assert len(stamps) == 1


def test_the_proxy_address_is_used_when_the_proxy_is_trusted(fresh_engine, settings):
    with Session(fresh_engine) as session, session.begin():
        store = add_store_with_cashier(session)
        new = create_api_key(session, store, actor=CLI, now=utcnow())
        key_id = new.api_key.id
    app = create_app(replace(settings, trusted_proxies=1), bind=fresh_engine)
    response = app.test_client().post(
        "/api/v1/receipts",
        json={"transaction_id": "T-1", "staff_code": "S001"},
        headers={"Authorization": f"Bearer {new.secret}", "X-Forwarded-For": "203.0.113.7"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    assert response.status_code == 201
    with Session(fresh_engine) as session:
        assert session.get(ApiKey, key_id).last_used_ip == "203.0.113.7"


def test_a_failing_stamp_never_fails_the_receipt(client, store, db_session, now, engine):
    new = create_api_key(db_session, store, actor=CLI, now=now)
    db_session.flush()

    def locked(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("UPDATE API_KEYS"):
            # What SQLAlchemy raises for a lock timeout on either database.
            locked = conn.dialect.loaded_dbapi.OperationalError("database is locked")
            raise OperationalError(statement, None, locked)

    event.listen(engine, "before_cursor_execute", locked)
    try:
        response = receipt(client, new.secret)
    finally:
        event.remove(engine, "before_cursor_execute", locked)
    assert response.status_code == 201
    assert db_session.scalars(select(Receipt)).one().transaction_id == "T-1"
    db_session.refresh(new.api_key)
    assert new.api_key.last_used_at is None


def test_a_key_row_locked_by_another_transaction_does_not_hold_the_till_up(fresh_engine, make_app):
    if fresh_engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL (SQLite's write lock is the whole request's)")
    with Session(fresh_engine) as session, session.begin():
        store = add_store_with_cashier(session)
        new = create_api_key(session, store, actor=CLI, now=utcnow())
    client = make_app(fresh_engine).test_client()
    answers: list[int] = []
    with fresh_engine.connect() as other:
        other.execute(text("SELECT id FROM api_keys FOR UPDATE"))
        worker = threading.Thread(
            target=lambda: answers.append(
                client.post(
                    "/api/v1/receipts",
                    json={"transaction_id": "T-1", "staff_code": "S001"},
                    headers={"Authorization": f"Bearer {new.secret}"},
                ).status_code
            )
        )
        worker.start()
        worker.join(timeout=10)
        finished = not worker.is_alive()
        other.rollback()
    worker.join()
    assert finished, "the till waited for another transaction's lock on its key"
    assert answers == [201]


def test_revoking_asks_for_confirmation_then_the_api_refuses_the_key(
    client, admin, store, db_session, now
):
    new = create_api_key(db_session, store, actor=CLI, now=now, label="old till")
    db_session.flush()
    page = client.get(f"/admin/keys/{new.api_key.id}/revoke", headers=EN)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "old till" in html and "Revoke key" in html
    # The key's first characters are a code, not words of the page's language.
    assert f"<code>{new.api_key.prefix}</code>…" in html
    db_session.refresh(new.api_key)
    assert new.api_key.revoked_at is None  # showing the question changes nothing
    done = client.post(
        f"/admin/keys/{new.api_key.id}/revoke", data={"csrf_token": csrf_token_from(html)}
    )
    assert done.status_code == 302 and done.headers["Location"].endswith(
        "/admin/stores/SH-001/keys"
    )
    db_session.refresh(new.api_key)
    assert new.api_key.revoked_at is not None
    assert receipt(client, new.secret).status_code == 401
    listed = client.get("/admin/stores/SH-001/keys", headers=EN).get_data(as_text=True)
    assert "revoked" in listed


def test_posts_without_a_csrf_token_are_refused(client, admin, store, db_session, now):
    new = create_api_key(db_session, store, actor=CLI, now=now)
    db_session.flush()
    assert client.post("/admin/stores/SH-001/keys", data={"label": "x"}).status_code == 400
    assert client.post(f"/admin/keys/{new.api_key.id}/revoke").status_code == 400
    db_session.refresh(new.api_key)
    assert new.api_key.revoked_at is None
    assert len(db_session.scalars(select(ApiKey)).all()) == 1


@pytest.fixture
def region_manager(make_user, make_store, db_session, login_as):
    east = make_store("EAST-1", region="华东")
    user = make_user(Role.MANAGER, stores=[east])
    user.region = "华东"
    db_session.flush()
    login_as(user)
    return user


def test_a_region_manager_reads_their_region_keys_and_changes_nothing(
    client, region_manager, make_store, db_session, now
):
    east = db_session.scalars(select(Store).where(Store.code == "EAST-1")).one()
    north = make_store("NORTH-1", region="华北")
    east_key = create_api_key(db_session, east, actor=CLI, now=now, label="east till")
    north_key = create_api_key(db_session, north, actor=CLI, now=now, label="north till")
    db_session.flush()
    listed = client.get("/admin/keys", headers=EN).get_data(as_text=True)
    assert "east till" in listed and "north till" not in listed
    assert "/revoke" not in listed
    store_page = client.get("/admin/stores/EAST-1/keys", headers=EN)
    assert store_page.status_code == 200
    assert "Create key" not in store_page.get_data(as_text=True)
    assert client.get("/admin/stores/NORTH-1/keys").status_code == 404
    token = csrf_token_from(client.get("/settings/tokens").get_data(as_text=True))
    assert (
        client.post(
            "/admin/stores/EAST-1/keys", data={"csrf_token": token, "label": "x"}
        ).status_code
        == 403
    )
    for key in (east_key, north_key):
        url = f"/admin/keys/{key.api_key.id}/revoke"
        assert client.get(url).status_code == 403
        assert client.post(url, data={"csrf_token": token}).status_code == 403
    assert db_session.scalar(select(ApiKey).where(ApiKey.revoked_at.is_not(None))) is None
    assert len(db_session.scalars(select(ApiKey)).all()) == 2


@pytest.mark.parametrize("role", [Role.HR, Role.REVIEWER, Role.MYSTERY])
def test_other_roles_are_refused(client, make_user, login_as, store, role):
    login_as(make_user(role))
    for url in ("/admin/keys", "/admin/stores/SH-001/keys"):
        assert client.get(url).status_code == 403


def test_an_unknown_store_or_key_is_a_404(client, admin):
    assert client.get("/admin/stores/NOPE/keys").status_code == 404
    assert client.get("/admin/keys/999999/revoke").status_code == 404


def test_the_key_pages_are_in_chinese(client, admin, store, db_session, now):
    create_api_key(db_session, store, actor=CLI, now=now, label="收银台 1")
    db_session.flush()
    zh = {"Accept-Language": "zh-CN"}
    html = client.get("/admin/stores/SH-001/keys", headers=zh).get_data(as_text=True)
    assert "POS 密钥" in html and "Create key" not in html and "never" not in html
    created = post_form(client, "/admin/stores/SH-001/keys", {"label": "收银台 2"}, headers=zh)
    assert "Copy it now" not in created.get_data(as_text=True)


def test_the_stamp_shows_on_the_loaded_key_without_writing_it_again(db_session, store, now):
    new = create_api_key(db_session, store, actor=CLI, now=now)
    db_session.flush()
    assert record_key_use(db_session, new.api_key, address="10.0.0.5", now=now)
    assert new.api_key.last_used_ip == "10.0.0.5" and new.api_key.last_used_at == now
    assert new.api_key not in db_session.dirty
    later = now + timedelta(seconds=59)
    assert not record_key_use(db_session, new.api_key, address="10.0.0.6", now=later)
    assert new.api_key.last_used_ip == "10.0.0.5"
