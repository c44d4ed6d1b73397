"""A mystery visit from assignment to an adjusted dispute, on a phone: the reviewer
schedules, the shopper accepts and files the report with a receipt photo, the reviewer
releases it, the store manager disputes an item, the reviewer adjusts the answer."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageDraw

from tests.browser.conftest import LivePortal, flask_command, set_up_store
from tests.browser.navigators import MysteryNavigator

pytestmark = pytest.mark.browser

STORE_CODE = "BR-MYS"
ZONE = ZoneInfo("Asia/Shanghai")
SHOPPER = ("shopper@browser.test", "browser-shopper-pw")
REVIEWER = ("reviewer@browser.test", "browser-reviewer-pw")
MANAGER = ("mystery-manager@browser.test", "browser-mystery-pw")
NARRATIVE = "The assistant greeted me at the door within seconds, smiled and wore a badge."


@pytest.fixture(scope="module")
def mystery_portal(live_portal: LivePortal) -> LivePortal:
    env = live_portal.env
    set_up_store(env, (STORE_CODE, "暗访测试店"), ("M001", "刘洋", "导购"))
    for (email, password), role, extra in (
        (SHOPPER, "mystery", []),
        (REVIEWER, "reviewer", []),
        (MANAGER, "manager", ["--store", STORE_CODE]),
    ):
        flask_command(env, "create-user", email, "--role", role, "--password", password, *extra)
    return live_portal


def receipt_photo(path: Path) -> str:
    image = Image.new("RGB", (300, 500), "white")
    draw = ImageDraw.Draw(image)
    for line in range(12):
        draw.rectangle((20, 30 + line * 35, 40 + line * 17 % 220, 42 + line * 35), fill="black")
    out = io.BytesIO()
    image.save(out, format="JPEG")
    path.write_bytes(out.getvalue())
    return str(path)


def test_shopper_files_reviewer_releases_manager_disputes_reviewer_adjusts(
    mystery_portal: LivePortal, browser, tmp_path: Path
):
    mystery = MysteryNavigator(browser, mystery_portal.base_url)
    local_now = datetime.now(ZONE).replace(tzinfo=None, second=0, microsecond=0)
    today = local_now.date()

    mystery.sign_in_as(*REVIEWER)
    visit_id = mystery.schedule(
        STORE_CODE,
        SHOPPER[0],
        (today - timedelta(days=1)).isoformat(),
        (today + timedelta(days=3)).isoformat(),
        "afternoon",
    )
    assert mystery.state() == "assigned"

    mystery.sign_in_as(*SHOPPER)
    mystery.open_visit(visit_id)
    mystery.act("accept")
    assert mystery.state() == "accepted"
    started = local_now - timedelta(hours=1)
    mystery.report_step(visit_id, "visit")
    mystery.fill_facts(
        started.strftime("%Y-%m-%dT%H:%M"),
        (started + timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M"),
        "刘洋 (导购)",
        "TX-MYSTERY-1",
    )
    for _section in ("environment", "greeting", "needs", "product", "checkout", "farewell"):
        assert "/report/" in browser.current_url, mystery.field_errors()
        mystery.fill_section_well(NARRATIVE)
    assert browser.current_url.endswith("/report/proof"), mystery.field_errors()
    mystery.attach_photo(receipt_photo(tmp_path / "receipt.jpg"))
    mystery.open_visit(visit_id)
    mystery.act("submit")
    assert mystery.state() == "submitted", mystery.page_text()

    mystery.sign_in_as(*REVIEWER)
    mystery.open_visit(visit_id)
    assert "not found in the POS" in mystery.page_text()  # no till transaction TX-MYSTERY-1
    mystery.act("review")
    mystery.act("release", note="Thorough report.")
    assert mystery.state() == "released"
    released_score = mystery.score()
    assert released_score == 100.0

    mystery.sign_in_as(*MANAGER)
    mystery.open_visit(visit_id)
    assert SHOPPER[0] not in mystery.page_text()
    mystery.act("dispute", item="B2", reason="She did not smile: the CCTV at 14:05 shows it.")
    assert mystery.state() == "disputed", mystery.problem()

    mystery.sign_in_as(*REVIEWER)
    mystery.open_visit(visit_id)
    mystery.act(
        "decide",
        outcome="adjusted",
        item="B2",
        value="no",
        comment="CCTV shows no smile at the greeting.",
        note="The store's CCTV evidence is clear.",
    )
    assert mystery.state() == "final", (mystery.problem(), mystery.field_errors())
    assert mystery.score() < released_score
    assert "Dispute decided: report adjusted" in mystery.page_text()
