"""The chain's name, logo and colour and the store's name on the survey and thank-you pages,
the public logo and colour sheets, and the thank-you page's word on when the store calls."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from portal.formatting import localtime
from portal.models import Branding, Case
from tests.conftest import csrf_token_from

EN = {"Accept-Language": "en"}
PNG = b"\x89PNG\r\n\x1a\n" + b"logo bytes"
SHA = hashlib.sha256(PNG).hexdigest()


@pytest.fixture
def branded(db_session) -> Branding:
    row = Branding(
        id=1,
        chain_name_zh="好又多超市",
        chain_name_en="Haoyouduo Markets",
        logo_png=PNG,
        logo_sha256=SHA,
        primary_colour="#1A4D8F",
    )
    db_session.add(row)
    db_session.flush()
    return row


@pytest.fixture
def receipt(make_store, make_staff, make_receipt):
    store = make_store("SH-009", name="徐家汇<店>", timezone="Europe/London")
    return make_receipt(store, make_staff(store, "S001"))


def submit(client, token: str, answers: dict[str, str]):
    url = f"/r/{token}"
    csrf = csrf_token_from(client.get(url, headers=EN).get_data(as_text=True))
    return client.post(url, data={"csrf_token": csrf, **answers}, headers=EN)


def test_the_store_name_is_on_the_survey_and_the_thank_you_page(client, receipt):
    survey = client.get(f"/r/{receipt.token}", headers=EN).get_data(as_text=True)
    assert '<p class="store-name"><bdi>徐家汇&lt;店&gt;</bdi></p>' in survey
    thanks = submit(client, receipt.token, {"nps": "9", "csat": "5"}).get_data(as_text=True)
    assert '<p class="store-name"><bdi>徐家汇&lt;店&gt;</bdi></p>' in thanks


def test_without_branding_the_pages_keep_the_portals_own_look(client, receipt):
    html = client.get(f"/r/{receipt.token}", headers=EN).get_data(as_text=True)
    assert '<span class="brand">Receipt feedback</span>' in html
    assert "/brand/" not in html and "branded" not in html


def test_the_chain_name_logo_and_colour_are_on_both_pages(client, receipt, branded):
    for headers, name in ((EN, "Haoyouduo Markets"), ({"Accept-Language": "zh-CN"}, "好又多超市")):
        html = client.get(f"/r/{receipt.token}", headers=headers).get_data(as_text=True)
        assert f"<span><bdi>{name}</bdi></span>" in html
        assert f'<img class="brand-logo" src="/brand/{SHA}.png" alt=""' in html
        assert '<link rel="stylesheet" href="/brand/1a4d8f.css">' in html
        assert '<body class="shopper branded">' in html
    thanks = submit(client, receipt.token, {"nps": "9", "csat": "5"}).get_data(as_text=True)
    assert "Haoyouduo Markets" in thanks and f"/brand/{SHA}.png" in thanks
    assert "/brand/1a4d8f.css" in thanks


def test_the_logo_is_served_by_its_hash_and_cached_for_ever(client, branded):
    logo = client.get(f"/brand/{SHA}.png")
    assert logo.status_code == 200 and logo.data == PNG and logo.mimetype == "image/png"
    assert logo.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.get(f"/brand/{'0' * 64}.png").status_code == 404
    assert client.get(f"/brand/{'g' * 64}.png").status_code == 404
    assert client.get("/brand/abc.png").status_code == 404


def test_the_colour_sheet_sets_the_accent_and_nothing_else(client):
    sheet = client.get("/brand/1a4d8f.css")
    assert sheet.mimetype == "text/css"
    assert sheet.get_data(as_text=True) == (
        "body.shopper { --accent: #1a4d8f; accent-color: #1a4d8f; }\n"
    )
    assert "immutable" in sheet.headers["Cache-Control"]
    assert client.get("/brand/1a4d8g.css").status_code == 404
    assert client.get("/brand/;}a{b.css").status_code == 404


def test_the_thank_you_page_says_when_the_store_will_call(client, db_session, receipt):
    unhappy = {
        "nps": "2",
        "csat": "1",
        "problem_category": "checkout_wait",
        "contact_consent": "y",
        "contact_phone": "138 0013 8000",
    }
    html = submit(client, receipt.token, unhappy).get_data(as_text=True)
    case = db_session.scalars(select(Case)).one()
    when = localtime(case.first_response_due_at, "Europe/London")
    assert f'<p class="follow-up" id="follow-up">The store will contact you by {when}.</p>' in html
    assert when != localtime(case.first_response_due_at, "Asia/Shanghai")


@pytest.mark.parametrize(
    "answers",
    [
        # unhappy, but no contact details: a case, and nobody to call
        {"nps": "2", "csat": "1", "problem_category": "price"},
        # contact details, but happy: no case
        {"nps": "10", "csat": "5", "contact_consent": "y", "contact_email": "a@example.cn"},
    ],
)
def test_no_call_is_promised_without_contact_details_and_a_case(client, receipt, answers):
    html = submit(client, receipt.token, answers).get_data(as_text=True)
    assert "will contact you" not in html


def test_the_validation_code_is_shown_once_big_with_its_note(client, receipt):
    html = submit(client, receipt.token, {"nps": "9", "csat": "5"}).get_data(as_text=True)
    code = re.search(r'<p class="validation-code" id="validation-code">([^<]+)</p>', html)
    assert code and re.fullmatch(r"[0-9A-Z-]+", code.group(1))
    assert "the code is shown only once and can be used once" in html
