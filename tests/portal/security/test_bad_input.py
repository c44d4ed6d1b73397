"""Bad input (issue 10, item 10): numbers read strictly everywhere, text without NUL,
unpaired surrogates or invalid UTF-8, single-line fields on one line, and right-to-left
user text isolated where it is shown."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from portal.audit import CLI
from portal.db import utcnow
from portal.forms import PortalForm, StrictDecimalField, strict_int
from portal.models import ApiKey, ApiToken, Receipt, Response, Role
from portal.pos_api.operations import create_api_key
from tests.conftest import csrf_token_from, post_form

EN = {"Accept-Language": "en"}
#: What Python's int() or float() reads leniently and no field offers.
LENIENT = ["1_0", "１０", "१०", "٣", " 5", "5 ", "+5", "1e1", "nan", "inf", "0x5"]
GOOD = {"nps": "9", "csat": "5"}


def _count(db_session, model) -> int:
    return db_session.scalar(select(func.count()).select_from(model))


def _all_subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_all_subclasses(sub)}
    return found


def test_every_form_of_the_portal_checks_its_text(app):
    import portal.cli  # noqa: F401 - every area's forms are imported by the app

    forms = {cls for cls in _all_subclasses(FlaskForm) if cls.__module__.startswith("portal.")}
    assert forms and all(issubclass(cls, PortalForm) for cls in forms), sorted(
        cls.__qualname__ for cls in forms if not issubclass(cls, PortalForm)
    )


def test_strict_coerce_and_decimal_field_refuse_lenient_numbers(app):
    for text in LENIENT:
        with pytest.raises(ValueError):
            strict_int(text)
    assert strict_int("12") == 12 and strict_int(12) == 12

    class Fee(PortalForm):
        fee = StrictDecimalField()

    with app.test_request_context(method="POST", data={"fee": "1e3"}):
        form = Fee(meta={"csrf": False})
        assert not form.validate() and form.fee.errors
    with app.test_request_context(method="POST", data={"fee": "12.50"}):
        form = Fee(meta={"csrf": False})
        assert form.validate() and form.fee.data == Decimal("12.50")


# -- the shopper's survey ----------------------------------------------------------------


@pytest.fixture
def survey_url(make_store, make_staff, make_receipt):
    store = make_store("SH-001")
    return f"/r/{make_receipt(store, make_staff(store, 'S001')).token}"


@pytest.mark.parametrize("value", LENIENT)
def test_a_survey_score_in_other_digits_is_refused_and_nothing_stored(
    client, db_session, survey_url, value
):
    page = post_form(client, survey_url, {**GOOD, "nps": value}, headers=EN)
    assert page.status_code == 400
    assert "Please choose one of the numbers." in page.get_data(as_text=True)
    assert _count(db_session, Response) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("comment", "bad\x00comment"),
        ("contact_email", "a@example.com\r\nBcc: x@example.com"),
        ("contact_phone", "138\x000000000"),
    ],
)
def test_a_survey_text_with_nul_or_a_line_break_is_refused(
    client, db_session, survey_url, field, value
):
    data = {**GOOD, field: value}
    if field.startswith("contact"):
        data["contact_consent"] = "y"
    page = post_form(client, survey_url, data, headers=EN)
    assert page.status_code == 400
    assert "cannot be stored" in page.get_data(as_text=True)
    assert _count(db_session, Response) == 0


def test_invalid_utf8_in_a_form_body_is_a_400_not_mojibake(client, db_session, survey_url):
    token = csrf_token_from(client.get(survey_url).get_data(as_text=True))
    body = f"csrf_token={token}&nps=9&csat=5&comment=%E4%BD%A0%FF%FE".encode()
    page = client.post(
        survey_url, data=body, content_type="application/x-www-form-urlencoded", headers=EN
    )
    assert page.status_code == 400
    assert "not valid UTF-8" in page.get_data(as_text=True)
    assert _count(db_session, Response) == 0
    # The same answers in good UTF-8 are stored.
    good = body.replace(b"%FF%FE", b"")
    assert (
        client.post(
            survey_url, data=good, content_type="application/x-www-form-urlencoded"
        ).status_code
        == 200
    )
    assert db_session.scalars(select(Response.comment)).one() == "你"


def test_invalid_utf8_in_a_query_string_is_a_400(client, make_user, login_as, make_store):
    login_as(make_user(Role.ADMIN))
    make_store("SH-001")
    assert client.get("/stores/SH-001?q=%FF").status_code == 400


# -- forms of staff ----------------------------------------------------------------------


@pytest.mark.parametrize("label", ["weekly\nsheet", "weekly\rsheet", "a\x00b", "a\tb", "a\x1bb"])
def test_a_single_line_field_refuses_line_breaks_and_control_characters(
    client, db_session, make_user, login_as, label
):
    login_as(make_user(Role.HR))
    response = post_form(client, "/settings/tokens", {"label": label}, headers=EN)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Keep this on one line." in html or "character" in html
    assert _count(db_session, ApiToken) == 0


POLICY = {
    "customer_weight": "0.6",
    "mystery_weight": "0.2",
    "complaints_weight": "0.2",
    "min_n": "25",
    "top_fraction": "0.15",
    "baseline": "-1.2",
    "scope": "chain",
    "notice_days": "5",
    "channels": ["receipt", "code"],
}


@pytest.mark.parametrize("value", ["1_0", "１０", "٣", "1e1", " 5", "+5"])
@pytest.mark.parametrize("field", ["min_n", "notice_days", "customer_weight", "top_fraction"])
def test_the_policy_form_reads_numbers_strictly(
    client, db_session, make_user, login_as, field, value
):
    from portal.models import RankingPolicy

    login_as(make_user(Role.HR))
    response = post_form(client, "/hr/policy", {**POLICY, field: value}, headers=EN)
    assert response.status_code == 400
    assert "using the digits 0-9" in response.get_data(as_text=True)
    assert _count(db_session, RankingPolicy) == 0


def test_the_policy_form_still_takes_a_negative_baseline(client, db_session, make_user, login_as):
    login_as(make_user(Role.HR))
    assert post_form(client, "/hr/policy", POLICY).status_code == 302


# -- query parameters --------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "days=３０",
        "days=3_0",
        "days=+30",
        "days=%2030",
        "page=1_0",
        "page=１",
        "page=-1",
        "from=２０２６-01-01&to=2026-01-02",
    ],
)
def test_store_page_query_numbers_are_strict(client, make_store, make_user, login_as, query):
    make_store("SH-001")
    login_as(make_user(Role.ADMIN))
    response = client.get(f"/stores/SH-001?{query}", headers=EN)
    assert response.status_code == 400


@pytest.mark.parametrize("months", ["１２", "1_2", "+6", " 6"])
def test_mystery_months_are_strict(client, make_store, make_user, login_as, months):
    make_store("SH-500")
    login_as(make_user(Role.ADMIN))
    assert client.get(f"/mystery/stores/SH-500?months={months}").status_code == 400


def test_a_page_in_ascii_digits_still_works(client, make_store, make_user, login_as):
    make_store("SH-001")
    login_as(make_user(Role.ADMIN))
    assert client.get("/stores/SH-001?page=2&days=30").status_code == 200
    assert client.get("/cases?page=１").status_code == 400


# -- the POS API -------------------------------------------------------------------------


@pytest.fixture
def pos_key(db_session, make_store, make_staff):
    store = make_store("SH-001")
    make_staff(store, "S001")
    created = create_api_key(db_session, store, actor=CLI, now=utcnow())
    db_session.flush()
    return created


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b'{"transaction_id": "T", "staff_code": "S001", "total": 1e3}', 422, "total"),
        (b'{"transaction_id": "T", "staff_code": "S001", "total": 12.5E-1}', 422, "total"),
        (b'{"transaction_id": "T", "staff_code": "S001", "total": "12.50"}', 422, "total"),
        (b'{"transaction_id": "T", "staff_code": "S001", "total": NaN}', 400, None),
        (b'{"transaction_id": "T", "staff_code": "S001", "total": -Infinity}', 400, None),
        (b'{"transaction_id": " T", "staff_code": "S001"}', 422, "transaction_id"),
        (b'{"transaction_id": "T\\r\\n", "staff_code": "S001"}', 422, "transaction_id"),
        (b'{"transaction_id": "T\\u0000", "staff_code": "S001"}', 422, "transaction_id"),
        (b'{"transaction_id": "T\\ud800", "staff_code": "S001"}', 422, "transaction_id"),
        (b'{"transaction_id": "T\xff", "staff_code": "S001"}', 400, None),
    ],
)
def test_pos_bad_numbers_and_text_are_refused_and_nothing_stored(
    client, db_session, pos_key, body, status, field
):
    response = client.post(
        "/api/v1/receipts",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {pos_key.secret}"},
    )
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["message"]
    if field:
        assert error.get("field") == field
    assert _count(db_session, Receipt) == 0


def test_pos_total_with_two_decimals_is_read(client, db_session, pos_key):
    response = client.post(
        "/api/v1/receipts",
        data=json.dumps({"transaction_id": "T", "staff_code": "S001", "total": 12.5}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {pos_key.secret}"},
    )
    assert response.status_code == 201
    assert db_session.scalars(select(Receipt.total_cents)).one() == 1250
    assert _count(db_session, ApiKey) == 1


# -- right-to-left text is isolated where shown ------------------------------------------

RLO = "\u202e"


def test_a_comment_and_a_name_with_a_right_to_left_override_are_isolated(
    client, make_store, make_staff, make_response, make_user, login_as
):
    store = make_store("SH-001", name=f"店{RLO}evil")
    staff = make_staff(store, "S001", name=f"李{RLO}娜")
    make_response(store, staff, comment=f"good {RLO}gnirts")
    login_as(make_user(Role.ADMIN))
    html = client.get("/stores/SH-001", headers=EN).get_data(as_text=True)
    assert re.search(rf'<blockquote dir="auto" class="comment">[^<]*{RLO}gnirts', html)
    assert f"<bdi>店{RLO}evil</bdi>" in html
    assert f"<bdi>李{RLO}娜</bdi>" in html
    # Outside an isolating element, the override appears nowhere.
    stripped = re.sub(r"<bdi>[^<]*</bdi>", "", html)
    stripped = re.sub(r'<(\w+) dir="auto"[^>]*>[^<]*</\1>', "", stripped)
    stripped = re.sub(r"<title>[^<]*</title>", "", stripped)
    stripped = re.sub(r"<option[^>]*>[^<]*</option>", "", stripped)
    assert RLO not in stripped
