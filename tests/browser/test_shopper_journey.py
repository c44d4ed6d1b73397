"""A shopper's journey on a phone: receipt from the till API, survey, thank-you page.

The portal runs in its own gunicorn process; the phone is a headless Chromium
(see conftest.py). Selectors live in navigators.py.
"""

from __future__ import annotations

import itertools
import re

import pytest

from surveys.codes import read_validation_code
from tests.browser.conftest import LivePortal
from tests.browser.navigators import ShopperNavigator

pytestmark = pytest.mark.browser

# Canonical codes use Crockford's base 32; the thank-you page shows them in groups of
# four, the last group shorter (surveys.codes.format_validation_code). The smallest code
# has 7 symbols (a 1-symbol serial and a 6-symbol MAC): "XXXX-XXX".
_SYMBOL = "[0-9A-HJKMNP-TV-Z]"
VALIDATION_CODE = re.compile(rf"^{_SYMBOL}{{4}}-{_SYMBOL}{{3,4}}(-{_SYMBOL}{{1,4}})*$")

_transactions = itertools.count(1)


def new_receipt(live_portal: LivePortal, prefix: str) -> str:
    """Issue a receipt through the POS API, as a till does; return its survey link."""
    receipt = live_portal.issue_receipt(f"{prefix}-{next(_transactions):04d}")
    assert receipt["survey_url"].startswith(f"{live_portal.base_url}/r/")
    return str(receipt["survey_url"])


def assert_valid_code(live_portal: LivePortal, code: str) -> None:
    assert VALIDATION_CODE.match(code), code
    # Staff can check it: it reads back to a response serial under the portal's key.
    assert read_validation_code(live_portal.secret_key, code) >= 1


def test_shopper_answers_in_chinese_on_a_phone_and_cannot_answer_twice(live_portal, browser):
    shopper = ShopperNavigator(browser, live_portal.base_url)
    url = new_receipt(live_portal, "ZH")

    shopper.open_receipt(url)
    assert shopper.on_survey()
    assert shopper.html_lang() == "zh-CN"
    assert shopper.heading() == "购物体验调查"
    assert shopper.title() == "购物体验调查"
    assert "您有多大可能向朋友或同事推荐本店？" in shopper.page_text()

    # "What went wrong?" appears only once it matters: here, low satisfaction.
    assert not shopper.problem_block_displayed()
    shopper.answer(nps=3)
    assert not shopper.problem_block_displayed()
    shopper.answer(csat=2)
    assert shopper.problem_block_displayed()

    shopper.answer(
        ratings={"rating_speed": 1},
        problem_category="checkout_wait",
        comment="排队太久了，<b>只开了一个收银台</b>。",
    )
    assert shopper.selected("nps") == "3"
    assert shopper.selected("csat") == "2"
    assert shopper.selected("problem") is None  # the box stays unticked
    shopper.submit()

    assert shopper.on_thanks()
    assert shopper.html_lang() == "zh-CN"
    assert_valid_code(live_portal, shopper.validation_code())

    # Back to the form and reload it: the receipt is spent.
    shopper.back()
    shopper.reload()
    assert shopper.on_already_answered()
    assert not shopper.driver.find_elements(*ShopperNavigator.VALIDATION_CODE)
    # So is opening the link from the receipt again.
    shopper.open_receipt(url)
    assert shopper.on_already_answered()


@pytest.mark.parametrize("browser", ["en"], indirect=True)
def test_missing_nps_is_shown_on_its_field_and_keeps_the_other_answers(live_portal, browser):
    shopper = ShopperNavigator(browser, live_portal.base_url)
    shopper.open_receipt(new_receipt(live_portal, "EN"))
    assert shopper.html_lang() == "en"
    assert shopper.heading() == "How was your visit?"

    comment = "Checkout was quick. <b>Thanks!</b>"
    shopper.answer(csat=4, ratings={"rating_friendliness": 5}, comment=comment)
    shopper.submit()

    assert shopper.on_survey()
    assert shopper.form_alert() == "Please check the answers marked below."
    assert shopper.field_has_error("nps")
    assert shopper.field_errors("nps") == ["Please answer this question."]
    assert shopper.described_by("nps") == {"nps-errors"}
    assert not shopper.field_has_error("csat")
    assert shopper.field_errors("csat") == []
    # Nothing the shopper gave is lost, and the markup came back as text.
    assert shopper.selected("nps") is None
    assert shopper.selected("csat") == "4"
    assert shopper.selected("rating_friendliness") == "5"
    assert shopper.driver.find_element(*ShopperNavigator.COMMENT).get_attribute("value") == comment

    shopper.answer(nps=9)
    shopper.submit()
    assert shopper.on_thanks()
    assert shopper.html_lang() == "en"
    assert_valid_code(live_portal, shopper.validation_code())


@pytest.mark.parametrize("browser", ["zh-CN", "en"], indirect=True)
def test_survey_does_not_scroll_sideways_on_a_390px_phone(live_portal, browser):
    shopper = ShopperNavigator(browser, live_portal.base_url)
    shopper.open_receipt(new_receipt(live_portal, "W"))
    # Low satisfaction, so the problem choices are laid out too.
    shopper.answer(nps=0, csat=1)

    scroll_width, client_width = shopper.widths()
    assert client_width == 390
    assert scroll_width <= client_width, shopper.overflowing_elements()
