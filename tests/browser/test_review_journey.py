"""The monthly service review from a store manager's desk: an alert about their store
waits on their home page until they dismiss it, and last month's review of the store is in
the archive, one click from the menu, with its PDF beside it."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import LivePortal, run_in_app
from tests.browser.desk_navigators import HEADER, DeskNavigator

pytestmark = pytest.mark.browser

STORE_CODE = "BR-REV"
MANAGER = ("review.manager@browser.test", "browser-review-manager-pw")

#: A store of its own with its manager, an alert on its satisfaction (as the weekly check
#: writes one, addressed to that manager), and last month's reviews written by the job.
SEED = f"""
from datetime import timedelta
from portal.admin.operations import create_staff, create_store
from portal.alerts.rules import RuleFields, create_rule
from portal.audit import CLI
from portal.auth.operations import create_user
from portal.calendar import chain_today
from portal.models import Alert, AlertRecipient
from portal.review.operations import generate_monthly_reviews

store = create_store(session, code={STORE_CODE!r}, name="回顾测试店", region="华东",
                     actor=CLI, now=now)
create_staff(session, store_code=store.code, staff_code="R001", name="周敏", actor=CLI, now=now)
manager = create_user(session, email={MANAGER[0]!r}, role="manager", password={MANAGER[1]!r},
                      stores=[store], locale="en", actor=CLI, now=now)
rule = create_rule(session, RuleFields("CSAT below 80 %", "csat", "threshold", 80.0, None,
                   store.id), actor=CLI, now=now)
week = chain_today(session, now) - timedelta(days=14)
alert = Alert(rule_id=rule.id, store_id=store.id, period_start=week,
              period_end=week + timedelta(days=6), signal="threshold", value=71.5,
              limit_value=80.0, n=42, detail={{}}, created_at=now)
session.add(alert)
session.flush()
session.add(AlertRecipient(alert_id=alert.id, user_id=manager.id, mailed_at=now))
month = (chain_today(session, now).replace(day=1) - timedelta(days=1)).replace(day=1)
generate_monthly_reviews(session, settings, month=month, now=now)
print(alert.id, month.strftime("%Y-%m"))
"""


@pytest.fixture(scope="module")
def seeded(live_portal: LivePortal) -> tuple[LivePortal, int, str]:
    """The live portal, the alert's id and the reviewed month (YYYY-MM)."""
    alert_id, month = run_in_app(live_portal, SEED).split()
    return live_portal, int(alert_id), month


def test_the_manager_dismisses_the_alert_and_opens_last_months_review(seeded, open_browser):
    portal, alert_id, month = seeded
    manager = DeskNavigator(open_browser("desk", lang="en"), portal.base_url)
    manager.sign_in(*MANAGER, landed=(By.ID, "home-alerts"))

    alert = manager.text_of(f"#alert-{alert_id}")
    assert STORE_CODE in alert and "Satisfaction (CSAT)" in alert
    assert "below the threshold 80.0 (n = 42)" in alert
    manager.submit(f"#alert-{alert_id} form")
    assert manager.path() == "/home"
    assert not manager.driver.find_elements(By.ID, f"alert-{alert_id}")

    manager.follow("/reviews", within=HEADER)
    assert manager.heading() == "Monthly service reviews"
    review = manager.driver.find_element(
        By.XPATH, f"//main//tr[td[contains(., '{month}')]]//a[contains(., '{STORE_CODE}')]"
    )
    manager.click(review, text=month)
    assert manager.heading().startswith(f"Monthly service review {month} · {STORE_CODE}")
    assert "Figures against targets" in manager.page_text()
    pdf = manager.driver.find_element(By.PARTIAL_LINK_TEXT, "PDF")
    assert str(pdf.get_attribute("href")).endswith(".pdf")
