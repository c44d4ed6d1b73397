"""HR runs a month's service-star awards in a real Chromium: opens the last complete month,
approves two nominations, rejects one with a reason, publishes, and opens a certificate."""

from __future__ import annotations

from datetime import date

import pytest

from portal.calendar import local_today, previous_month
from portal.db import utcnow
from tests.browser.conftest import LivePortal, flask_command, run_in_portal
from tests.browser.navigators import AwardNavigator, ManagerNavigator

pytestmark = pytest.mark.browser

HR_EMAIL = "hr@browser.test"
HR_PASSWORD = "browser-hr-password"
REASON = "Two late arrivals this month: the attendance rule applies."

#: Run in the portal's environment (its own SQLite file): three regions of their own, four
#: cashiers each with 50 answers in the month, so that each region proposes its best
#: (ceil(10 % x 4) = 1) and nobody else's data is touched.
SEED = """
from datetime import date
from sqlalchemy.orm import Session
from portal.models import DailyRollup, Staff, Store
from portal.rollups import sum_staff_months

day = date.fromisoformat("{day}")
with Session(engine) as session, session.begin():
    for r, region in enumerate(["星级一区", "星级二区", "星级三区"], start=1):
        store = Store(code=f"AW-{{r}}", name=f"{{region}}旗舰店", region=region)
        session.add(store)
        session.flush()
        for k, satisfied in enumerate([48, 44, 40, 36], start=1):
            staff = Staff(store_id=store.id, code=f"A{{r}}{{k}}", name=f"星{{r}}号{{k}}")
            session.add(staff)
            session.flush()
            session.add(DailyRollup(
                store_id=store.id, staff_key=staff.id, day=day,
                csat_5=satisfied, csat_3=50 - satisfied,
                nps_10=30, nps_8=12, nps_3=8,
                issued=150, issued_answered=50, responses=50,
            ))
    session.flush()
    sum_staff_months(session)
"""


def last_complete_month() -> date:
    return previous_month(local_today(None, utcnow()))


@pytest.fixture(scope="module")
def award_portal(live_portal: LivePortal) -> tuple[LivePortal, date]:
    month = last_complete_month()
    run_in_portal(live_portal, SEED.format(day=month.replace(day=15).isoformat()))
    flask_command(
        live_portal.env, "create-user", HR_EMAIL, "--role", "hr", "--password", HR_PASSWORD
    )
    return live_portal, month


@pytest.mark.parametrize("browser", ["en"], indirect=True)
def test_hr_decides_publishes_and_prints_a_certificate(award_portal, browser):
    portal, month = award_portal
    key = month.strftime("%Y-%m")
    ManagerNavigator(browser, portal.base_url).sign_in(HR_EMAIL, HR_PASSWORD)
    awards = AwardNavigator(browser, portal.base_url)
    awards.open_list()
    awards.open_month(key)
    assert awards.state() == "in HR review", awards.problem()

    mine = {code: nid for nid, code, _state in awards.nominations() if code.startswith("A")}
    assert sorted(mine) == ["A11", "A21", "A31"], awards.nominations()
    awards.approve(mine["A11"])
    awards.approve(mine["A21"])
    # A rejection without a reason is refused on its field, then sent with one.
    awards.reject(mine["A31"], "")
    assert awards.state() == "in HR review"
    awards.reject(mine["A31"], REASON)
    states = {nid: state for nid, _code, state in awards.nominations()}
    assert states[mine["A11"]] == states[mine["A21"]] == "approved"
    assert states[mine["A31"]] == "rejected"
    # Anyone else's proposals in the shared portal's month are decided too.
    for nid, _code, state in awards.nominations():
        if state == "waiting for a decision":
            awards.approve(nid)

    awards.publish()
    assert awards.state() == "on public notice", awards.problem()
    awards.open_certificate(mine["A11"])
    sides = awards.certificate()
    assert set(sides) == {"zh-CN", "en"}
    assert sides["en"]["title"] == "Service Star"
    assert sides["en"]["name"] == sides["zh-CN"]["name"] == "星1号1"
    assert "星级一区旗舰店" in sides["en"]["store"]
    assert f"{month.year}年{month.month}月" in browser.find_element("id", "certificate-zh-CN").text
    assert awards.printed_navigation_hidden()
