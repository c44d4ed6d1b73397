"""A store manager signs in and reads the store page, charts included, in a real Chromium."""

from __future__ import annotations

import re

import pytest
import requests

from tests.browser.conftest import MANAGER_EMAIL, MANAGER_PASSWORD, STORE_CODE
from tests.browser.navigators import ManagerNavigator

pytestmark = pytest.mark.browser

# (likelihood, satisfaction): 3 promoters, 1 passive, 1 detractor -> NPS 40, CSAT 80 %.
ANSWERS = [(10, 5), (9, 5), (9, 4), (7, 4), (2, 1)]


def answer_survey(survey_url: str, nps: int, csat: int) -> None:
    with requests.Session() as shopper:
        page = shopper.get(survey_url, timeout=10)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
        sent = shopper.post(
            survey_url, data={"csrf_token": token, "nps": nps, "csat": csat}, timeout=10
        )
        assert sent.status_code == 200, sent.text[:500]


def test_a_manager_sees_the_store_page_with_its_charts(live_portal, browser):
    for n, (nps, csat) in enumerate(ANSWERS):
        receipt = live_portal.issue_receipt(f"DASH-{n}")
        answer_survey(receipt["survey_url"], nps, csat)
    manager = ManagerNavigator(browser, live_portal.base_url)
    manager.sign_in(MANAGER_EMAIL, MANAGER_PASSWORD)
    manager.open_store(STORE_CODE)
    values = manager.headline_values()
    assert values[0] == "40"
    assert values[1] == "80 %"
    widths = manager.loaded_charts()
    assert len(widths) >= 2
    assert all(width > 100 for width in widths), widths
