"""A survey the CX team writes, end to end, from the browser: the survey owner copies the
default survey, adds a multiple-choice question shown only to unhappy shoppers, tries the
condition in the phone-width preview in both languages, publishes the survey and targets
convenience stores with it. A convenience store's receipt asks the question once the
shopper's answer meets the rule; a supermarket's receipt never asks it; the answer is
counted on the convenience store's page.

The owner and the store manager read English; the shoppers' phones speak Chinese."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import LivePortal, run_in_app
from tests.browser.survey_navigators import (
    Choice,
    ReceiptShopper,
    Rule,
    StoreResults,
    SurveyOwnerNavigator,
)

pytestmark = pytest.mark.browser

CONVENIENCE = ("CV-301", "街角便利店", "convenience", ("C001", "周婷"))
SUPERMARKET = ("SM-302", "城西超市", "supermarket", ("M001", "郑伟"))
OWNER = ("cx.owner@browser.test", "体验团队每周一讨论问卷改版")
MANAGER = ("corner.manager@browser.test", "便利店店长的夜班密码很长")

SURVEY = "convenience_checkout"
TITLE = ("便利店购物调查", "Convenience store survey")
QUESTION = "paid_by"
QUESTION_TEXT = ("您今天是怎么付款的？", "How did you pay today?")
CHOICES = (
    Choice("cash", "现金", "Cash"),
    Choice("card", "银行卡", "Bank card"),
    Choice("mobile", "手机支付", "Mobile payment"),
    Choice("self_checkout", "自助收银机", "Self-checkout machine"),
)
#: Each preview frame's language, the question's text and "other" in it.
PREVIEW_WORDS = (("zh-CN", QUESTION_TEXT[0], "其他"), ("en", QUESTION_TEXT[1], "Other"))
#: The default survey's CSAT question, as the rule's list names it in English.
CSAT_WORDS = "Overall, how satisfied are you"

#: The two stores, each with a cashier and a till key; the CX owner; the convenience
#: store's manager. Made with the portal's own operations (see `run_in_app`).
SEED = f"""
import json
from portal.admin.operations import create_staff, create_store
from portal.audit import CLI
from portal.auth.operations import create_user
from portal.pos_api.operations import create_api_key

keys = {{}}
for code, name, store_format, (staff_code, staff_name) in ({CONVENIENCE!r}, {SUPERMARKET!r}):
    store = create_store(session, code=code, name=name, region="华东", format=store_format,
                         actor=CLI, now=now)
    create_staff(session, store_code=code, staff_code=staff_code, name=staff_name,
                 position="收银员", actor=CLI, now=now)
    keys[code] = create_api_key(session, store, actor=CLI, now=now, label="1号收银台").secret
    if code == {CONVENIENCE[0]!r}:
        corner = store
create_user(session, email={OWNER[0]!r}, role="cx", password={OWNER[1]!r}, name="Mia Xu",
            locale="en", actor=CLI, now=now)
create_user(session, email={MANAGER[0]!r}, role="manager", password={MANAGER[1]!r},
            stores=[corner], name="Wen Li", locale="en", actor=CLI, now=now)
