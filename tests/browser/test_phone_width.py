"""The narrowest phone still common, 360 CSS pixels wide, in both languages: the brand in
the header stays on one line, the survey's 0-10 row is readable and tappable without
sideways scrolling, the mystery report's step bar names every page with its done mark,
and no page scrolls sideways. Measured in the page, as the browser laid it out."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from surveys.checklists import get_checklist
from tests.browser.conftest import (
    MANAGER_EMAIL,
    MANAGER_PASSWORD,
    LivePortal,
    phone_browser,
    run_in_portal,
)
from tests.browser.navigators import ManagerNavigator, PhoneLayout

pytestmark = pytest.mark.browser

WIDTH = 360
#: A tap target no smaller than this, in CSS pixels, each way.
MIN_TARGET = 28
STORE = ("BR-NAR", "窄屏测试店")
SHOPPER = ("narrow-shopper@browser.test", "browser-narrow-pw")
REVIEWER = ("narrow-reviewer@browser.test", "browser-narrow-rv")
CHECKLIST = "retail-standard"
#: The report's first and last pages, which are not checklist sections.
FIXED_STEPS = {"zh-CN": ("访店信息", "小票照片"), "en": ("The visit", "Receipt photo")}
END_WORDS = {"zh-CN": ["完全不可能", "非常可能"], "en": ["Not at all likely", "Extremely likely"]}
#: The survey page with its stylesheet, uncompressed: a shopper on a slow phone
#: connection gets it in a second or two.
SURVEY_BYTES = 40_000

# One script, not a flask command a step (each starts the app): a store, a shopper and a
# reviewer; a visit scheduled, accepted, and its first page (the visit facts) saved, so
# that the step bar has one page done and the others to do.
_VISIT = """
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from sqlalchemy.orm import Session
from portal.admin.operations import create_store
from portal.audit import CLI, Actor
from portal.auth.operations import create_user
from portal.calendar import local_today
from portal.mystery.report import VisitFacts, save_facts
from portal.mystery.scheduling import VisitPlan, accept_visit, schedule_visit

with Session(engine) as session, session.begin():
    now = datetime.now(UTC)
    store = create_store(session, code={store!r}, name={name!r}, actor=CLI, now=now)
    shopper, reviewer = (
        create_user(session, email=email, role=role, password=password, actor=CLI, now=now)
        for email, password, role in {users!r}
    )
    yesterday = local_today(store.timezone, now) - timedelta(days=1)
    plan = VisitPlan(store.id, shopper.id, {checklist!r}, yesterday, yesterday + timedelta(days=6),
                     "midday")
    visit = schedule_visit(session, settings, plan, actor=Actor.of_user(reviewer), now=now)
    accept_visit(session, visit, actor=Actor.of_user(shopper), now=now)
    noon = datetime.combine(yesterday, time(12))
    facts = VisitFacts(started_at=noon, ended_at=noon + timedelta(minutes=18), served_by_id=None,
                       served_by_description="收银员，短发，戴眼镜", transaction_id="BR-NAR-0001")
    save_facts(session, visit, facts, actor=Actor.of_user(shopper), now=now)
    Path({out!r}).write_text(str(visit.id))
"""


@pytest.fixture(params=["zh-CN", "en"])
def narrow(request: pytest.FixtureRequest) -> Iterator[tuple[str, Any]]:
    """A fresh 360 px phone browser in each language."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        driver = phone_browser(request.param, Path(profile), width=WIDTH)
        try:
            yield request.param, driver
        finally:
            driver.quit()


@pytest.fixture(scope="module")
def visit_id(live_portal: LivePortal, tmp_path_factory: pytest.TempPathFactory) -> int:
    out = tmp_path_factory.mktemp("narrow") / "visit-id"
    users = [(*SHOPPER, "mystery"), (*REVIEWER, "reviewer")]
    script = _VISIT.format(
        store=STORE[0], name=STORE[1], users=users, checklist=CHECKLIST, out=str(out)
    )
    run_in_portal(live_portal, script)
    return int(out.read_text())


def assert_no_sideways_scroll(page: PhoneLayout) -> None:
    scroll, inner = page.sideways_scroll()
    assert inner == WIDTH
    assert scroll <= inner, page.overflowing()


def test_the_survey_fits_a_360_px_phone(live_portal: LivePortal, narrow) -> None:
    lang, driver = narrow
    receipt = live_portal.issue_receipt(f"NARROW-{lang}")
    page = PhoneLayout(driver, live_portal.base_url)
    page.open(receipt["survey_url"].removeprefix(live_portal.base_url), (By.ID, "nps-field"))

    assert page.brand_lines() < 1.5
    boxes = page.scale_boxes("nps")
    assert [box["text"] for box in boxes] == [str(n) for n in range(11)]
    for box in boxes:
        assert box["radio"], box  # real inputs: the form works without JavaScript
        assert 0 <= box["left"] and box["right"] <= WIDTH, box
        assert box["width"] >= MIN_TARGET and box["height"] >= MIN_TARGET, box
    # Read in order: 0 first and 10 last, on the right; the end words stay.
    assert boxes[0]["left"] == min(box["left"] for box in boxes)
    assert boxes[10]["right"] == max(box["right"] for box in boxes)
    assert page.scale_ends("nps") == END_WORDS[lang]
    assert_no_sideways_scroll(page)

    # Still light: no script, the page and its stylesheet small.
    loaded = page.resources()
    assert not [url for kind, url, _size in loaded if kind == "script" or url.endswith(".js")]
    assert sum(size for _kind, _url, size in loaded) < SURVEY_BYTES, loaded


def test_the_managers_home_fits_with_its_long_menu(live_portal: LivePortal, narrow) -> None:
    lang, driver = narrow
    # Signing in asks for English (?lang=en): the page after it asks for the language back.
    ManagerNavigator(driver, live_portal.base_url).sign_in(MANAGER_EMAIL, MANAGER_PASSWORD)
    page = PhoneLayout(driver, live_portal.base_url)
    page.open(f"/home?lang={lang}")
    assert page.brand_lines() < 1.5
    assert_no_sideways_scroll(page)


def test_the_report_step_bar_names_every_page_and_marks_the_done_ones(
    live_portal: LivePortal, narrow, visit_id: int
) -> None:
    lang, driver = narrow
    locale = "zh_CN" if lang == "zh-CN" else "en"
    sections = get_checklist(CHECKLIST).sections
    first, last = FIXED_STEPS[lang]
    ManagerNavigator(driver, live_portal.base_url).sign_in(*SHOPPER)
    page = PhoneLayout(driver, live_portal.base_url)
    page.open(
        f"/mystery/visits/{visit_id}/report/{sections[1].key}?lang={lang}", PhoneLayout.STEP_BAR
    )

    steps = page.step_bar()
    assert [s["name"] for s in steps] == [first, *(s.title.get(locale) for s in sections), last]
    # The facts are saved: that page alone is done, with a tick instead of its number.
    assert [s["done"] for s in steps] == [True] + [False] * (len(steps) - 1)
    assert [s["mark"] for s in steps] == ["✓", *(str(n) for n in range(2, len(steps) + 1))]
    assert [s["current"] for s in steps] == [i == 2 for i in range(len(steps))]
    assert all(s["visible"] and s["right"] <= WIDTH for s in steps), steps
    assert page.brand_lines() < 1.5
    assert_no_sideways_scroll(page)

    page.open(f"/home?lang={lang}")
    assert_no_sideways_scroll(page)
