"""A counter tablet loses its network: the administrator adds a tablet for the store and
reads its enrolment code; the tablet is enrolled, loads its survey while online (the
service worker keeps a copy) and refuses, with messages, a survey sent unanswered and a
wrong receipt code; then the network is switched off in DevTools — for the page and its
worker — and three shoppers answer; the badge counts three waiting answers and the
portal has none of them; the page, reloaded, comes from the worker's copy with the
three still waiting; the network comes back, the badge says all are sent, and the
portal holds exactly three kiosk answers, counted once in the store's figures."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import STORE_CODE, LivePortal, run_in_portal
from tests.browser.desk_navigators import AdminNavigator
from tests.browser.kiosk_navigators import TabletNavigator

pytestmark = pytest.mark.browser

TABLET_NAME = "收银台平板"
ANSWERS = [(10, 5), (7, 4), (3, 3)]

#: The kiosk answers the portal holds, and the store's figures of channel kiosk.
COUNT_KIOSK = """
from sqlalchemy import text
with engine.connect() as c:
    answers = c.execute(text("SELECT count(*) FROM responses WHERE channel = 'kiosk'")).scalar()
    counted = c.execute(text(
        "SELECT coalesce(sum(responses), 0) FROM store_daily_rollups WHERE channel = 'kiosk'"
    )).scalar()
print(answers, counted)
"""


def kiosk_answers(portal: LivePortal) -> tuple[int, int]:
    answers, counted = run_in_portal(portal, COUNT_KIOSK).split()
    return int(answers), int(counted)


def test_a_tablet_keeps_three_answers_while_offline_and_sends_each_once(
    live_portal: LivePortal, console_admin, open_browser
):
    admin = AdminNavigator(open_browser("desk"), live_portal.base_url)
    admin.sign_in(*console_admin)
    admin.open_console()
    admin.section("/admin/kiosks", (By.ID, "kiosks"))
    admin.choose("store", STORE_CODE)
    admin.type_into("name", TABLET_NAME)
    admin.submit("main form", (By.ID, "enrol-code"))
    code = admin.text_of("#enrol-code")
    before = kiosk_answers(live_portal)

    tablet = TabletNavigator(open_browser("desk"), live_portal.base_url)
    tablet.enrol(code)
    assert tablet.wait_for_badge("sent") == "所有回答均已发送"
    tablet.wait_until_offline_ready()

    # Online: the page checks the answers itself, and the server the typed receipt code.
    assert tablet.send_refused() == {
        "question-nps": "请回答此问题。",
        "question-csat": "请回答此问题。",
    }
    tablet.choose("nps", 9)
    tablet.choose("csat", 5)
    tablet.type_code("00000-00000")
    assert tablet.send_refused() == {"receipt_code-field": "未找到与此代码对应的小票。"}
    assert kiosk_answers(live_portal) == before
    tablet.type_code("")
    tablet.send_and_start_over()
    assert tablet.wait_for_badge("sent") == "所有回答均已发送"
    before = kiosk_answers(live_portal)
    assert before[0] >= 1

    tablet.go_offline()
    assert not tablet.server_reachable()
    for n, (nps, csat) in enumerate(ANSWERS, start=1):
        tablet.answer_and_send(nps, csat)
        tablet.wait_for_badge("offline", f"{n} ")
    assert tablet.wait_for_badge("offline", "3") == "离线 · 3 份回答等待发送"
    assert kiosk_answers(live_portal) == before
    # Reloaded while offline, the page comes from the service worker's copy, the queue
    # from IndexedDB.
    tablet.reload()
    assert tablet.wait_for_badge("offline", "3") == "离线 · 3 份回答等待发送"

    tablet.go_online()
    assert tablet.wait_for_badge("sent") == "所有回答均已发送"
    answers, counted = kiosk_answers(live_portal)
    assert (answers - before[0], counted - before[1]) == (3, 3)
    # Back in the console, the tablet has been seen.
    admin.open("/admin/kiosks", (By.ID, "kiosks"))
    assert TABLET_NAME in admin.text_of("#kiosks") and "已绑定" in admin.text_of("#kiosks")
