"""Personal data typed into a comment never shows on a page, in an export or in a mail."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal.formatting import excerpt
from portal.models import Case, OutboxMessage, Role
from tests.portal.exports.test_exports import csv_rows, fetch, xlsx_cells

NOW = datetime(2026, 11, 22, 6, 5, tzinfo=UTC)
PHONE = "13912345678"
EMAIL = "li.lei@example.com"
CARD = "6222 0212 3456 7890"
COMMENT = f"收银员态度差！请打 {PHONE} 或 {EMAIL}，退款到 {CARD}"
SECRETS = (PHONE, EMAIL, CARD, "li.lei@")


@pytest.fixture
def shop(make_store, make_staff, make_user, make_response):
    store = make_store("SH-001", name="徐汇店", timezone="Asia/Shanghai")
    staff = make_staff(store, "S001", name="李娜")
    manager = make_user(Role.MANAGER, stores=[store], email="boss@sh.example")
    response = make_response(store, staff, nps=2, csat=1, comment=COMMENT, now=NOW)
    return store, staff, manager, response


def assert_masked(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    assert "*******5678" in text


@pytest.mark.parametrize(
    "url",
    [
        "/home",
        "/cases",
        "/stores/SH-001?from=2026-11-01&to=2026-11-30&q=收银员",
        "/cases/{case}",
        "/hr/staff/{staff}?month=2026-11",
    ],
)
def test_pages_mask_comments(client, db_session, shop, login_as, make_user, make_response, url):
    store, staff, manager, response = shop
    case = db_session.scalar(select(Case).where(Case.response_id == response.id))
    # /home: the manager's to-do list shows the open case with the comment's first words.
    login_as(manager)
    page = client.get(url.format(case=case.id, staff=staff.id))
    assert page.status_code == 200, url
    html = page.get_data(as_text=True)
    assert_masked(html)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_mask_comments(client, shop, login_as, fmt):
    login_as(shop[2])
    # Read in English: the export helpers key the columns by their English header words.
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = fetch(client, f"/exports/responses.{fmt}?from=2026-11-01&to=2026-11-30")
    assert response.status_code == 200
    if fmt == "csv":
        (row,) = csv_rows(response)
        comment = row["comment"]
        assert_masked(response.get_data().decode("utf-8"))
    else:
        rows, xml = xlsx_cells(response.get_data())
        comment = rows[1][rows[0].index("comment")] or ""
        assert_masked(xml)
    assert_masked(comment)


def test_the_case_mail_masks_the_comment(db_session, shop):
    (mail,) = db_session.scalars(select(OutboxMessage)).all()
    assert "收银员态度差" in mail.body
    assert_masked(mail.body)


def test_an_excerpt_masks_before_it_cuts():
    """A card's first words: cut first, a phone number across the cut would lose the
    digits the mask recognises it by, and its first seven would show."""
    text = "等" * 70 + f" 请打 {PHONE} 联系我"
    cut = excerpt(text)
    assert cut.endswith("…") and len(cut) <= 81
    assert "1391234" not in cut and "139" not in cut
