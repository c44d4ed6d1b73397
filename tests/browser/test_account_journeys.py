"""Accounts from the browser: a user who forgot their password gets a new one through a
mailed link (in English); an administrator switches a store manager off while the manager
is signed in, and the manager's open session ends at once (in Chinese)."""

from __future__ import annotations

import json

import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import STORE_CODE, LivePortal, run_in_app, run_in_portal
from tests.browser.desk_navigators import AdminNavigator, DeskNavigator, ManagerHome, mailed_link

pytestmark = pytest.mark.browser

FORGETFUL = ("forgetful.hr@browser.test", "the old hr password")
NEW_PASSWORD = "a brand new sentence to remember"
LEAVER = ("leaver.manager@browser.test", "离职店长以前用的旧密码")

#: Both people, made with the portal's own operation (see `run_in_app`).
ACCOUNTS = f"""
from portal.admin.operations import get_store
from portal.audit import CLI
from portal.auth.operations import create_user

create_user(session, email={FORGETFUL[0]!r}, role="hr", password={FORGETFUL[1]!r},
            name="Lena Hu", actor=CLI, now=now)
create_user(session, email={LEAVER[0]!r}, role="manager", password={LEAVER[1]!r},
            stores=[get_store(session, {STORE_CODE!r})], name="赵强", actor=CLI, now=now)
"""

#: The outbox as the mail server would see it: the bodies of the mail to each address.
MAIL_TO = """
import json
from sqlalchemy import select
from sqlalchemy.orm import Session
from portal.models import OutboxMessage

with Session(engine) as session:
    print(json.dumps({{
        to: list(session.scalars(
            select(OutboxMessage.body).where(OutboxMessage.to == to).order_by(OutboxMessage.id)
        ))
        for to in {addresses!r}
    }}))
"""


def mail_to(portal: LivePortal, *addresses: str) -> dict[str, list[str]]:
    """The mail the portal wrote to each address, oldest first."""
    found: dict[str, list[str]] = json.loads(
        run_in_portal(portal, MAIL_TO.format(addresses=list(addresses)))
    )
    return found


@pytest.fixture(scope="module")
def accounts(live_portal: LivePortal) -> LivePortal:
    run_in_app(live_portal, ACCOUNTS)
    return live_portal


def test_a_forgotten_password_is_replaced_through_a_single_use_link(accounts, open_browser):
    person = DeskNavigator(open_browser("desk", lang="en"), accounts.base_url)
    person.open("/login", (By.ID, "forgot-password"))
    person.follow("/forgot-password", landed=(By.ID, "email"))
    person.type_into("email", FORGETFUL[0])
    person.submit("main form", (By.ID, "reset-requested"))
    answer = person.text_of("#reset-requested")
    assert answer.startswith("If an account exists for this address, we sent it a link")

    # The same answer for an address without an account: the page tells nobody who has one.
    person.open("/forgot-password", (By.ID, "email"))
    person.type_into("email", "nobody.here@browser.test")
    person.submit("main form", (By.ID, "reset-requested"))
    assert person.text_of("#reset-requested") == answer

    mail = mail_to(accounts, FORGETFUL[0], "nobody.here@browser.test")
    assert mail["nobody.here@browser.test"] == []
    assert len(mail[FORGETFUL[0]]) == 1, mail
    link = mailed_link(mail[FORGETFUL[0]][0], "reset-password")
    person.open(link, text="Choose a new password")
    person.type_into("new_password", NEW_PASSWORD)
    person.type_into("confirm_password", NEW_PASSWORD)
    person.submit("main form")
    assert person.path() == "/home"
    assert "Your password was set; you are signed in." in person.flashes()

    person.sign_out()
    person.sign_in(FORGETFUL[0], FORGETFUL[1], landed=(By.ID, "password"))
    assert person.path() == "/login"
    assert "Wrong e-mail or password." in person.errors()
    person.sign_in(FORGETFUL[0], NEW_PASSWORD)
    assert person.path() == "/home"

    # The link again: refused with a page that says why and offers a new one.
    person.open(link, (By.ID, "link-refused"))
    assert person.heading() == "This link does not work"
    assert person.text_of("#link-refused") == (
        "This link is not valid any more: it was already used, or replaced by a newer one."
    )
    assert person.driver.find_elements(By.CSS_SELECTOR, "#ask-again[href='/forgot-password']")


def test_switching_a_manager_off_ends_their_open_session(accounts, console_admin, open_browser):
    manager = ManagerHome(open_browser("desk"), accounts.base_url)
    manager.sign_in(*LEAVER, landed=(By.ID, "overdue-cases"))
    assert manager.path() == "/home" and manager.html_lang() == "zh-CN"

    # At the same time, at head office, in another browser.
    admin = AdminNavigator(open_browser("desk"), accounts.base_url)
    admin.sign_in(*console_admin)
    admin.open_user(LEAVER[0])
    admin.switch_off()
    assert f"{LEAVER[0]} 已停用：其所有会话已结束，API 令牌已撤销。" in admin.flashes()
    assert admin.text_of("#user-status") == "已停用"

    # The manager's next click lands on the sign-in page...
    manager.follow("/cases", within="header.topbar", landed=(By.ID, "password"))
    assert manager.path() == "/login" and manager.heading() == "登录"
    # ...and signing in again is refused.
    manager.sign_in(*LEAVER, landed=(By.ID, "password"))
    assert manager.path() == "/login"
    assert "邮箱或密码错误。" in manager.errors()
