"""Printing paper cards: each card a receipt of its own, the PDF with one A6 page per card
side, every card's short code in its text and its QR code decoding to its survey link.

The PDF is read with `pdf_reading` (no pypdf, pdftotext or pdftoppm on the test machines):
the QR codes are decoded by zbarimg from the PNG images embedded in the PDF, not from a
rendering of the page.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.models import AuditEntry, Receipt, Role
from portal.paper.cards import MAX_PAGES
from portal.receipts import receipt_token, survey_links
from surveys.codes import format_short_code
from surveys.loader import receipt_survey
from tests.conftest import post_form
from tests.portal.paper import pdf_reading

ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def store(make_store):
    return make_store("SH-021", name="上海徐汇店")


@pytest.fixture
def manager(make_user, store, login_as):
    user = make_user(Role.MANAGER, stores=[store])
    login_as(user)
    return user


def _print(client, store, count, language="both", purpose="counter", staff=""):
    data = {
        "store": store.code,
        "count": str(count),
        "language": language,
        "purpose": purpose,
        "staff": staff,
    }
    return post_form(client, "/paper/print", data, headers=ZH)


def _receipts(db_session, store):
    return db_session.scalars(
        select(Receipt).where(Receipt.store_id == store.id).order_by(Receipt.id)
    ).all()


def _decoded_qr_codes(pdf: bytes, folder: Path) -> set[str]:
    assert shutil.which("zbarimg"), "zbar-tools is installed by scripts/system-packages"
    found = set()
    for n, png in enumerate(pdf_reading.images_as_png(pdf)):
        path = folder / f"qr-{n}.png"
        path.write_bytes(png)
        result = subprocess.run(
            ["zbarimg", "--raw", "-q", str(path)], capture_output=True, text=True, check=True
        )
        found |= set(result.stdout.split())
    return found


def test_cards_in_both_languages_are_receipts_with_their_codes_and_qr_codes(
    client, manager, store, db_session, settings, tmp_path
):
    response = _print(client, store, 2, "both")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    pdf = response.data
    receipts = _receipts(db_session, store)
    assert len(receipts) == 2
    assert {r.source for r in receipts} == {"paper"}
    assert {r.staff_id for r in receipts} == {None}
    # Chinese on the front, English on the back: two A6 pages a card.
    assert pdf_reading.page_count(pdf) == 4
    words = pdf_reading.text(pdf)
    for receipt in receipts:
        assert words.count(format_short_code(receipt.short_code)) == 2
    survey = receipt_survey()
    assert survey.question("nps").text.get("zh_CN") in words
    assert survey.question("nps").text.get("en") in words
    assert survey.consent.get("zh_CN") in words.replace("\n", "")
    links = {survey_links(settings, receipt_token(settings, r)).survey_url for r in receipts}
    assert _decoded_qr_codes(pdf, tmp_path) == links
    audit = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "paper.cards_printed")
    ).one()
    assert audit.details["cards"] == 2 and audit.actor_user_id == manager.id


def test_cards_in_one_language_take_one_page_each(client, manager, store, db_session):
    pdf = _print(client, store, 3, "en").data
    assert pdf_reading.page_count(pdf) == 3
    words = pdf_reading.text(pdf)
    assert receipt_survey().question("nps").text.get("en") in words
    assert receipt_survey().question("nps").text.get("zh_CN") not in words


def test_cards_for_one_cashier_name_the_cashier(client, manager, store, make_staff, db_session):
    cashier = make_staff(store, "S031")
    assert _print(client, store, 1, "zh_CN", "receipts", "S031").status_code == 200
    assert [r.staff_id for r in _receipts(db_session, store)] == [cashier.id]


def test_an_unknown_cashier_is_refused_on_its_field(client, manager, store, db_session):
    response = _print(client, store, 1, "zh_CN", "receipts", "NOBODY")
    assert response.status_code == 422
    assert "没有此员工编号的在职收银员" in response.get_data(as_text=True)
    assert _receipts(db_session, store) == []


@pytest.mark.parametrize(
    ("language", "count"), [("both", MAX_PAGES // 2 + 1), ("en", MAX_PAGES + 1)]
)
def test_too_many_cards_are_refused_and_none_issued(
    client, manager, store, db_session, language, count
):
    response = _print(client, store, count, language)
    assert response.status_code == 422
    assert "一次最多打印" in response.get_data(as_text=True)
    assert _receipts(db_session, store) == []


def test_a_manager_prints_only_for_their_own_stores(client, manager, make_store, db_session):
    other = make_store("BJ-009")
    response = _print(client, other, 1)
    assert response.status_code == 400
    count = db_session.scalar(select(func.count()).select_from(Receipt))
    assert count == 0


def test_printing_needs_the_form_token(client, manager, store, db_session):
    response = client.post("/paper/print", data={"store": store.code, "count": "1"})
    assert response.status_code == 400
    assert _receipts(db_session, store) == []
