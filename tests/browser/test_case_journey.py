"""A store manager works an overdue case to the end on a phone: log the first contact,
resolve it with an apology, close it after the return visit."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
import requests

from tests.browser.conftest import (
    PHONE_HEIGHT,
    PHONE_WIDTH,
    LivePortal,
    run_in_portal,
    set_up_store,
)
from tests.browser.navigators import CaseNavigator, ManagerNavigator

pytestmark = pytest.mark.browser

#: A store of its own: the unhappy answers here must not move BR-001's figures, which the
#: dashboard journey checks on the same live portal.
STORE_CODE = "BR-CASE"
MANAGER_EMAIL = "cases@browser.test"
MANAGER_PASSWORD = "browser-cases-pw"

#: Run in the portal's environment: its own SQLite file, which this process cannot reach.
MAKE_OVERDUE = """
from datetime import timedelta
from sqlalchemy import update
from portal.db import utcnow
from portal.models import Case

with engine.begin() as connection:
    connection.execute(
        update(Case).where(Case.id == {case_id}).values(
            first_response_due_at=utcnow() - timedelta(hours=1)
        )
    )
"""


@pytest.fixture(scope="module")
def case_portal(live_portal: LivePortal) -> LivePortal:
    """The live portal, with its till key for a store with its own manager."""
    env = live_portal.env
    key = set_up_store(
        env,
        (STORE_CODE, "个案测试店"),
        ("S001", "王芳", "收银员"),
        (MANAGER_EMAIL, MANAGER_PASSWORD),
    )
    return replace(live_portal, api_key=key)


def complain(live_portal: LivePortal, transaction_id: str) -> None:
    """A shopper answers unhappily and leaves an e-mail address to be contacted on."""
    survey_url = live_portal.issue_receipt(transaction_id)["survey_url"]
    with requests.Session() as shopper:
        page = shopper.get(survey_url, timeout=10)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
        sent = shopper.post(
            survey_url,
            data={
                "csrf_token": token,
                "nps": 2,
                "csat": 1,
                "problem": "y",
                "problem_category": "service_attitude",
                "comment": "收银员不耐烦",
                "contact_consent": "y",
                "contact_email": "kunde@example.com",
            },
            timeout=10,
        )
        assert sent.status_code == 200, sent.text[:500]


def make_overdue(live_portal: LivePortal, case_id: int) -> None:
    run_in_portal(live_portal, MAKE_OVERDUE.format(case_id=case_id))


def test_a_manager_works_an_overdue_case_to_the_end(case_portal, browser, tmp_path: Path):
    complain(case_portal, "CASE-LATE")
    complain(case_portal, "CASE-FRESH")
    manager = ManagerNavigator(browser, case_portal.base_url)
    manager.sign_in(MANAGER_EMAIL, MANAGER_PASSWORD)
    cases = CaseNavigator(browser, case_portal.base_url)
    cases.open_list()
    rows = cases.rows()
    assert len(rows) == 2 and not any(overdue for _, overdue in rows), rows
    late = int(rows[0][0].removeprefix("case-"))  # the first deadline: the first complaint

    make_overdue(case_portal, late)
    cases.open_list()
    assert cases.rows()[0] == (f"case-{late}", True)
    cases.open_case_from_list(f"case-{late}")
    assert cases.state() == "open" and cases.overdue_badge()

    cases.log_contact("Called the customer and apologised on the phone.")
    assert cases.state() == "in progress" and not cases.overdue_badge()
    cases.resolve("apology", "The store manager apologised in person.")
    assert cases.state() == "resolved"
    cases.close("satisfied", "Customer came back and was happy.")
    assert cases.state() == "closed", cases.problem()

    timeline = cases.timeline()
    assert [line.split(" (")[0] for line in timeline] == [
        "Opened",
        "First contact made",
        "Resolved: Apology",
        "Closed: Satisfied",
    ], timeline
    scroll, client = cases.widths()
    assert scroll <= client, "the case page scrolls sideways on a phone"
    shot = tmp_path / "case-page.png"
    cases.save_full_page(shot, PHONE_WIDTH, PHONE_HEIGHT)
    assert shot.stat().st_size > 10_000
