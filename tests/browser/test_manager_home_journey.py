"""A store manager's home page leads to an overdue case in one click: the case whose
customer has waited past the deadline is listed first, above a newer open case, and its
link opens that case."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import LivePortal, run_in_app
from tests.browser.desk_navigators import ManagerHome

pytestmark = pytest.mark.browser

STORE_CODE = "BR-HOME"
MANAGER = ("home.manager@browser.test", "browser-home-manager-pw")
LATE = "Customer waited 20 minutes at the only open till and left without paying."
FRESH = "Bread on the shelf was past its date."

#: A store of its own with its manager, and two complaints taken at the counter with the
#: portal's own operation: one three days ago (its first-contact deadline long past), one
#: now. The fresh one is opened first, so the home's order cannot come from the ids.
SEED = f"""
from datetime import timedelta
from portal.admin.operations import create_staff, create_store
from portal.audit import CLI
from portal.auth.operations import create_user
from portal.cases.operations import open_case_manually

store = create_store(session, code={STORE_CODE!r}, name="首页测试店", region="华东",
                     actor=CLI, now=now)
create_staff(session, store_code=store.code, staff_code="H001", name="孙丽", actor=CLI, now=now)
create_user(session, email={MANAGER[0]!r}, role="manager", password={MANAGER[1]!r},
            stores=[store], locale="en", actor=CLI, now=now)
for summary, opened in (({FRESH!r}, now), ({LATE!r}, now - timedelta(days=3))):
    case = open_case_manually(
        session, settings, store=store, category="checkout_wait", summary=summary,
        staff_code="H001", contact_name=None, contact_phone=None, contact_email=None,
        consent=False, actor=CLI, now=opened,
    )
    print(case.id)
"""


@pytest.fixture(scope="module")
def cases(live_portal: LivePortal) -> tuple[LivePortal, int, int]:
    """The live portal, the fresh case's id and the overdue one's."""
    fresh, late = (int(line) for line in run_in_app(live_portal, SEED).split())
    return live_portal, fresh, late


def test_the_home_page_leads_to_the_overdue_case_in_one_click(cases, open_browser):
    portal, fresh, late = cases
    manager = ManagerHome(open_browser("desk", lang="en"), portal.base_url)
    manager.sign_in(*MANAGER, landed=(By.ID, "overdue-cases"))
    assert manager.path() == "/home"

    assert manager.first_case_on_page() == late
    assert manager.overdue_case_ids() == [late]
    assert manager.open_case_ids() == [fresh]
    overdue = manager.text_of(f"#overdue-case-{late}")
    assert "overdue by" in overdue and "Checkout wait" in overdue and LATE[:20] in overdue

    manager.open_case(late)
    assert manager.path() == f"/cases/{late}"
    assert manager.heading().startswith(f"Case #{late} · open")
    assert manager.driver.find_elements(By.CSS_SELECTOR, "h1 .badge-overdue")
    assert manager.text_of("#case-summary") == LATE