print(json.dumps(keys))
"""


@pytest.fixture(scope="module")
def tills(live_portal: LivePortal) -> dict[str, LivePortal]:
    """The live portal as each store's till sees it (with that store's POS key)."""
    keys: dict[str, str] = json.loads(run_in_app(live_portal, SEED))
    return {code: replace(live_portal, api_key=key) for code, key in keys.items()}


def test_a_conditional_question_reaches_convenience_stores_only(
    live_portal: LivePortal, tills: dict[str, LivePortal], open_browser: Callable[..., Any]
) -> None:
    owner = SurveyOwnerNavigator(open_browser("desk", lang="en"), live_portal.base_url)
    owner.sign_in(*OWNER)

    # A new survey, a copy of the default one, with its own title.
    owner.open_surveys()
    assert owner.heading() == "Surveys"
    owner.create_survey(SURVEY)
    assert owner.path() == f"/surveys/{SURVEY}/draft"
    assert any(f.startswith("Survey created with a draft.") for f in owner.flashes())
    owner.retitle(SURVEY, *TITLE)
    assert owner.heading() == f"{TITLE[1]} {SURVEY}"

    # The question: several answers, "other", shown only when satisfaction is at most 2.
    owner.add_choice_question(
        QUESTION,
        QUESTION_TEXT,
        CHOICES,
        kind="multiple choice",
        other=True,
        rule=Rule(CSAT_WORDS, "is at most", 2),
    )
    assert "The question is saved." in owner.flashes()
    card = owner.draft_question(QUESTION)
    assert QUESTION_TEXT[1] in card and "multiple choice" in card, card
    assert "Shown when all of these hold:" in card and f"{CSAT_WORDS}" in card, card
    assert card.split(CSAT_WORDS, 1)[1].split("\n")[0].endswith("csat is at most 2"), card
    assert owner.draft_question_keys()[-1] == QUESTION
    assert "No problems: this draft can be published." in owner.checks()

    # The preview: a phone-wide frame per language, the condition live in each.
    owner.open_preview()
    assert owner.heading() == f"Survey preview {SURVEY}"
    for lang, words, other in PREVIEW_WORDS:
        with owner.in_preview(lang) as phone:
            assert 360 <= phone.inner_width() <= 390  # a phone's width, less the frame's border
            assert phone.asks(QUESTION) and not phone.question_shown(QUESTION)
            phone.tap("csat", 3)
            assert not phone.question_shown(QUESTION)
            phone.tap("csat", 2)
            phone.wait_shown(QUESTION)
            shown = phone.question_text(QUESTION)
            assert words in shown and other in shown, shown
            phone.tap("csat", 5)
            phone.wait_hidden(QUESTION)

    # Publish, then give the survey to convenience stores.
    owner.open_surveys()
    owner.open_draft(SURVEY)
    owner.publish()
    assert any(f.startswith("Published version 1 ") for f in owner.flashes()), owner.flashes()
    assert owner.latest_version().startswith("Latest published: version 1,")
    owner.open_targeting()
    owner.target_format(TITLE[1], "convenience store")
    assert any(f.startswith("Targeting rule ") for f in owner.flashes()), owner.flashes()
    rule = next((r for r in owner.rules() if SURVEY in r), "")
    assert "format: convenience store" in rule and "every day" in rule, owner.rules()
    assert f"{TITLE[1]}, its latest published version" in rule, rule

    # The tills print a receipt each.
    corner_receipt = tills[CONVENIENCE[0]].issue_receipt("CV301-0001", CONVENIENCE[3][0])
    big_receipt = tills[SUPERMARKET[0]].issue_receipt("SM302-0001", SUPERMARKET[3][0])

    # The supermarket's shopper gets the default survey: the question is not there, under
    # any answer.
    elsewhere = ReceiptShopper(open_browser("phone"), live_portal.base_url)
    elsewhere.open_receipt(big_receipt["survey_url"])
    assert elsewhere.heading() == "购物体验调查" and elsewhere.store_name() == SUPERMARKET[1]
    for csat in (5, 4, 3, 2, 1):
        elsewhere.tap("csat", csat)
        assert not elsewhere.asks(QUESTION)
        assert QUESTION_TEXT[0] not in elsewhere.page_text()

    # The convenience store's shopper: the question appears once the rule holds.
    shopper = ReceiptShopper(open_browser("phone"), live_portal.base_url)
    shopper.open_receipt(corner_receipt["survey_url"])
    assert shopper.heading() == TITLE[0] and shopper.store_name() == CONVENIENCE[1]
    assert shopper.html_lang() == "zh-CN"
    assert shopper.asks(QUESTION) and not shopper.question_shown(QUESTION)
    shopper.tap("nps", 4)
    shopper.tap("csat", 3)
    assert not shopper.question_shown(QUESTION)
    shopper.tap("csat", 2)
    shopper.wait_shown(QUESTION)
    assert QUESTION_TEXT[0] in shopper.question_text(QUESTION)
    shopper.tap(QUESTION, "mobile")
    shopper.tap(QUESTION, "self_checkout")
    shopper.send()
    assert shopper.heading() == "谢谢您的反馈！"
    assert shopper.validation_code(), shopper.page_text()

    # The store's manager reads it on the store's page.
    manager = StoreResults(open_browser("desk", lang="en"), live_portal.base_url)
    manager.sign_in(*MANAGER, landed=(By.ID, f"today-{CONVENIENCE[0]}"))
    manager.open_store_from_home(CONVENIENCE[0])
    caption, options = manager.custom_question(QUESTION)
    assert caption.startswith(QUESTION_TEXT[1]) and "n = 1" in caption, caption
    counted = {o.label: o.count for o in options}
    assert counted["Mobile payment"] == 1 and counted["Self-checkout machine"] == 1, counted
    assert counted.get("Cash", 0) == 0 and counted.get("Bank card", 0) == 0, counted
    assert TITLE[1] in manager.custom_section()
