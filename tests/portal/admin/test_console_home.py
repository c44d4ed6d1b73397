"""The admin console home: the setup checklist's items appear with their data and go when
it is fixed, closed stores are left out, the queries do not grow with stores, and only
admins and region managers get in."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal.audit import CLI
from portal.models import OutboxMessage, Role
from portal.pos_api.operations import create_api_key, revoke_api_key

EN = {"Accept-Language": "en"}


def item(html: str, name: str) -> tuple[int, str]:
    """The count and the text of the checklist item ``check-<name>``."""
    match = re.search(
        rf'id="check-{name}" data-count="(\d+)">(.*?)</li>\s*(?:<li class="card|</ul>)', html, re.S
    )
    assert match, f"no checklist item {name}"
    return int(match.group(1)), match.group(2)


def home(client, **headers) -> str:
    response = client.get("/admin/", headers=headers or EN)
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.fixture
def admin(make_user, login_as):
    user = make_user(Role.ADMIN)
    login_as(user)
    return user


def test_a_store_without_active_staff_is_listed_until_it_has_some(
    client, admin, make_store, make_staff, db_session
):
    store = make_store("SH-100", name="人民广场店")
    gone = make_staff(store, "S1", active=False)
    count, text = item(home(client), "staff")
    assert count == 1 and "SH-100" in text and "人民广场店" in text
    assert "1 open store has no active staff" in text
    gone.active = True
    db_session.flush()
    count, text = item(home(client), "staff")
    assert count == 0 and "Every open store has active staff" in text


def test_a_store_without_a_live_key_links_to_its_key_page_until_it_gets_one(
    client, admin, make_store, db_session, now
):
    store = make_store("SH-200")
    count, text = item(home(client), "keys")
    assert count == 1 and 'href="/admin/stores/SH-200/keys"' in text
    key = create_api_key(db_session, store, actor=CLI, now=now)
    db_session.flush()
    assert item(home(client), "keys")[0] == 0
    revoke_api_key(db_session, key.api_key.id, actor=CLI, now=now)
    db_session.flush()
    assert item(home(client), "keys")[0] == 1


def test_a_till_with_an_old_key_and_no_receipt_for_a_day_is_reported_quiet(
    client, admin, make_store, make_staff, make_receipt, db_session, now
):
    store = make_store("SH-300")
    cashier = make_staff(store, "S1")
    # A key made an hour ago has not had a day to send: not a quiet till yet.
    create_api_key(db_session, store, actor=CLI, now=now - timedelta(hours=1))
    db_session.flush()
    assert item(home(client), "quiet")[0] == 0
    create_api_key(db_session, store, actor=CLI, now=now - timedelta(days=3))
    make_receipt(store, cashier, now=now - timedelta(hours=25))
    db_session.flush()
    count, text = item(home(client), "quiet")
    assert count == 1 and "SH-300" in text and "24 hours" in text
    make_receipt(store, cashier, now=now - timedelta(hours=2))
    assert item(home(client), "quiet")[0] == 0


def test_closed_stores_are_left_out_of_the_checklist(client, admin, make_store, now):
    make_store("SH-400", closed_at=now - timedelta(days=1))
    html = home(client)
    assert "SH-400" not in html
    assert item(html, "staff")[0] == item(html, "keys")[0] == 0


def test_unsent_mail_counts_waiting_and_failed_with_the_oldest_age(client, admin, db_session, now):
    assert item(home(client), "mail")[0] == 0
    db_session.add_all(
        [
            OutboxMessage(
                to="a@example.com", subject="s", body="b", created_at=now - timedelta(days=3)
            ),
            OutboxMessage(
                to="b@example.com", subject="s", body="b", created_at=now, error="refused"
            ),
            OutboxMessage(to="c@example.com", subject="s", body="b", created_at=now, sent_at=now),
        ]
    )
    db_session.flush()
    count, text = item(home(client), "mail")
    assert count == 2
    assert "1 waiting to be sent, 1 failed" in text and "3 days" in text
    assert 'href="/outbox"' in text


def test_users_who_never_signed_in_are_listed_until_they_do(
    client, admin, make_user, db_session, now
):
    waiting = make_user(Role.HR, email="new.hr@example.com")
    make_user(Role.HR, email="gone@example.com").active = False
    db_session.flush()
    count, text = item(home(client), "users")
    # The signed-in admin is not waiting; the switched-off account is not either.
    assert count == 1 and "new.hr@example.com" in text and "gone@example.com" not in text
    # Each links to the user's page, where a new link is sent.
    assert f'<a href="/admin/users/{waiting.id}"><bdi>new.hr@example.com</bdi></a>' in text
    waiting.last_login_at = now
    db_session.flush()
    assert item(home(client), "users")[0] == 0


def test_the_checklist_costs_the_same_queries_for_many_stores(
    client, admin, make_store, count_queries
):
    make_store()
    home(client)
    before = count_queries()
    home(client)
    one_store = count_queries() - before
    for _ in range(15):
        make_store()
    before = count_queries()
    home(client)
    assert count_queries() - before == one_store


def test_a_region_manager_sees_their_region_read_only_and_nothing_chain_wide(
    client, make_user, make_store, login_as, db_session
):
    east = make_store("EAST-1", region="华东")
    make_store("NORTH-1", region="华北")
    manager = make_user(Role.MANAGER, stores=[east])
    manager.region = "华东"
    db_session.flush()
    login_as(manager)
    html = home(client)
    assert "EAST-1" in html and "NORTH-1" not in html
    assert 'id="check-mail"' not in html and 'id="check-users"' not in html
    assert "read-only" in html


@pytest.mark.parametrize("role", [Role.MANAGER, Role.HR, Role.REVIEWER, Role.MYSTERY])
def test_others_are_refused(client, make_user, make_store, login_as, role):
    # A manager of stores but of no region is not a console user.
    login_as(make_user(role, stores=[make_store()] if role == Role.MANAGER else None))
    assert client.get("/admin/").status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/admin/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_console_home_is_in_chinese(client, admin, make_store):
    make_store("SH-500")
    html = home(client, **{"Accept-Language": "zh-CN"})
    assert "设置清单" in html and "no active staff" not in html


def test_the_menu_leads_admins_and_region_managers_to_the_console(
    client, make_user, make_store, login_as, db_session
):
    store = make_store()
    plain = make_user(Role.MANAGER, stores=[store])
    login_as(plain)
    assert 'href="/admin/"' not in client.get("/home", headers=EN).get_data(as_text=True)
    plain.region = "华东"
    db_session.flush()
    assert 'href="/admin/"' in client.get("/home", headers=EN).get_data(as_text=True)
